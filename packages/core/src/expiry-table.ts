import { systemClock, type Clock, type TimerHandle } from "./clock.js";
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
}

interface Node<K> {
  key: K;
  deadline: number;
  entry: Slot<K>;
}

interface Slot<K> extends ExpiryEntry {
  node: Node<K> | undefined;
}

/**
 * Deadlines for many keys (peers, requests, clients) behind **one** timer,
 * after czmq's ticket timers: `touch()` is O(1) (it only moves the deadline;
 * the heap node is re-filed lazily when it surfaces), `set`/`delete` are
 * O(log n), and 100k entries cost one timer and one heap.
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
  readonly #granularity: number;
  readonly #slots = new Map<K, Slot<K>>();
  #heap: Node<K>[] = [];
  #timer: TimerHandle;
  #armedAt = Infinity;
  #closed = false;
  #sweeping = false;

  constructor(options: ExpiryTableOptions<K>) {
    assertArgument(typeof options?.onExpire === "function", "onExpire must be a function");
    this.#onExpire = options.onExpire;
    this.#clock = options.clock ?? systemClock;
    this.#granularity = durationOption(
      "granularity",
      options.granularity,
      DEFAULT_EXPIRY_GRANULARITY,
      { max: 60_000 },
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
   * or `ZG_CLOSED` after {@link close}.
   */
  set(key: K, ttl: number): void {
    assertArgument(
      Number.isFinite(ttl) && ttl >= 0,
      `ttl must be a finite number of ms >= 0, got ${ttl}`,
    );
    assertArgument(!this.#closed, "ExpiryTable is closed");
    const now = this.#clock.now();
    let slot = this.#slots.get(key);
    const deadline = now + ttl;
    if (slot === undefined) {
      slot = { ttl, lastSeen: now, deadline, node: undefined };
      this.#slots.set(key, slot);
      this.#push(key, slot);
    } else {
      slot.ttl = ttl;
      slot.lastSeen = now;
      const earlier = deadline < slot.deadline;
      slot.deadline = deadline;
      if (earlier) this.#push(key, slot);
    }
    this.#arm();
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
    slot.deadline = now + slot.ttl;
    return true;
  }

  /** Stops tracking `key` without calling `onExpire`. @returns false if it was not tracked. */
  delete(key: K): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    slot.node = undefined;
    this.#slots.delete(key);
    if (this.#heap.length > 64 && this.#heap.length > 2 * this.#slots.size) this.#compact();
    return true;
  }

  /** Removes every key without calling `onExpire`. */
  clear(): void {
    this.#slots.clear();
    this.#heap = [];
    this.#disarm();
  }

  /**
   * Expires every key whose deadline has passed, now. The timer calls this;
   * loops may call it too (it is cheap when nothing is due).
   *
   * @returns the number of keys expired.
   */
  sweep(): number {
    if (this.#sweeping) return 0;
    this.#sweeping = true;
    let expired = 0;
    try {
      const now = this.#clock.now();
      for (;;) {
        const top = this.#heap[0];
        if (top === undefined || top.deadline > now) break;
        this.#pop();
        const slot = top.entry;
        if (slot.node !== top || this.#slots.get(top.key) !== slot) continue; // stale node
        if (slot.deadline > now) {
          top.deadline = slot.deadline; // touched since filed: re-file
          this.#insert(top);
          continue;
        }
        this.#slots.delete(top.key);
        slot.node = undefined;
        expired++;
        this.#onExpire(top.key, {
          ttl: slot.ttl,
          lastSeen: slot.lastSeen,
          deadline: slot.deadline,
        });
      }
    } finally {
      this.#sweeping = false;
    }
    return expired;
  }

  /** Clears the timer and every key; the table cannot be used afterwards. Idempotent. */
  close(): void {
    this.#closed = true;
    this.clear();
  }

  // -- heap -----------------------------------------------------------------

  #push(key: K, slot: Slot<K>): void {
    const node: Node<K> = { key, deadline: slot.deadline, entry: slot };
    slot.node = node;
    this.#insert(node);
  }

  #insert(node: Node<K>): void {
    const h = this.#heap;
    h.push(node);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Node<K>;
      if (parent.deadline <= node.deadline) break;
      h[i] = parent;
      i = p;
    }
    h[i] = node;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (h[r] as Node<K>).deadline < (h[l] as Node<K>).deadline) c = r;
      const child = h[c] as Node<K>;
      if (child.deadline >= last.deadline) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }

  #compact(): void {
    const old = this.#heap;
    this.#heap = [];
    for (const node of old) {
      if (node.entry.node === node && this.#slots.get(node.key) === node.entry) this.#insert(node);
    }
  }

  // -- timer ----------------------------------------------------------------

  #arm(): void {
    if (this.#closed) return;
    const top = this.#heap[0];
    if (top === undefined) {
      this.#disarm();
      return;
    }
    if (top.deadline >= this.#armedAt) return;
    this.#disarm();
    const now = this.#clock.now();
    const delay = Math.max(top.deadline - now, 0);
    const wait = delay < this.#granularity ? this.#granularity : Math.ceil(delay);
    this.#armedAt = top.deadline;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#armedAt = Infinity;
      this.sweep();
      this.#arm();
    }, wait);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }
}
