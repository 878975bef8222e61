import {
  DeadlineWheel,
  DEFAULT_EXPIRY_GRANULARITY,
  durationOption,
  heartbeatIntervalOption,
  integerOption,
  livenessOption,
  silentAfterOption,
  systemClock,
  TypedEmitter,
  type Clock,
  type Logger,
  type WheelSlot,
} from "@zg/core";
import {
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_LIVENESS,
  MAX_HEARTBEAT_INTERVAL,
  MIN_HEARTBEAT_INTERVAL,
} from "./constants.js";

/** Liveness state of a tracked peer. */
export type PeerState = "alive" | "silent";

/** Events of a {@link PresenceTracker}. */
export interface PresenceEvents<K> {
  /** A key was seen for the first time (or after it was removed or forgotten). */
  "peer:joined": { key: K; interval: number };
  /** A key has been silent for one of its intervals (`silentAfter` of them). */
  "peer:silent": { key: K; silentFor: number };
  /** A key has been silent for interval × liveness and was purged. */
  "peer:expired": { key: K; lastSeen: number; silentFor: number };
  /** An expired key was seen again (it is tracked again). */
  "peer:returned": { key: K; downFor: number };
}

/** Options of {@link PresenceTracker}. Durations in milliseconds. */
export interface PresenceTrackerOptions<K> {
  /** Default interval for peers that do not state their own. @defaultValue {@link DEFAULT_HEARTBEAT_INTERVAL} */
  interval?: number;
  /** Missed intervals before expiry. @defaultValue {@link DEFAULT_HEARTBEAT_LIVENESS} */
  liveness?: number;
  /**
   * Called per peer when nothing has been sent to it for its interval (call
   * {@link PresenceTracker.sent} on every other send). Omit for trackers that
   * only listen (one-way heartbeat receivers).
   */
  sendHeartbeat?: (key: K) => void;
  /** Most peers tracked at once; a new key beyond it is refused (`seen` returns "refused"). @defaultValue 1_000_000 */
  maxPeers?: number;
  /** How many expired keys are remembered to report `peer:returned`. @defaultValue 10_000 */
  rememberExpired?: number;
  /** Sweep granularity (max lateness of an expiry). @defaultValue 10 */
  granularity?: number;
  /**
   * A peer is reported `silent` after this many of its intervals without a
   * message. 1 reports every late heartbeat on a link whose heartbeats arrive
   * about once per interval (one-way, or an idle ping-pong); 1.5 reports a
   * heartbeat that is really missing. Between 1 and `liveness`. @defaultValue 1
   */
  silentAfter?: number;
  /**
   * Send no heartbeats to a peer while it is silent (ping-pong: never queue
   * pings for a peer that may be dead, so a peer returning after an outage
   * receives at most one or two stale heartbeats). One heartbeat (the probe)
   * goes out after the peer was last seen; the next waits until it is seen
   * again. @defaultValue false
   */
  pauseWhenSilent?: boolean;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
  /** Logger for clamped intervals and refused peers. */
  logger?: Logger;
}

/** Counters of a {@link PresenceTracker}. */
export interface PresenceStats {
  peers: number;
  silent: number;
  joined: number;
  expired: number;
  returned: number;
  heartbeatsSent: number;
  refused: number;
  clampedIntervals: number;
}

const EXPIRY = 0;
const SILENCE = 1;
const BEAT = 2;

interface Slot<K> extends WheelSlot {
  peer: PeerInfo<K>;
  kind: typeof EXPIRY | typeof SILENCE | typeof BEAT;
}

interface PeerInfo<K> {
  key: K;
  interval: number;
  silent: boolean;
  /** A heartbeat went out since the peer was last seen. */
  beaten: boolean;
  lastSeen: number;
  expiry: Slot<K>;
  silence: Slot<K>;
  beat: Slot<K> | undefined;
}

/**
 * A table of peers keyed by identity, after the Guide's heartbeating rules:
 * any message from a peer is a sign of life; a peer silent for one interval
 * is `silent`; silent for interval × liveness it is `expired` and purged, so
 * routing tables never keep dead entries. Each peer may have its own interval
 * (an aggressive 100 ms peer and a relaxed 30 s one coexist, each judged by
 * its own deadline). One timer for the whole table, however many peers:
 * deadlines live in buckets of `granularity` ms, so a message from a peer is
 * a few field writes and re-filing a touched deadline is O(1); 100k peers are
 * cheap.
 *
 * @example
 * ```ts
 * const workers = new PresenceTracker<string>({ interval: 1000, sendHeartbeat: (id) => heartbeat(id) });
 * workers.on("peer:expired", ({ key }) => forget(key));
 * workers.seen(id); // on every message from id
 * workers.close();
 * ```
 */
export class PresenceTracker<K = string> extends TypedEmitter<PresenceEvents<K>> {
  readonly interval: number;
  readonly liveness: number;
  readonly #peers = new Map<K, PeerInfo<K>>();
  readonly #wheel: DeadlineWheel<Slot<K>>;
  readonly #gone = new Map<K, number>();
  readonly #clock: Clock;
  readonly #maxPeers: number;
  readonly #rememberExpired: number;
  readonly #logger: Logger | undefined;
  readonly #sendHeartbeat: ((key: K) => void) | undefined;
  readonly #stats: Omit<PresenceStats, "peers" | "silent"> = {
    joined: 0,
    expired: 0,
    returned: 0,
    heartbeatsSent: 0,
    refused: 0,
    clampedIntervals: 0,
  };
  #silentCount = 0;
  #closed = false;
  readonly #pauseWhenSilent: boolean;
  readonly #silentAfter: number;

  constructor(options: PresenceTrackerOptions<K> = {}) {
    super();
    this.interval = heartbeatIntervalOption(
      "interval",
      options.interval,
      DEFAULT_HEARTBEAT_INTERVAL,
    );
    this.liveness = livenessOption("liveness", options.liveness, DEFAULT_HEARTBEAT_LIVENESS);
    this.#maxPeers = integerOption("maxPeers", options.maxPeers, 1_000_000, { min: 1 });
    this.#rememberExpired = integerOption("rememberExpired", options.rememberExpired, 10_000, {
      min: 0,
    });
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.listenerErrorLogger = options.logger;
    const granularity = durationOption(
      "granularity",
      options.granularity,
      DEFAULT_EXPIRY_GRANULARITY,
      { max: 60_000 },
    );
    this.#wheel = new DeadlineWheel<Slot<K>>(
      this.#clock,
      granularity,
      (slot, now) => this.#due(slot, now),
      (error) => this.#logger?.error("presence callback threw", { error: String(error) }),
    );
    this.#sendHeartbeat = options.sendHeartbeat;
    this.#pauseWhenSilent = options.pauseWhenSilent ?? false;
    this.#silentAfter = silentAfterOption(options.silentAfter, this.liveness);
  }

  /** Number of tracked (not expired) peers. */
  get size(): number {
    return this.#peers.size;
  }

  /** True when `key` is tracked. */
  has(key: K): boolean {
    return this.#peers.has(key);
  }

  /** The peer's state and interval, or `undefined`. */
  get(key: K): { state: PeerState; interval: number; lastSeen: number } | undefined {
    const p = this.#peers.get(key);
    if (p === undefined) return undefined;
    return { state: p.silent ? "silent" : "alive", interval: p.interval, lastSeen: p.lastSeen };
  }

  /** The tracked keys. */
  keys(): IterableIterator<K> {
    return this.#peers.keys();
  }

  /** Clamps a peer-announced interval into [10 ms, 1 h] (counted and logged when clamped). */
  clampInterval(interval: number): number {
    if (
      !Number.isFinite(interval) ||
      interval < MIN_HEARTBEAT_INTERVAL ||
      interval > MAX_HEARTBEAT_INTERVAL
    ) {
      this.#stats.clampedIntervals++;
      const clamped = !Number.isFinite(interval)
        ? this.interval
        : Math.min(MAX_HEARTBEAT_INTERVAL, Math.max(MIN_HEARTBEAT_INTERVAL, interval));
      this.#logger?.warn("peer announced an out-of-range heartbeat interval; clamped", {
        interval,
        clamped,
      });
      return clamped;
    }
    return interval;
  }

  /**
   * Records a sign of life from `key` (any message). Adds the key if new.
   * `interval` sets or changes the peer's own interval (clamped).
   *
   * @returns what happened: `joined`, `returned` (it had expired), `alive`
   * (already tracked), or `refused` (table full, or the tracker is closed).
   */
  seen(key: K, interval?: number): "joined" | "returned" | "alive" | "refused" {
    if (this.#closed) return "refused";
    let p = this.#peers.get(key);
    if (p !== undefined && interval !== undefined && interval !== p.interval) {
      interval = this.clampInterval(interval); // an out-of-range announcement is counted once per message
    }
    const now = this.#clock.now();
    if (p !== undefined && (interval === undefined || interval === p.interval)) {
      const iv = p.interval;
      p.lastSeen = now;
      p.beaten = false;
      p.expiry.deadline = now + iv * this.liveness; // later: lazy, re-bucketed when its bucket comes due
      if (p.silent) {
        p.silent = false;
        this.#silentCount--;
        this.#wheel.schedule(p.silence, now + iv * this.#silentAfter);
        if (p.beat !== undefined && p.beat.filed === -1) this.#wheel.schedule(p.beat, now + iv);
      } else {
        p.silence.deadline = now + iv * this.#silentAfter;
      }
      return "alive";
    }
    const iv =
      interval === undefined
        ? (p?.interval ?? this.interval)
        : p === undefined
          ? this.clampInterval(interval)
          : interval;
    if (p === undefined && this.#peers.size >= this.#maxPeers) {
      this.#stats.refused++;
      return "refused";
    }
    const known = p !== undefined;
    if (p === undefined) {
      p = this.#newPeer(key, iv, now);
      this.#peers.set(key, p);
    } else {
      if (p.silent) this.#silentCount--;
      p.interval = iv;
      p.silent = false;
      p.beaten = false;
      p.lastSeen = now;
    }
    this.#wheel.schedule(p.expiry, now + iv * this.liveness);
    this.#wheel.schedule(p.silence, now + iv * this.#silentAfter);
    if (p.beat !== undefined) this.#wheel.schedule(p.beat, now + iv);
    if (known) return "alive";
    const goneAt = this.#gone.get(key);
    if (goneAt !== undefined) {
      this.#gone.delete(key);
      this.#stats.returned++;
      this.emit("peer:returned", { key, downFor: now - goneAt });
      return "returned";
    }
    this.#stats.joined++;
    this.emit("peer:joined", { key, interval: iv });
    return "joined";
  }

  /** Records that something was sent to `key`: postpones its next heartbeat. */
  sent(key: K): void {
    const beat = this.#peers.get(key)?.beat;
    if (beat !== undefined && beat.filed !== -1)
      beat.deadline = this.#clock.now() + beat.peer.interval;
  }

  /** Stops tracking `key` (it left cleanly); no `peer:expired` event. */
  remove(key: K): boolean {
    const p = this.#peers.get(key);
    if (p === undefined) return false;
    if (p.silent) this.#silentCount--;
    this.#peers.delete(key);
    this.#cancel(p);
    return true;
  }

  /** Counters. */
  stats(): PresenceStats {
    return { peers: this.#peers.size, silent: this.#silentCount, ...this.#stats };
  }

  /** Clears every timer and peer. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#wheel.close();
    this.#peers.clear();
    this.#gone.clear();
    this.#silentCount = 0;
    this.removeAllListeners();
  }

  #newPeer(key: K, interval: number, now: number): PeerInfo<K> {
    const p = { key, interval, silent: false, beaten: false, lastSeen: now } as PeerInfo<K>;
    p.expiry = { peer: p, kind: EXPIRY, deadline: Infinity, filed: -1 };
    p.silence = { peer: p, kind: SILENCE, deadline: Infinity, filed: -1 };
    p.beat =
      this.#sendHeartbeat === undefined
        ? undefined
        : { peer: p, kind: BEAT, deadline: Infinity, filed: -1 };
    return p;
  }

  #cancel(p: PeerInfo<K>): void {
    this.#wheel.cancel(p.expiry);
    this.#wheel.cancel(p.silence);
    if (p.beat !== undefined) this.#wheel.cancel(p.beat);
  }

  #due(slot: Slot<K>, now: number): void {
    const p = slot.peer;
    if (this.#peers.get(p.key) !== p) return; // stale: removed or replaced
    if (slot.kind === EXPIRY) this.#expire(p, now);
    else if (slot.kind === SILENCE) this.#silent(p, now);
    else this.#beat(p, now);
  }

  #silent(p: PeerInfo<K>, now: number): void {
    if (p.silent) return;
    p.silent = true;
    this.#silentCount++;
    this.emit("peer:silent", { key: p.key, silentFor: now - p.lastSeen });
  }

  #expire(p: PeerInfo<K>, now: number): void {
    const key = p.key;
    if (p.silent) this.#silentCount--;
    this.#peers.delete(key);
    this.#cancel(p);
    this.#stats.expired++;
    if (this.#rememberExpired > 0) {
      if (this.#gone.size >= this.#rememberExpired) {
        const oldest = this.#gone.keys().next();
        if (!oldest.done) this.#gone.delete(oldest.value);
      }
      this.#gone.set(key, now);
    }
    this.emit("peer:expired", { key, lastSeen: p.lastSeen, silentFor: now - p.lastSeen });
  }

  #beat(p: PeerInfo<K>, now: number): void {
    if (p.beat === undefined) return;
    if (p.silent && p.beaten && this.#pauseWhenSilent) return; // resumed by seen()
    p.beaten = true;
    this.#wheel.schedule(p.beat, now + p.interval);
    this.#stats.heartbeatsSent++;
    try {
      this.#sendHeartbeat?.(p.key);
    } catch (error) {
      this.#logger?.error("sendHeartbeat callback threw", { error: String(error) });
    }
  }
}
