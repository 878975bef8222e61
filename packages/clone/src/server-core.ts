// The Clone server's state machine (Guide ch. 5, clonesrv5/clonesrv6; 12/CHP):
// the key-value map, the sequence, TTLs, bounds, duplicate suppression and the
// HA pair's pending list. Pure: time comes from the injected clock, no sockets.
import { integerOption, systemClock, type Clock } from "@zg/core";
import {
  DEFAULT_DEDUP_WINDOW,
  DEFAULT_MAX_KEY_SIZE,
  DEFAULT_MAX_KEYS,
  DEFAULT_MAX_PENDING,
  DEFAULT_MAX_VALUE_SIZE,
  DEFAULT_PENDING_TTL,
} from "./constants.js";
import { hugz, ttlOf, type KvMsg } from "./protocol/kvmsg.js";

/** Why a server refused a client update (nothing of it was applied). */
export type RefusalReason = "key-size" | "value-size" | "max-keys" | "reserved-key";

/** Options of {@link CloneServerCore}. */
export interface CloneServerCoreOptions {
  /** Largest key, bytes. @defaultValue {@link DEFAULT_MAX_KEY_SIZE} (255) */
  maxKeySize?: number;
  /** Largest value, bytes. @defaultValue {@link DEFAULT_MAX_VALUE_SIZE} (1 MiB) */
  maxValueSize?: number;
  /** Most keys held. @defaultValue {@link DEFAULT_MAX_KEYS} */
  maxKeys?: number;
  /** Recent update UUIDs remembered for duplicate suppression. @defaultValue {@link DEFAULT_DEDUP_WINDOW} */
  dedupWindow?: number;
  /** Most pending updates of a passive server. @defaultValue {@link DEFAULT_MAX_PENDING} */
  maxPending?: number;
  /** How long a pending update is kept, ms. @defaultValue {@link DEFAULT_PENDING_TTL} */
  pendingTtl?: number;
  /** Time source (monotonic ms). @defaultValue systemClock */
  clock?: Clock;
}

/** What {@link CloneServerCore.receive} did with a client update. */
export type ReceiveResult =
  | { kind: "published"; message: KvMsg }
  | { kind: "refused"; reason: RefusalReason }
  | { kind: "duplicate" }
  | { kind: "pending" }
  | { kind: "dropped"; reason: "no-uuid" };

/** What {@link CloneServerCore.replicate} did with an update from the active peer. */
export type ReplicateResult = "applied" | "stale" | "gap";

/** Counters of a {@link CloneServerCore}. */
export interface CloneServerCoreStats {
  /** Keys held now. */
  keys: number;
  /** Updates published (sets, deletes, expiries, republished pending). */
  published: number;
  /** Client updates refused over a bound. */
  refused: number;
  /** Client updates dropped as duplicates (UUID seen before). */
  duplicates: number;
  /** Keys removed by TTL expiry. */
  expired: number;
  /** Updates on the pending list now (passive server). */
  pending: number;
  /** Pending updates dropped (list full, too old, no UUID). */
  pendingDropped: number;
  /** Pending updates republished on takeover. */
  republished: number;
  /** Updates applied from the active peer (passive server). */
  replicated: number;
}

interface Stored {
  message: KvMsg;
  /** Monotonic expiry time, ms; undefined without a ttl. */
  expiresAt: number | undefined;
}

interface Pending {
  message: KvMsg;
  receivedAt: number;
}

/** Hex of a non-empty UUID, or undefined. */
function uuidKey(uuid: Buffer): string | undefined {
  return uuid.length === 0 ? undefined : uuid.toString("hex");
}

function withTtl(message: KvMsg, ms: number): KvMsg {
  const properties = new Map(message.properties);
  properties.set("ttl", (Math.max(0, ms) / 1000).toFixed(3));
  return { ...message, properties };
}

/**
 * The Clone server's state (Guide `clonesrv5`/`clonesrv6`), without sockets:
 *
 * - {@link receive}: a client update (KVSET). Active: bounds checked first
 *   (an update over a bound is refused and nothing of it applied), a
 *   duplicate UUID dropped, then `++sequence` assigned, stored (an empty body
 *   deletes) and returned for publishing. Passive: kept on the pending list
 *   by UUID (model 6).
 * - {@link replicate}: a passive server applies the active peer's KVPUB
 *   (removing it from pending, remembering its UUID so the client's own copy
 *   is dropped later).
 * - {@link activate}: takeover: the pending list is republished with new
 *   sequence numbers, in arrival order, TTLs reduced by the time spent waiting.
 * - {@link flush}: expired keys are deleted and their deletes returned for
 *   publishing (each with a new sequence number).
 * - {@link snapshot}: the entries under a subtree, each with its remaining
 *   ttl, and the sequence they are consistent with.
 *
 * TTLs run on the injected monotonic clock; the `ttl` property of a KVSYNC
 * entry is the remaining time in seconds (12/CHP leaves it open).
 */
export class CloneServerCore {
  readonly #clock: Clock;
  readonly #maxKeySize: number;
  readonly #maxValueSize: number;
  readonly #maxKeys: number;
  readonly #dedupWindow: number;
  readonly #maxPending: number;
  readonly #pendingTtl: number;
  readonly #map = new Map<string, Stored>();
  readonly #ttlKeys = new Set<string>();
  readonly #seen = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  #sequence = 0n;
  #mode: "active" | "passive" = "active";
  readonly #stats = {
    published: 0,
    refused: 0,
    duplicates: 0,
    expired: 0,
    pendingDropped: 0,
    republished: 0,
    replicated: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: CloneServerCoreOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#maxKeySize = integerOption("maxKeySize", options.maxKeySize, DEFAULT_MAX_KEY_SIZE, {
      min: 1,
      max: 255,
    });
    this.#maxValueSize = integerOption(
      "maxValueSize",
      options.maxValueSize,
      DEFAULT_MAX_VALUE_SIZE,
      { min: 1 },
    );
    this.#maxKeys = integerOption("maxKeys", options.maxKeys, DEFAULT_MAX_KEYS, { min: 1 });
    this.#dedupWindow = integerOption("dedupWindow", options.dedupWindow, DEFAULT_DEDUP_WINDOW, {
      min: 0,
    });
    this.#maxPending = integerOption("maxPending", options.maxPending, DEFAULT_MAX_PENDING, {
      min: 1,
    });
    this.#pendingTtl = integerOption("pendingTtl", options.pendingTtl, DEFAULT_PENDING_TTL, {
      min: 1,
    });
  }

  /** The last sequence number assigned (or replicated); 0 before any update. */
  get sequence(): bigint {
    return this.#sequence;
  }

  /** `active` (applies updates) or `passive` (keeps them pending). */
  get mode(): "active" | "passive" {
    return this.#mode;
  }

  /** Keys held. */
  get size(): number {
    return this.#map.size;
  }

  /** The stored message of `key` (with its sequence), or undefined. */
  get(key: string): KvMsg | undefined {
    return this.#map.get(key)?.message;
  }

  /** Counters. */
  stats(): CloneServerCoreStats {
    return { keys: this.#map.size, pending: this.#pending.size, ...this.#stats };
  }

  /** Checks the bounds for `message` against the current map; undefined when it fits. */
  check(message: KvMsg): RefusalReason | undefined {
    if (message.key === "" || message.key === "HUGZ" || message.key === "KTHXBAI") {
      return "reserved-key";
    }
    if (Buffer.byteLength(message.key, "utf8") > this.#maxKeySize) return "key-size";
    if (message.body.length > this.#maxValueSize) return "value-size";
    if (message.body.length > 0 && !this.#map.has(message.key) && this.#map.size >= this.#maxKeys) {
      return "max-keys";
    }
    return undefined;
  }

  /** A client update arrived on the collector. See the class description. */
  receive(update: KvMsg): ReceiveResult {
    const reason = this.check(update);
    if (reason !== undefined) {
      this.#stats.refused++;
      return { kind: "refused", reason };
    }
    const id = uuidKey(update.uuid);
    if (id !== undefined && this.#seen.has(id)) {
      this.#stats.duplicates++;
      return { kind: "duplicate" };
    }
    if (this.#mode === "passive") {
      if (id === undefined) {
        this.#stats.pendingDropped++;
        return { kind: "dropped", reason: "no-uuid" };
      }
      if (this.#pending.has(id)) {
        this.#stats.duplicates++;
        return { kind: "duplicate" };
      }
      if (this.#pending.size >= this.#maxPending) {
        const oldest = this.#pending.keys().next().value as string;
        this.#pending.delete(oldest);
        this.#stats.pendingDropped++;
      }
      this.#pending.set(id, { message: update, receivedAt: this.#clock.now() });
      return { kind: "pending" };
    }
    return { kind: "published", message: this.#publish(update, ttlOf(update)) };
  }

  /** Assigns the next sequence, stores (or deletes) and remembers the UUID. */
  #publish(update: KvMsg, ttl: number | undefined): KvMsg {
    const message: KvMsg = { ...update, sequence: ++this.#sequence };
    this.#store(message, ttl);
    this.#remember(message.uuid);
    this.#stats.published++;
    return message;
  }

  #store(message: KvMsg, ttl: number | undefined): void {
    if (message.body.length === 0) {
      this.#map.delete(message.key);
      this.#ttlKeys.delete(message.key);
      return;
    }
    const expiresAt = ttl === undefined ? undefined : this.#clock.now() + ttl;
    this.#map.set(message.key, { message, expiresAt });
    if (expiresAt === undefined) this.#ttlKeys.delete(message.key);
    else this.#ttlKeys.add(message.key);
  }

  #remember(uuid: Buffer): void {
    const id = uuidKey(uuid);
    if (id === undefined || this.#dedupWindow === 0) return;
    this.#seen.delete(id);
    this.#seen.add(id);
    if (this.#seen.size > this.#dedupWindow) {
      this.#seen.delete(this.#seen.keys().next().value as string);
    }
  }

  /**
   * Passive server: an update the active peer published (KVPUB, its sequence
   * kept). Removes its UUID from pending and remembers it; applies it when it
   * is the next sequence. `stale` (not newer: dropped), `gap` (sequences
   * missing: the caller re-syncs from the peer's snapshot; the update is not
   * applied).
   */
  replicate(message: KvMsg): ReplicateResult {
    const id = uuidKey(message.uuid);
    if (id !== undefined) {
      this.#pending.delete(id);
      this.#remember(message.uuid);
    }
    if (message.sequence <= this.#sequence) return "stale";
    if (message.sequence !== this.#sequence + 1n) return "gap";
    this.#sequence = message.sequence;
    this.#store(message, ttlOf(message));
    this.#stats.replicated++;
    return "applied";
  }

  /**
   * Replaces the whole state with a snapshot (a passive server's copy of its
   * peer, or a restore from disk): entries keep their sequence and their ttl
   * (remaining seconds). The sequence never goes backwards, unless `exact`
   * (a passive server adopting its active peer's numbering).
   */
  load(entries: Iterable<KvMsg>, sequence: bigint, { exact = false } = {}): void {
    this.#map.clear();
    this.#ttlKeys.clear();
    for (const entry of entries) {
      this.#store(entry, ttlOf(entry));
      this.#remember(entry.uuid);
    }
    if (exact || sequence > this.#sequence) this.#sequence = sequence;
  }

  /** Makes this server passive: client updates go to the pending list. */
  passivate(): void {
    this.#mode = "passive";
  }

  /**
   * Makes this server active (takeover) and republishes the pending list with
   * new sequence numbers, oldest first; returns the messages to publish. Each
   * keeps what is left of its ttl; one whose ttl ran out while pending is
   * published as a delete (so nothing of it outlives its ttl).
   */
  activate(): KvMsg[] {
    if (this.#mode === "active") return [];
    this.#mode = "active";
    const out: KvMsg[] = [];
    const now = this.#clock.now();
    for (const { message, receivedAt } of this.#pending.values()) {
      const ttl = ttlOf(message);
      const left = ttl === undefined ? undefined : ttl - (now - receivedAt);
      let update = left === undefined ? message : withTtl(message, left);
      if (left !== undefined && left <= 0) update = { ...update, body: Buffer.alloc(0) };
      if (this.check(update) !== undefined) {
        this.#stats.refused++;
        continue;
      }
      out.push(this.#publish(update, left));
      this.#stats.republished++;
    }
    this.#pending.clear();
    return out;
  }

  /**
   * TTL flush: deletes every expired key and returns the deletes to publish,
   * each with a new sequence number. On a passive server it only drops
   * pending updates older than `pendingTtl` (the active peer expires keys
   * and the passive copies its deletes).
   */
  flush(): KvMsg[] {
    const now = this.#clock.now();
    if (this.#mode === "passive") {
      for (const [id, p] of this.#pending) {
        if (now - p.receivedAt < this.#pendingTtl) break;
        this.#pending.delete(id);
        this.#stats.pendingDropped++;
      }
      return [];
    }
    const out: KvMsg[] = [];
    for (const key of this.#ttlKeys) {
      const stored = this.#map.get(key);
      if (stored?.expiresAt === undefined || stored.expiresAt > now) continue;
      this.#stats.expired++;
      out.push(this.#publish({ ...stored.message, body: Buffer.alloc(0) }, undefined));
    }
    return out;
  }

  /**
   * The entries whose key starts with `subtree` (a byte prefix; "" = all),
   * each with its remaining ttl, and the sequence the set is consistent with
   * (the KTHXBAI sequence).
   */
  snapshot(subtree = ""): { entries: KvMsg[]; sequence: bigint } {
    const entries: KvMsg[] = [];
    const now = this.#clock.now();
    for (const [key, stored] of this.#map) {
      if (subtree !== "" && !key.startsWith(subtree)) continue;
      entries.push(
        stored.expiresAt === undefined
          ? stored.message
          : withTtl(stored.message, stored.expiresAt - now),
      );
    }
    return { entries, sequence: this.#sequence };
  }

  /** The HUGZ heartbeat, carrying the current sequence. */
  hugz(): KvMsg {
    return hugz(this.#sequence);
  }
}
