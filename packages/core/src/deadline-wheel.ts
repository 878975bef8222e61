import type { Clock, TimerHandle } from "./clock.js";

/** A deadline filed in a {@link DeadlineWheel}. Owners move `deadline` later freely (lazy). */
export interface WheelSlot {
  /** Monotonic time at which the slot is due; `Infinity` when cancelled. */
  deadline: number;
  /** Tick of the bucket holding the live entry, or -1 when not filed. Managed by the wheel. */
  filed: number;
}

/**
 * Many deadlines behind one timer, in buckets `granularity` ms wide (a
 * hashed timing wheel with a heap of bucket ticks). Moving a deadline later is
 * a field write (the entry is re-bucketed in O(1) when its old bucket comes
 * due); moving it earlier files it again. A slot never fires before its
 * deadline and at most one bucket width (plus timer lateness) after it.
 *
 * The engine under {@link ExpiryTable} and `@zg/heartbeat`'s presence
 * tracker: the cost of a table of peers is the cost of re-filing touched
 * deadlines, which a heap of deadlines pays in O(log n) per peer and interval;
 * buckets pay O(1). Owners keep their slots (one object per deadline) and
 * decide in `fire` what a due slot means.
 */
export class DeadlineWheel<S extends WheelSlot> {
  readonly #clock: Clock;
  readonly #granularity: number;
  readonly #fire: (slot: S, now: number) => void;
  readonly #onError: (error: unknown) => void;
  readonly #buckets = new Map<number, { slots: S[]; min: number; cancelled: number }>();
  readonly #ticks: number[] = []; // min-heap of bucket ticks
  #timer: TimerHandle;
  #armedTick = Infinity;
  #processing = false;
  #closed = false;

  constructor(
    clock: Clock,
    granularity: number,
    fire: (slot: S, now: number) => void,
    onError: (error: unknown) => void,
  ) {
    this.#clock = clock;
    this.#granularity = granularity > 0 ? granularity : 1;
    this.#fire = fire;
    this.#onError = onError;
  }

  /** Sets `slot`'s deadline; files it again only if it moved earlier than its bucket (or was not filed). */
  schedule(slot: S, deadline: number): void {
    if (this.#closed) return;
    slot.deadline = deadline;
    const tick = Math.ceil(deadline / this.#granularity);
    if (slot.filed === -1 || tick < slot.filed) {
      this.#file(slot, tick);
      if (!this.#processing) this.#arm();
    }
  }

  /** Cancels `slot`; its stale bucket entry is skipped later. */
  cancel(slot: S): void {
    const tick = slot.filed;
    slot.deadline = Infinity;
    slot.filed = -1;
    if (tick === -1) return;
    // Once half a bucket is cancelled, drop those entries (and an emptied bucket), so cancelled
    // slots — and whatever their owners hold — are not kept until the bucket's time comes.
    const bucket = this.#buckets.get(tick);
    if (bucket === undefined || ++bucket.cancelled * 2 < bucket.slots.length) return;
    bucket.slots = bucket.slots.filter((x) => x.filed === tick);
    bucket.cancelled = 0;
    if (bucket.slots.length === 0) this.#buckets.delete(tick);
  }

  /**
   * Fires every slot that is due now (the timer does this on its own; owners
   * may call it to process deadlines eagerly). Re-entrant calls are ignored.
   */
  run(): void {
    if (this.#processing || this.#closed) return;
    this.#disarm();
    this.#run();
  }

  /** Unfiles every slot and stops the timer; the wheel stays usable (slots can be scheduled again). */
  clear(): void {
    for (const bucket of this.#buckets.values()) for (const slot of bucket.slots) slot.filed = -1;
    this.#buckets.clear();
    this.#ticks.length = 0;
    this.#disarm();
  }

  /** Drops everything and the timer. Idempotent; the wheel cannot be used again. */
  close(): void {
    this.#closed = true;
    this.#buckets.clear();
    this.#ticks.length = 0;
    this.#disarm();
  }

  #file(slot: S, tick: number): void {
    slot.filed = tick;
    let bucket = this.#buckets.get(tick);
    if (bucket === undefined) {
      bucket = { slots: [], min: slot.deadline, cancelled: 0 };
      this.#buckets.set(tick, bucket);
      this.#push(tick);
    } else if (slot.deadline < bucket.min) {
      bucket.min = slot.deadline;
    }
    bucket.slots.push(slot);
  }

  #run(): void {
    this.#timer = undefined;
    this.#armedTick = Infinity;
    this.#processing = true;
    try {
      for (;;) {
        if (this.#closed) return;
        const now = this.#clock.now();
        const tick = this.#ticks[0];
        if (tick === undefined) break;
        const bucket = this.#buckets.get(tick);
        if (bucket !== undefined && bucket.min > now) break;
        this.#pop();
        this.#buckets.delete(tick);
        if (bucket === undefined) continue;
        for (const slot of bucket.slots) {
          if (slot.filed !== tick) continue; // cancelled, or filed again earlier
          if (slot.deadline > now) {
            this.#file(slot, Math.ceil(slot.deadline / this.#granularity)); // touched since, or not yet due: re-bucket, O(1)
            continue;
          }
          slot.filed = -1;
          try {
            this.#fire(slot, now);
          } catch (error) {
            this.#onError(error);
          }
        }
      }
    } finally {
      this.#processing = false;
      this.#arm();
    }
  }

  #arm(): void {
    if (this.#closed) return;
    let tick = this.#ticks[0];
    // Ticks whose bucket was emptied by cancellations need no wake-up.
    while (tick !== undefined && !this.#buckets.has(tick)) {
      this.#pop();
      tick = this.#ticks[0];
    }
    if (tick === undefined) {
      this.#disarm();
      return;
    }
    if (tick >= this.#armedTick) return;
    this.#disarm();
    this.#armedTick = tick;
    // Wake at the bucket's earliest deadline, but at most once per granularity
    // (czmq/ExpiryTable rule): exact when deadlines are sparse, coalesced when dense.
    const min = this.#buckets.get(tick)?.min ?? tick * this.#granularity;
    const delay = Math.max(0, min - this.#clock.now());
    const wait = delay < this.#granularity ? this.#granularity : Math.ceil(delay);
    this.#timer = this.#clock.setTimeout(() => this.#run(), wait);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedTick = Infinity;
  }

  #push(tick: number): void {
    const h = this.#ticks;
    let i = h.length;
    h.push(tick);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as number;
      if (parent <= tick) break;
      h[i] = parent;
      i = p;
    }
    h[i] = tick;
  }

  #pop(): void {
    const h = this.#ticks;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (h[r] as number) < (h[l] as number)) c = r;
      const child = h[c] as number;
      if (child >= last) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }
}
