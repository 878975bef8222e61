import { systemClock, type Clock, type Frame } from "@zg/core/pure";

/** Default state-publish interval, 1000 ms: Guide `bstar` / `bstarsrv2` `HEARTBEAT`. */
export const DEFAULT_BSTAR_HEARTBEAT = 1000;

/**
 * The four Binary Star states (Guide ch. 4, "High-Availability Pair"). A
 * server starts as `primary` or `backup` and moves to `active` (serving) or
 * `passive` (standing by).
 */
export type BinaryStarState = "primary" | "backup" | "active" | "passive";

/** Which of the pair a server was configured as. */
export type BinaryStarRole = "primary" | "backup";

/**
 * The FSM's events: the peer's published state (`peer-*`) and a client
 * request arriving on the voter (`client-request`).
 */
export type BinaryStarEvent =
  "peer-primary" | "peer-backup" | "peer-active" | "peer-passive" | "client-request";

/** The split-brain conditions the pair detects: both sides active, or both passive. */
export type BinaryStarSplit = "dual-active" | "dual-passive";

/** The wire code of each state: one frame, ASCII decimal "1".."4" (protocols.md §13.1). */
export const BSTAR_STATE_CODES: Readonly<Record<BinaryStarState, number>> = {
  primary: 1,
  backup: 2,
  active: 3,
  passive: 4,
};

const STATE_BY_CODE: readonly BinaryStarState[] = ["primary", "backup", "active", "passive"];

/** Encodes a state as the Guide's one-frame state message (`"1"`..`"4"`). */
export function encodeBinaryStarState(state: BinaryStarState): Buffer {
  return Buffer.from(String(BSTAR_STATE_CODES[state]), "ascii");
}

/**
 * Decodes a state message: exactly one frame holding one ASCII digit 1..4.
 *
 * @returns the state, or a reason string for anything else (bad input is
 * counted and dropped by the caller, never a state change).
 */
export function decodeBinaryStarState(
  message: readonly Frame[],
): { ok: true; state: BinaryStarState } | { ok: false; reason: string } {
  if (message.length !== 1) return { ok: false, reason: `expected 1 frame, got ${message.length}` };
  const frame = message[0] as Frame;
  if (frame.length !== 1) return { ok: false, reason: `expected 1 byte, got ${frame.length}` };
  const code = (frame[0] as number) - 0x30;
  const state = STATE_BY_CODE[code - 1];
  if (state === undefined) return { ok: false, reason: "state outside 1..4" };
  return { ok: true, state };
}

/** The event a peer state maps to. */
export function peerEvent(state: BinaryStarState): BinaryStarEvent {
  return `peer-${state}`;
}

/** What one FSM step did. */
export interface BinaryStarStep {
  /** State before the event. */
  from: BinaryStarState;
  /** State after the event. */
  to: BinaryStarState;
  /** For `client-request`: serve (true) or drop (false). For peer events: true. */
  accept: boolean;
  /** Set when the event revealed a split brain; the FSM is then failed. */
  split?: BinaryStarSplit;
  /**
   * Set when the step first noticed that this process had been frozen for
   * this many ms (see `stallGuard`): the FSM was restarted in its configured
   * role before the event was handled, and `from` is the state before that.
   */
  stalled?: number;
  /** Why a client request was dropped. */
  reason?: "peer-alive" | "backup-alone" | "witness" | "failed";
}

const ACCEPTED: BinaryStarStep = Object.freeze({ from: "active", to: "active", accept: true });

/** Options of {@link BinaryStarFsm}. */
export interface BinaryStarFsmOptions {
  /** Which of the pair this is. */
  role: BinaryStarRole;
  /** State-publish interval, ms; the peer expires after 2 × heartbeat. @defaultValue {@link DEFAULT_BSTAR_HEARTBEAT} */
  heartbeat?: number;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
  /**
   * Extra condition for every vote-driven takeover (passive → active,
   * primary → active on a vote): the witness check. Called only when the
   * peer has expired. @defaultValue always true (the Guide's pair)
   */
  canTakeOver?: () => boolean;
  /**
   * Stall guard (project-defined, not in the Guide): when a step finds that
   * no {@link BinaryStarFsm.tick} ran for longer than the peer expiry
   * (the process was SIGSTOPped or its event loop blocked), this process's
   * view of the peer is stale, so the FSM restarts in its configured role
   * with a fresh peer expiry, exactly as if the process had been restarted,
   * before it handles the event. @defaultValue true
   */
  stallGuard?: boolean;
}

/**
 * The Binary Star state machine, pure and on an injected clock (Guide
 * `bstar.py` / `bstar.c`, table in protocols.md §13.2):
 *
 * | State | Event | Result |
 * |---|---|---|
 * | primary | peer-backup | → active |
 * | primary | peer-active | → passive |
 * | primary | client-request | accept and → active once the peer expiry has passed (failback protection), else drop |
 * | backup | peer-active | → passive |
 * | backup | client-request | drop (a backup that never saw the primary never serves) |
 * | active | peer-active | **dual-active**: fatal |
 * | passive | peer-primary, peer-backup | → active (peer restarting) |
 * | passive | peer-passive | **dual-passive**: fatal |
 * | passive | client-request | accept and → active once the peer expiry has passed (failover), else drop |
 *
 * Every peer event refreshes the peer expiry (2 × heartbeat) before the
 * step, as `bstar.py` does. After a split the FSM is failed: every later
 * request is dropped. With `stallGuard` (default) a frozen process restarts
 * its FSM before acting on stale input; a backup restarted that way has seen
 * its primary, so it may take over on a vote after the expiry.
 */
export class BinaryStarFsm {
  /** Which of the pair this is. */
  readonly role: BinaryStarRole;
  /** State-publish interval, ms. */
  readonly heartbeat: number;
  /** Peer expiry interval, ms (2 × heartbeat). */
  readonly expiry: number;
  readonly #clock: Clock;
  readonly #canTakeOver: () => boolean;
  readonly #stallGuard: boolean;
  #state: BinaryStarState;
  #peerExpiry: number;
  #lastBeat: number;
  #recovered = false;
  #failed: BinaryStarSplit | undefined;
  #peerSeen = false;

  constructor(options: BinaryStarFsmOptions) {
    this.role = options.role;
    this.heartbeat = options.heartbeat ?? DEFAULT_BSTAR_HEARTBEAT;
    this.expiry = 2 * this.heartbeat;
    this.#clock = options.clock ?? systemClock;
    this.#canTakeOver = options.canTakeOver ?? (() => true);
    this.#stallGuard = options.stallGuard ?? true;
    this.#state = this.role;
    const now = this.#clock.now();
    // bstar.c: peer_expiry starts at now + 2 × heartbeat, so a primary started alone waits that long.
    this.#peerExpiry = now + this.expiry;
    this.#lastBeat = now;
  }

  /** The current state. */
  get state(): BinaryStarState {
    return this.#state;
  }

  /** The split brain that failed the FSM, if any. */
  get failed(): BinaryStarSplit | undefined {
    return this.#failed;
  }

  /** True once a peer state has been received. */
  get peerSeen(): boolean {
    return this.#peerSeen;
  }

  /** True while the peer counts as alive (a state heard within the expiry). */
  get peerAlive(): boolean {
    return this.#peerSeen && this.#clock.now() < this.#peerExpiry;
  }

  /** Monotonic time at which the peer expires. */
  get peerExpiry(): number {
    return this.#peerExpiry;
  }

  /**
   * Called every heartbeat, before publishing: returns the state to publish
   * (and the stall-guard step, when this call noticed a stall).
   */
  tick(): { state: BinaryStarState; step?: BinaryStarStep } {
    const step = this.#guard();
    this.#lastBeat = this.#clock.now();
    return step === undefined ? { state: this.#state } : { state: this.#state, step };
  }

  /** Handles a state received from the peer. */
  peerState(state: BinaryStarState): BinaryStarStep {
    const stalled = this.#guard();
    this.#peerSeen = true;
    this.#peerExpiry = this.#clock.now() + this.expiry;
    return this.#execute(peerEvent(state), stalled);
  }

  /** Handles a client request (a vote): `accept` tells whether to serve it. */
  clientRequest(): BinaryStarStep {
    // Hot path (every request at the active server): active, not failed, not stalled.
    if (this.#state === "active" && this.#failed === undefined) {
      if (!this.#stallGuard || this.#clock.now() - this.#lastBeat <= this.expiry) return ACCEPTED;
    }
    const stalled = this.#guard();
    return this.#execute("client-request", stalled);
  }

  /** Runs one event through the table (after the stall guard and expiry refresh). */
  #execute(event: BinaryStarEvent, guard: BinaryStarStep | undefined): BinaryStarStep {
    const from = this.#state;
    const done = (accept: boolean, extra: Partial<BinaryStarStep> = {}): BinaryStarStep => ({
      // After a stall, `from` is the state before the guard restarted the FSM.
      from: guard?.from ?? from,
      to: this.#state,
      accept,
      ...(guard?.stalled === undefined ? {} : { stalled: guard.stalled }),
      ...extra,
    });
    if (this.#failed !== undefined) {
      return done(
        event !== "client-request",
        event === "client-request" ? { reason: "failed" } : {},
      );
    }
    const now = this.#clock.now();
    const takeOver = (): BinaryStarStep => {
      if (now < this.#peerExpiry) return done(false, { reason: "peer-alive" });
      if (!this.#canTakeOver()) return done(false, { reason: "witness" });
      this.#state = "active";
      return done(true);
    };
    switch (this.#state) {
      case "primary":
        if (event === "peer-backup") this.#state = "active";
        else if (event === "peer-active") this.#state = "passive";
        else if (event === "client-request") return takeOver();
        return done(true);
      case "backup":
        if (event === "peer-active") this.#state = "passive";
        else if (event === "client-request") {
          if (!this.#recovered) return done(false, { reason: "backup-alone" });
          return takeOver();
        }
        return done(true);
      case "active":
        if (event === "peer-active") {
          this.#failed = "dual-active";
          return done(true, { split: "dual-active" });
        }
        return done(true);
      case "passive":
        if (event === "peer-primary" || event === "peer-backup") this.#state = "active";
        else if (event === "peer-passive") {
          this.#failed = "dual-passive";
          return done(true, { split: "dual-passive" });
        } else if (event === "client-request") return takeOver();
        return done(true);
    }
  }

  /** The stall guard: restarts the FSM when no heartbeat ran for longer than the peer expiry. */
  #guard(): BinaryStarStep | undefined {
    if (!this.#stallGuard || this.#failed !== undefined) return undefined;
    const now = this.#clock.now();
    const gap = now - this.#lastBeat;
    if (gap <= this.expiry) return undefined;
    const from = this.#state;
    this.#state = this.role;
    this.#peerExpiry = now + this.expiry;
    this.#lastBeat = now;
    this.#recovered = true;
    return { from, to: this.#state, accept: true, stalled: gap };
  }
}
