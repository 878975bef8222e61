/** Percentiles of a {@link LatencyWindow}, in milliseconds. */
export interface LatencySummary {
  /** Samples in the window. */
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The last `size` latency samples (ms) in a ring, for `stats()` percentiles.
 * Recording is O(1); {@link summary} sorts a copy (call it at stats time, not
 * per message).
 */
export class LatencyWindow {
  readonly #samples: Float64Array;
  #count = 0;
  #next = 0;

  constructor(size = 1024) {
    this.#samples = new Float64Array(Math.max(1, size));
  }

  /** Adds a sample in milliseconds. */
  record(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#count < this.#samples.length) this.#count++;
  }

  /** p50 / p99 / max of the window (zeros when empty). */
  summary(): LatencySummary {
    if (this.#count === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
    const s = this.#samples.slice(0, this.#count).sort();
    return {
      count: this.#count,
      p50: quantile(s, 0.5),
      p99: quantile(s, 0.99),
      max: s[s.length - 1] as number,
    };
  }
}

/** The q-quantile (0..1) of ascending `sorted` values, nearest-rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}
