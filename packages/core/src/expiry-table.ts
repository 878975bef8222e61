import { systemClock, type Clock } from "./clock.js";
import { DeadlineWheel, type WheelSlot } from "./deadline-wheel.js";
import { assertArgument, durationOption } from "./errors.js";

/** What {@link ExpiryTable} knows about one key. */
export interface ExpiryEntry {
  /** Time to live in milliseconds, renewed by each {@link ExpiryTable.touch}. */
  ttl: number;
  /** Monotonic time ({@link Clock.now}) of the last `set` or `touch`. */
  lastSeen: number;
  /** Monotonic time at which the key expires: `lastSeen + ttl`. */
  deadline: number;
}

/**
 * Default coalescing granularity of {@link ExpiryTable} sweeps: a key expires
 * at most this late, and the table wakes at most once per this many ms.
 * 10 ms matches the CI tier of the reliability battery (G ≤ 10 ms).
 */
export const DEFAULT_EXPIRY_GRANULARITY = 10;

/** Options of {@link ExpiryTable}. */
export interface ExpiryTableOptions<K> {
  /** Called once per expired key, after it has been removed from the table. */
  onExpire: (key: K, entry: Readonly<ExpiryEntry>) => void;
  /** Time source. @defaultValue {@link systemClock} */
  clock?: Clock;
  /**
   * Sweep granularity in milliseconds (max lateness, min time between wake-ups).
   * @defaultValue {@link DEFAULT_EXPIRY_GRANULARITY}
   */
  granularity?: number;
  /**
   * Receives what `onExpire` throws; the other due keys still expire.
   * @defaultValue rethrow asynchronously (an uncaught exception, as from any timer)
   */
  onError?: (error: unknown) => void;
}

interface Slot<K> extends ExpiryEntry, WheelSlot {
  key: K;
}

const rethrow = (error: unknown): void => {
  queueMicrotask(() => {
    throw error;
  });
};

/**
 * Deadlines for many keys (peers, requests, clients) behind **one** timer,
 * after czmq's ticket timers, on a {@link DeadlineWheel}: `touch()` is O(1)
 * (it only moves the deadline; the entry is re-bucketed when its old bucket
 * comes due), `set`/`delete` are O(1), and 100k entries cost one timer.
 *
 * A key never expires before its deadline; it expires at most
 * {@link ExpiryTableOptions.granularity} ms after it. Time comes from a
 * monotonic {@link Clock}, so wall-clock jumps have no effect.
 *
 * @example
 * ```ts
 * const peers = new ExpiryTable<string>({ onExpire: (id) => drop(id) });
 * peers.set("worker-1", 3000); // interval × liveness
 * peers.touch("worker-1");    // on any message from it
 * peers.close();
 * ```
 */
export class ExpiryTable<K> {
  readonly #clock: Clock;
  readonly #onExpire: (key: K, entry: Readonly<ExpiryEntry>) => void;
  readonly #slots = new Map<K, Slot<K>>();
  readonly #wheel: DeadlineWheel<Slot<K>>;
  #closed = false;
  #expired = 0;

  constructor(options: ExpiryTableOptions<K>) {
    assertArgument(typeof options?.onExpire === "function", "onExpire must be a function");
    this.#onExpire = options.onExpire;
    this.#clock = options.clock ?? systemClock;
    const granularity = durationOption(
      "granularity",
      options.granularity,
      DEFAULT_EXPIRY_GRANULARITY,
      { max: 60_000 },
    );
    this.#wheel = new DeadlineWheel<Slot<K>>(
      this.#clock,
      granularity,
      (slot) => this.#expire(slot),
      options.onError ?? rethrow,
    );
  }

  /** Number of live keys. */
  get size(): number {
    return this.#slots.size;
  }

  /** True when `key` is tracked (not yet expired or deleted). */
  has(key: K): boolean {
    return this.#slots.has(key);
  }

  /** A snapshot of `key`'s entry, or `undefined`. */
  get(key: K): ExpiryEntry | undefined {
    const s = this.#slots.get(key);
    return s === undefined ? undefined : { ttl: s.ttl, lastSeen: s.lastSeen, deadline: s.deadline };
  }

  /** The tracked keys, in insertion order. */
  keys(): IterableIterator<K> {
    return this.#slots.keys();
  }

  /**
   * Adds `key` (or replaces its TTL) with a deadline `ttl` ms from now.
   *
   * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a negative or non-finite TTL,
   * or after {@link close}.
   */
  set(key: K, ttl: number): void {
    // The message is built only on failure: set() is on brokers' per-request path.
    if (!(Number.isFinite(ttl) && ttl >= 0))
      assertArgument(false, `ttl must be a finite number of ms >= 0, got ${ttl}`);
    assertArgument(!this.#closed, "ExpiryTable is closed");
    const now = this.#clock.now();
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = { key, ttl, lastSeen: now, deadline: now + ttl, filed: -1 };
      this.#slots.set(key, slot);
    } else {
      slot.ttl = ttl;
      slot.lastSeen = now;
    }
    this.#wheel.schedule(slot, now + ttl);
  }

  /**
   * Renews `key`'s deadline to now + its TTL (any sign of life).
   *
   * @returns false when the key is not tracked.
   */
  touch(key: K): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    const now = this.#clock.now();
    slot.lastSeen = now;
    this.#wheel.schedule(slot, now + slot.ttl);
    return true;
  }

  /** Stops tracking `key` without calling `onExpire`. @returns false if it was not tracked. */
  delete(key: K): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#slots.delete(key);
    this.#wheel.cancel(slot);
    return true;
  }

  /** Removes every key without calling `onExpire`. */
  clear(): void {
    this.#slots.clear();
    this.#wheel.clear();
  }

  /**
   * Expires every key whose deadline has passed, now. The timer calls this;
   * loops may call it too (it is cheap when nothing is due).
   *
   * @returns the number of keys expired.
   */
  sweep(): number {
    const before = this.#expired;
    this.#wheel.run();
    return this.#expired - before;
  }

  /** Clears the timer and every key; the table cannot be used afterwards. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#slots.clear();
    this.#wheel.close();
  }

  #expire(slot: Slot<K>): void {
    if (this.#slots.get(slot.key) !== slot) return;
    this.#slots.delete(slot.key);
    this.#expired++;
    this.#onExpire(slot.key, { ttl: slot.ttl, lastSeen: slot.lastSeen, deadline: slot.deadline });
  }
}
