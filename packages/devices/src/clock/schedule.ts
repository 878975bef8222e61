/** What {@link TickSchedule.fire} decided. */
export interface TickDue {
  /** The tick to publish now: the latest one due. */
  seq: number;
  /** Ticks that fell due while the process could not run and are not published (counted, never invented late). */
  skipped: number;
  /** How late `seq` is, ms (always < one period). */
  lateness: number;
}

/**
 * The drift-free schedule of one resolution, pure (no timers): tick n is due
 * at `origin + n·period` on the monotonic clock, never "last tick + period",
 * so lateness never accumulates. When the process was stalled past several
 * due times, only the latest due tick is published; the ones in between are
 * skipped and counted, and subscribers see the gap in the sequence numbers.
 */
export class TickSchedule {
  readonly period: number;
  readonly origin: number;
  #next = 0;
  #skipped = 0;

  /** @param origin - monotonic ms at which tick 0 is due. */
  constructor(period: number, origin: number) {
    this.period = period;
    this.origin = origin;
  }

  /** The sequence number of the next tick to publish. */
  get nextSeq(): number {
    return this.#next;
  }

  /** Total ticks skipped so far. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Monotonic time at which the next tick is due. */
  get nextDue(): number {
    return this.origin + this.#next * this.period;
  }

  /** Milliseconds from `now` until the next tick is due (0 if already due). */
  delay(now: number): number {
    return Math.max(0, this.nextDue - now);
  }

  /**
   * Called when the timer fires at monotonic `now`. Returns the tick to
   * publish, or `undefined` if the timer fired early (re-arm with {@link delay}).
   */
  fire(now: number): TickDue | undefined {
    if (now < this.nextDue) return undefined;
    // max(): floating-point rounding must never move a due tick backwards.
    const latest = Math.max(this.#next, Math.floor((now - this.origin) / this.period));
    const skipped = latest - this.#next;
    this.#skipped += skipped;
    this.#next = latest + 1;
    return { seq: latest, skipped, lateness: now - (this.origin + latest * this.period) };
  }
}
