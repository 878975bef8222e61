import { assertArgument, durationOption } from "./errors.js";

/** Options of {@link Backoff}. All durations in milliseconds. */
export interface BackoffOptions {
  /** First delay. @defaultValue 1000 (Guide `ppworker` `INTERVAL_INIT`) */
  initial?: number;
  /** Largest delay. @defaultValue 32000 (Guide `ppworker` `INTERVAL_MAX`) */
  max?: number;
  /** Multiplier per attempt. @defaultValue 2 (the Guide doubles) */
  factor?: number;
  /**
   * Random spread as a fraction of the delay, 0..1: a delay `d` becomes a
   * uniform value in `[d·(1−jitter), d]`, so reconnecting peers do not stampede.
   * @defaultValue 0 (the Guide uses none)
   */
  jitter?: number;
  /** Source of randomness in [0, 1), for tests. @defaultValue Math.random */
  random?: () => number;
}

/** Guide `ppworker` `INTERVAL_INIT`: first reconnect delay, 1000 ms. */
export const DEFAULT_BACKOFF_INITIAL = 1000;
/** Guide `ppworker` `INTERVAL_MAX`: reconnect delay cap, 32 000 ms. */
export const DEFAULT_BACKOFF_MAX = 32_000;

/**
 * Exponential, capped back-off with optional jitter: 1, 2, 4, 8, 16, 32, 32 … s
 * with the Guide's Paranoid Pirate defaults.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initial: 100, max: 800 });
 * await sleep(backoff.next()); // 100, then 200, 400, 800, 800 …
 * backoff.reset();             // after a successful reconnect
 * ```
 */
export class Backoff {
  readonly initial: number;
  readonly max: number;
  readonly factor: number;
  readonly jitter: number;
  readonly #random: () => number;
  #current: number;
  #attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.initial = durationOption("initial", options.initial, DEFAULT_BACKOFF_INITIAL);
    this.max = durationOption("max", options.max, Math.max(DEFAULT_BACKOFF_MAX, this.initial));
    assertArgument(
      this.max >= this.initial,
      `max (${this.max}) must be >= initial (${this.initial})`,
    );
    this.factor = options.factor ?? 2;
    assertArgument(
      Number.isFinite(this.factor) && this.factor >= 1,
      `factor must be >= 1, got ${this.factor}`,
    );
    this.jitter = options.jitter ?? 0;
    assertArgument(
      this.jitter >= 0 && this.jitter <= 1,
      `jitter must be within 0..1, got ${this.jitter}`,
    );
    this.#random = options.random ?? Math.random;
    this.#current = this.initial;
  }

  /** Number of delays handed out since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The delay the next call to {@link next} is based on (before jitter). */
  get current(): number {
    return this.#current;
  }

  /** Returns the next delay and grows the following one (up to `max`). */
  next(): number {
    const base = this.#current;
    this.#attempts++;
    this.#current = Math.min(this.max, base * this.factor);
    if (this.jitter === 0) return base;
    return base * (1 - this.jitter * this.#random());
  }

  /** Back to `initial` (call after a success). */
  reset(): void {
    this.#current = this.initial;
    this.#attempts = 0;
  }
}
