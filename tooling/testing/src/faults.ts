/**
 * Progress-driven fault schedules.
 *
 * A fault test whose load is a fixed request count and whose faults come on a fixed
 * wall-clock beat exercises a different number of faults on every machine: on a fast one
 * the load ends before the faults happen, on a slow one the faults pile up. A
 * {@link FaultPlan} ties the two together by progress instead:
 *
 * - the load keeps running until it has seen at least `minRequests` acknowledged requests
 *   **and** at least `minFaults` faults ({@link FaultPlan.loadDone});
 * - a fault loop can wait for progress (`await plan.untilAcks(plan.acks + 200)`) rather than
 *   for time, so "kill after every N acknowledged requests" is one line;
 * - {@link FaultPlan.check} fails with a message that names the precondition that did not
 *   hold ("only 2 kills happened during the load (needed ≥ 5): the test did not exercise
 *   worker churn"), and {@link FaultPlan.summary} is the line every fault test prints.
 *
 * `maxDuration` bounds the whole load so a broken system fails the test with that message
 * instead of hanging until vitest's timeout.
 *
 * @packageDocumentation
 */

/** Options of a {@link FaultPlan}. */
export interface FaultPlanOptions {
  /** What the test exercises, for messages ("worker churn", "queue restart"). */
  readonly name: string;
  /** The load runs until at least this many requests were acknowledged. */
  readonly minRequests: number;
  /** …and until at least this many faults happened. */
  readonly minFaults: number;
  /** The noun for one fault in messages. @defaultValue `"kill"` */
  readonly faultNoun?: string;
  /** Upper bound on the load's duration in ms; past it the load stops and {@link FaultPlan.check} fails. */
  readonly maxDuration: number;
}

/** Shared progress record of a fault test's load and its fault injector. */
export class FaultPlan {
  /** Acknowledged requests so far. */
  acks = 0;
  /** Faults injected so far. */
  faults = 0;
  /** Requests that ended in a (typed) failure so far. */
  failures = 0;
  readonly #options: FaultPlanOptions;
  #minRequests: number;
  readonly #startedAt = performance.now();
  #stoppedAt: number | undefined;
  #waiters: { acks: number; resolve: () => void }[] = [];

  /** @param options - See {@link FaultPlanOptions}. */
  constructor(options: FaultPlanOptions) {
    if (options.minRequests < 0 || options.minFaults < 0 || options.maxDuration <= 0)
      throw new RangeError("FaultPlan: minRequests, minFaults ≥ 0 and maxDuration > 0");
    this.#options = options;
    this.#minRequests = options.minRequests;
  }

  /**
   * Raises the request minimum to at least `acks` (never lowers it): call it before recording
   * the last fault to demand that the load go on for a while after it
   * (`plan.requireAcks(plan.acks + 300); plan.fault()`).
   */
  requireAcks(acks: number): void {
    this.#minRequests = Math.max(this.#minRequests, acks);
  }

  /** Records one acknowledged request (and wakes {@link untilAcks} waiters). */
  ack(): void {
    this.acks++;
    if (this.#waiters.length > 0) this.#wake(this.acks);
  }

  /** Records one failed request. */
  fail(): void {
    this.failures++;
  }

  /** Records one injected fault. */
  fault(): void {
    this.faults++;
  }

  /** True once the load has what it needs (or ran out of time, or was stopped): the load loop's exit condition. */
  get loadDone(): boolean {
    if (this.#stoppedAt !== undefined) return true;
    const done =
      (this.acks >= this.#minRequests && this.faults >= this.#options.minFaults) ||
      this.elapsed >= this.#options.maxDuration;
    if (done) this.stop();
    return done;
  }

  /** Milliseconds since the plan was created (frozen once stopped). */
  get elapsed(): number {
    return (this.#stoppedAt ?? performance.now()) - this.#startedAt;
  }

  /** Stops the load: {@link loadDone} is true from now on and every waiter is released. */
  stop(): void {
    if (this.#stoppedAt === undefined) this.#stoppedAt = performance.now();
    this.#wake();
  }

  /**
   * Resolves once `acks` acknowledged requests have been recorded, or the load has stopped
   * (check {@link loadDone} after it). Polls the time bound every 50 ms so a stalled load
   * still releases the fault loop.
   */
  async untilAcks(acks: number): Promise<void> {
    while (this.acks < acks && !this.loadDone) {
      await new Promise<void>((resolve) => {
        const waiter = { acks, resolve: () => done() };
        const timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          done();
        }, 50);
        this.#waiters.push(waiter);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  }

  /**
   * Throws unless the run exercised what it claims: at least `minFaults` faults and
   * `minRequests` acknowledged requests, within `maxDuration`. The message names the
   * precondition that failed.
   */
  check(): void {
    const o = this.#options;
    const noun = o.faultNoun ?? "kill";
    const problems: string[] = [];
    if (this.faults < o.minFaults)
      problems.push(
        `only ${this.faults} ${noun}${this.faults === 1 ? "" : "s"} happened during the load (needed ≥ ${o.minFaults}): the test did not exercise ${o.name}`,
      );
    if (this.acks < this.#minRequests)
      problems.push(
        `only ${this.acks} requests were acknowledged (needed ≥ ${this.#minRequests}) before the load stopped after ${Math.round(this.elapsed)} ms (bound ${o.maxDuration} ms)`,
      );
    if (problems.length > 0) throw new Error(`${o.name}: ${problems.join("; ")}`);
  }

  /** One line for the CI log: faults, load and duration. */
  summary(extra = ""): string {
    const noun = this.#options.faultNoun ?? "kill";
    return (
      `${this.#options.name}: ${this.faults} ${noun}s, ${this.acks} acknowledged, ${this.failures} failed, ` +
      `in ${Math.round(this.elapsed)} ms${extra ? `, ${extra}` : ""}`
    );
  }

  /** Releases the waiters whose target is reached (all of them without `upTo`). */
  #wake(upTo = Infinity): void {
    const due = this.#waiters.filter((w) => w.acks <= upTo);
    if (due.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.acks > upTo);
    for (const w of due) w.resolve();
  }
}
