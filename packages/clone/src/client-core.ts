// The Clone client's state machine (Guide ch. 5, clone.c / clone.py agent; 12/CHP
// and protocols.md §15.3): INITIAL → SYNCING → ACTIVE per server, anti-storm,
// failover on silence, sequence filtering and gap detection. Pure: time comes
// from the injected clock, I/O goes through a port.
import { durationOption, integerOption, systemClock, type Clock, type TimerHandle } from "@zg/core";
import {
  DEFAULT_MAX_BUFFERED,
  DEFAULT_SERVER_TTL,
  DEFAULT_SNAPSHOT_REQUESTS,
  DEFAULT_SUBSCRIBE_WAIT,
} from "./constants.js";
import { HUGZ, KTHXBAI, type KvMsg } from "./protocol/kvmsg.js";

/** The client states of protocols.md §15.3. */
export type CloneClientState = "initial" | "syncing" | "active";

/**
 * What a client does when it finds it has fallen behind (a sequence gap on
 * the update stream: the server's publisher dropped updates for it, the
 * Guide's "Suicidal Snail" case):
 * - `resync`: emit `stream:stale`, then fetch a fresh snapshot from the same server;
 * - `report`: emit `stream:stale` and carry on (the map may miss updates);
 * - `close`: emit `stream:stale` and stop (the component closes with a `ZG_STATE` error).
 */
export type SlowPolicy = "resync" | "report" | "close";

/** Why a client moved to another server. */
export type FailoverReason = "silence" | "unanswered";

/** What the core reports to its shell. */
export type CloneClientCoreEvent =
  | { type: "synced"; server: number; sequence: bigint; size: number; complete: boolean }
  | { type: "update"; key: string; message: KvMsg; previous: KvMsg | undefined; resync: boolean }
  | { type: "failover"; from: number; to: number; reason: FailoverReason }
  | {
      type: "stale";
      server: number;
      expected: bigint;
      got: bigint;
      policy: SlowPolicy;
      /**
       * `gap`: updates went missing; `lag`: a HUGZ arrived more than `maxLag`
       * ms after it was sent; `restart`: the server's HUGZ name another run
       * than its snapshot did (it restarted: updates may be lost or reset).
       */
      reason: "gap" | "lag" | "restart";
      /** With `lag`: how late, ms. */
      lag?: number;
    }
  | { type: "incomplete"; server: number; expected: number; got: number };

/** The I/O of a {@link CloneClientCore}. */
export interface CloneClientPort {
  /** Send `["ICANHAZ?"][subtree]` to server `server`'s snapshot socket. */
  requestSnapshot(server: number, subtree: string): void;
  /** Report an event. */
  emit(event: CloneClientCoreEvent): void;
}

/** Options of {@link CloneClientCore}. */
export interface CloneClientCoreOptions {
  /** Number of servers (1 or 2 in the Guide; any ≥ 1 here). */
  servers: number;
  /** Key prefix this client mirrors; "" = the whole map. @defaultValue "" */
  subtree?: string;
  /** Silence after which the server counts as dead, ms. @defaultValue {@link DEFAULT_SERVER_TTL} */
  serverTtl?: number;
  /** Wait for a first message on the subscription before asking for a snapshot, ms. @defaultValue {@link DEFAULT_SUBSCRIBE_WAIT} */
  subscribeWait?: number;
  /** Snapshot requests to one server before it answers. @defaultValue {@link DEFAULT_SNAPSHOT_REQUESTS} */
  snapshotRequests?: number;
  /** Updates buffered while syncing. @defaultValue {@link DEFAULT_MAX_BUFFERED} */
  maxBuffered?: number;
  /** What to do on a gap. @defaultValue "resync" */
  slowPolicy?: SlowPolicy;
  /**
   * Largest acceptable lag, ms (Suicidal Snail): a HUGZ whose `ts` (the
   * server's wall clock when it sent it) is older than this on arrival means
   * the client has fallen behind, whatever its subtree; handled by
   * `slowPolicy`. Off when unset. Compares two hosts' wall clocks (NTP).
   */
  maxLag?: number;
  /** Wall clock for `maxLag`, epoch ms. @defaultValue Date.now */
  wallClock?: () => number;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
}

/**
 * The Clone client agent without sockets. Per server it knows whether the
 * subscription has been confirmed (a first message, at least a HUGZ, came
 * through: only then can no update fall between the snapshot and the stream),
 * and runs the FSM of protocols.md §15.3:
 *
 * - INITIAL: wait for the subscription (bounded by `subscribeWait`), then send
 *   ICANHAZ if fewer than `snapshotRequests` went unanswered → SYNCING;
 * - SYNCING: KVSYNC entries go to a fresh map, stream updates are buffered; on
 *   KTHXBAI the map is replaced, buffered updates newer than its sequence
 *   applied → ACTIVE; `serverTtl` of silence → next server;
 * - ACTIVE: any message refreshes the server's expiry; updates with a
 *   sequence not above the last are dropped (so HUGZ are); a gap (visible
 *   only to a client of the whole map) is handled by `slowPolicy`;
 *   `serverTtl` of silence → failover to the next server.
 *
 * The map only ever holds what the server confirmed: it equals the snapshot
 * plus every later update, with no gaps.
 */
export class CloneClientCore {
  readonly subtree: string;
  readonly #port: CloneClientPort;
  readonly #clock: Clock;
  readonly #servers: number;
  readonly #serverTtl: number;
  readonly #subscribeWait: number;
  /** The server run named by the snapshot this map came from (`run=` in KTHXBAI). */
  #run: string | undefined;
  readonly #snapshotRequests: number;
  readonly #maxBuffered: number;
  readonly #slowPolicy: SlowPolicy;
  readonly #maxLag: number | undefined;
  readonly #wallClock: () => number;
  readonly #requests: number[];
  readonly #confirmed: boolean[];
  #map = new Map<string, KvMsg>();
  #incoming = new Map<string, KvMsg>();
  #buffer: KvMsg[] = [];
  #overflowed = false;
  #state: CloneClientState = "initial";
  #current = 0;
  #sequence = 0n;
  #synced = false;
  #expiry = 0;
  #timer: TimerHandle = undefined;
  #armed = false;
  #waitingSubscription = false;
  #stopped = false;

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(port: CloneClientPort, options: CloneClientCoreOptions) {
    this.#port = port;
    this.#clock = options.clock ?? systemClock;
    this.#servers = integerOption("servers", options.servers, 1, { min: 1 });
    this.subtree = options.subtree ?? "";
    this.#serverTtl = durationOption("serverTtl", options.serverTtl, DEFAULT_SERVER_TTL, {
      min: 1,
    });
    this.#subscribeWait = durationOption(
      "subscribeWait",
      options.subscribeWait,
      DEFAULT_SUBSCRIBE_WAIT,
    );
    this.#snapshotRequests = integerOption(
      "snapshotRequests",
      options.snapshotRequests,
      DEFAULT_SNAPSHOT_REQUESTS,
      { min: 1 },
    );
    this.#maxBuffered = integerOption("maxBuffered", options.maxBuffered, DEFAULT_MAX_BUFFERED, {
      min: 1,
    });
    this.#slowPolicy = options.slowPolicy ?? "resync";
    this.#maxLag =
      options.maxLag === undefined ? undefined : durationOption("maxLag", options.maxLag, 0);
    this.#wallClock = options.wallClock ?? Date.now;
    this.#requests = Array.from({ length: this.#servers }, () => 0);
    this.#confirmed = Array.from({ length: this.#servers }, () => false);
  }

  /** FSM state. */
  get state(): CloneClientState {
    return this.#state;
  }
  /** Index of the server the client follows. */
  get server(): number {
    return this.#current;
  }
  /** Sequence of the last snapshot or update applied. */
  get sequence(): bigint {
    return this.#sequence;
  }
  /** True once a first snapshot was applied. */
  get synced(): boolean {
    return this.#synced;
  }
  /** The mirrored map (the server's messages, with their sequence numbers). */
  get map(): ReadonlyMap<string, KvMsg> {
    return this.#map;
  }

  /** Starts the FSM on server 0. */
  start(): void {
    this.#enterInitial();
  }

  /** Stops the FSM and its timer. */
  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#armed) this.#clock.clearTimeout(this.#timer);
    this.#armed = false;
  }

  #arm(at: number, fn: () => void): void {
    this.#clearTimer();
    this.#armed = true;
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#armed = false;
        if (!this.#stopped) fn();
      },
      Math.max(0, at - this.#clock.now()),
    );
  }

  #enterInitial(): void {
    if (this.#stopped) return;
    this.#state = "initial";
    this.#incoming = new Map();
    this.#buffer = [];
    this.#overflowed = false;
    if (this.#confirmed[this.#current] === true || this.#subscribeWait === 0) {
      this.#ask();
      return;
    }
    this.#waitingSubscription = true;
    this.#arm(this.#clock.now() + this.#subscribeWait, () => this.#ask());
  }

  /** INITIAL → SYNCING: the request, unless anti-storm holds it back. */
  #ask(): void {
    this.#waitingSubscription = false;
    const s = this.#current;
    if ((this.#requests[s] ?? 0) < this.#snapshotRequests) {
      this.#requests[s] = (this.#requests[s] ?? 0) + 1;
      this.#port.requestSnapshot(s, this.subtree);
    }
    this.#state = "syncing";
    this.#refresh();
  }

  #refresh(): void {
    this.#expiry = this.#clock.now() + this.#serverTtl;
    this.#arm(this.#expiry, () => this.#silence());
  }

  #silence(): void {
    const from = this.#current;
    const reason: FailoverReason = this.#state === "active" ? "silence" : "unanswered";
    this.#confirmed[from] = false;
    this.#current = (from + 1) % this.#servers;
    this.#port.emit({ type: "failover", from, to: this.#current, reason });
    this.#enterInitial();
  }

  /** A message on server `server`'s snapshot socket (KVSYNC or KTHXBAI). */
  onSnapshot(server: number, message: KvMsg): void {
    if (this.#stopped || server !== this.#current || this.#state !== "syncing") return;
    this.#requests[server] = 0;
    this.#refresh();
    if (message.key !== KTHXBAI) {
      if (this.#inSubtree(message.key) && message.body.length > 0) {
        this.#incoming.set(message.key, message);
      }
      return;
    }
    const count = message.properties.get("count");
    if (count !== undefined && Number(count) !== this.#incoming.size) {
      // Entries were lost on the way (a peer's snapshot HWM): ask again.
      this.#port.emit({
        type: "incomplete",
        server,
        expected: Number(count),
        got: this.#incoming.size,
      });
      this.#enterInitial();
      return;
    }
    if (this.#overflowed) {
      this.#enterInitial();
      return;
    }
    const previous = this.#map;
    const resync = this.#synced;
    this.#map = this.#incoming;
    this.#incoming = new Map();
    this.#sequence = message.sequence;
    this.#run = message.properties.get("run");
    this.#state = "active";
    this.#synced = true;
    // Report what changed against the map held before (nothing on a first sync).
    if (resync) {
      for (const [key, entry] of this.#map) {
        const before = previous.get(key);
        if (before === undefined || !before.body.equals(entry.body)) {
          this.#port.emit({ type: "update", key, message: entry, previous: before, resync: true });
        }
      }
      for (const [key, before] of previous) {
        if (!this.#map.has(key)) {
          const gone: KvMsg = { ...before, sequence: message.sequence, body: Buffer.alloc(0) };
          this.#port.emit({ type: "update", key, message: gone, previous: before, resync: true });
        }
      }
    }
    this.#port.emit({
      type: "synced",
      server,
      sequence: message.sequence,
      size: this.#map.size,
      complete: count !== undefined,
    });
    const buffered = this.#buffer;
    this.#buffer = [];
    for (const m of buffered) {
      if (this.#state !== "active") break;
      this.#apply(server, m);
    }
  }

  /** A message on server `server`'s publisher (KVPUB or HUGZ). */
  onPublished(server: number, message: KvMsg): void {
    if (this.#stopped) return;
    if (this.#confirmed[server] !== true) {
      // The server is alive (its stream reaches us): asking it again is not a storm.
      this.#confirmed[server] = true;
      this.#requests[server] = 0;
      if (server === this.#current && this.#waitingSubscription) this.#ask();
    }
    if (server !== this.#current) return;
    if (this.#state === "syncing") {
      if (message.key === HUGZ) return;
      if (this.#buffer.length >= this.#maxBuffered) this.#overflowed = true;
      else this.#buffer.push(message);
      return;
    }
    if (this.#state !== "active") return;
    this.#refresh();
    this.#apply(server, message);
  }

  /** True when a HUGZ names another run of the server than its snapshot did. */
  #restarted(message: KvMsg): boolean {
    const run = message.properties.get("run");
    return run !== undefined && this.#run !== undefined && run !== this.#run;
  }

  #inSubtree(key: string): boolean {
    return this.subtree === "" || key.startsWith(this.subtree);
  }

  #apply(server: number, message: KvMsg): void {
    const isHugz = message.key === HUGZ;
    if (isHugz && this.#restarted(message)) {
      this.#port.emit({
        type: "stale",
        server,
        expected: this.#sequence,
        got: message.sequence,
        policy: this.#slowPolicy,
        reason: "restart",
      });
      if (this.#slowPolicy === "resync") this.#enterInitial();
      else if (this.#slowPolicy === "close") this.stop();
      else this.#run = message.properties.get("run");
      return;
    }
    if (!isHugz && message.sequence <= this.#sequence) return;
    // A gap is visible only when every update reaches this client (whole map).
    const expected = this.#sequence + 1n;
    const gap =
      this.subtree === "" &&
      (isHugz ? message.sequence > this.#sequence : message.sequence > expected);
    const sent = isHugz && this.#maxLag !== undefined ? Number(message.properties.get("ts")) : NaN;
    const lag = Number.isFinite(sent) ? this.#wallClock() - sent : undefined;
    const late = lag !== undefined && lag > (this.#maxLag ?? Infinity);
    if (gap || late) {
      this.#port.emit({
        type: "stale",
        server,
        expected,
        got: message.sequence,
        policy: this.#slowPolicy,
        reason: gap ? "gap" : "lag",
        ...(lag === undefined ? {} : { lag }),
      });
      if (this.#slowPolicy !== "report") {
        if (this.#slowPolicy === "resync") this.#enterInitial();
        else this.stop();
        return;
      }
    }
    if (isHugz) {
      if (message.sequence > this.#sequence) this.#sequence = message.sequence;
      return;
    }
    this.#sequence = message.sequence;
    if (!this.#inSubtree(message.key)) return;
    const previous = this.#map.get(message.key);
    if (message.body.length === 0) this.#map.delete(message.key);
    else this.#map.set(message.key, message);
    this.#port.emit({ type: "update", key: message.key, message, previous, resync: false });
  }
}
