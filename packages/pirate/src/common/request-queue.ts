import { deferred, integerOption, assertArgument, type Deferred } from "@zg/core";

/**
 * What a broker does when its bounded queue of waiting requests is full.
 *
 * - `backpressure`: stop reading the frontend until a worker frees a slot, so
 *   further requests wait in libzmq's queues (bounded by the socket HWM) and,
 *   beyond that, in the clients. This is the Guide's behaviour (`lbbroker`,
 *   `ppqueue` poll the frontend only while a worker is free).
 * - `drop-newest`: drop the request that does not fit (counted); its client's
 *   own timeout and retry take over.
 * - `drop-oldest`: drop the request that waited longest (counted) and queue
 *   the new one, favouring fresh requests whose clients are still waiting.
 */
export type OverflowPolicy = "backpressure" | "drop-newest" | "drop-oldest";

/** Default bound on requests waiting for a worker, per broker: 1000 (project choice; equals libzmq's default HWM). */
export const DEFAULT_MAX_QUEUED = 1000;

/** Default {@link OverflowPolicy}: `backpressure`, as the Guide's brokers do. */
export const DEFAULT_OVERFLOW_POLICY: OverflowPolicy = "backpressure";

/** Validates an {@link OverflowPolicy} option. @throws `ZG_INVALID_ARGUMENT`. */
export function overflowOption(value: OverflowPolicy | undefined): OverflowPolicy {
  if (value === undefined) return DEFAULT_OVERFLOW_POLICY;
  assertArgument(
    value === "backpressure" || value === "drop-newest" || value === "drop-oldest",
    `overflow must be "backpressure", "drop-newest" or "drop-oldest", got ${String(value)}`,
  );
  return value;
}

/**
 * A bounded FIFO of items waiting for a worker, with an {@link OverflowPolicy}.
 * O(1) push and shift (ring of arrays with a head index). Under
 * `backpressure`, the one item read while the queue is full is held outside
 * it ({@link held}) and joins the tail when a slot frees, so {@link size}
 * never exceeds {@link limit} (except for items put back by {@link unshift}).
 *
 * @internal
 */
export class RequestQueue<T> {
  readonly limit: number;
  readonly policy: OverflowPolicy;
  #items: (T | undefined)[] = [];
  #head = 0;
  #space: Deferred<void> | undefined;
  #held: T[] = [];
  #dropped = 0;

  constructor(options: { limit?: number; policy?: OverflowPolicy } = {}) {
    this.limit = integerOption("maxQueued", options.limit, DEFAULT_MAX_QUEUED, { min: 1 });
    this.policy = overflowOption(options.policy);
  }

  /** Items waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Items read while the queue was full and held until a slot frees (`backpressure`; 0 or 1 with one reader). */
  get held(): number {
    return this.#held.length;
  }

  /** Items dropped by the overflow policy so far. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Adds an item at the tail. With `backpressure` and a full queue, resolves
   * only once there is room (the caller, a reader loop, awaits it). Returns
   * the item dropped by the policy, if any (the new one for `drop-newest`).
   */
  push(item: T): { dropped: T | undefined; wait: Promise<void> | undefined } {
    if (this.size < this.limit) {
      this.#items.push(item);
      return { dropped: undefined, wait: undefined };
    }
    switch (this.policy) {
      case "drop-newest":
        this.#dropped++;
        return { dropped: item, wait: undefined };
      case "drop-oldest": {
        const old = this.shift();
        this.#dropped++;
        this.#items.push(item);
        return { dropped: old, wait: undefined };
      }
      case "backpressure": {
        this.#held.push(item);
        this.#space ??= deferred<void>();
        return { dropped: undefined, wait: this.#space.promise };
      }
    }
  }

  /** Puts an item back at the head (a dispatch that failed); may exceed the limit by the retried items. */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  /** Removes and returns the head item. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head >= this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    while (this.#held.length > 0 && this.size < this.limit) this.#items.push(this.#held.shift());
    if (this.#space !== undefined && this.#held.length === 0) {
      const s = this.#space;
      this.#space = undefined;
      s.resolve();
    }
    return item;
  }

  /** Removes every item and releases a waiting reader. */
  clear(): T[] {
    const out = [...(this.#items.slice(this.#head) as T[]), ...this.#held];
    this.#held = [];
    this.#items = [];
    this.#head = 0;
    const s = this.#space;
    this.#space = undefined;
    s?.resolve();
    return out;
  }
}
