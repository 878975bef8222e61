// Nearest-rank quantile from core's pure entry (a peer dependency: no turbo build cycle with core's devDependency on this package).
import { quantile } from "@zg/core/pure";

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `predicate` until it returns a truthy value, and returns that value.
 *
 * @throws an Error naming `what` after `timeout` ms.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  {
    timeout = 5000,
    interval = 10,
    what = "condition",
  }: { timeout?: number; interval?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeout;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await delay(interval);
  }
}

/** Rejects with an error naming `what` if `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** p50 / p99 / max of samples, nearest rank. */
export function percentiles(samples: readonly number[]): {
  count: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
} {
  const s = [...samples].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    max: s[s.length - 1] ?? 0,
    min: s[0] ?? 0,
  };
}

/** What {@link watchStalls} saw: the longest time this process's event loop could not run a timer. */
export interface StallWatch {
  /** Longest lateness of the watch's 5 ms tick so far, in ms (0 on a calm machine, give or take 1–2). */
  readonly max: number;
  /** Stops watching; `max` keeps its value. */
  stop(): void;
}

/**
 * Watches this process's event loop for stalls (GC pauses, a descheduled
 * process on a loaded machine): a 5 ms tick records how late it runs. Tests
 * whose strict expectation only holds on a calm scheduler (a heartbeat that
 * must never be late) check `max` from their own records instead of hoping.
 */
export function watchStalls(): StallWatch {
  const TICK = 5;
  let last = performance.now();
  let max = 0;
  let stopped = false;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - TICK);
    last = now;
  }, TICK);
  timer.unref();
  return {
    get max() {
      return stopped ? max : Math.max(max, performance.now() - last - TICK);
    },
    stop() {
      if (!stopped) max = Math.max(max, performance.now() - last - TICK);
      stopped = true;
      clearInterval(timer);
    },
  };
}
