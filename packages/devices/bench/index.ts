/**
 * @zg/devices benchmark.
 *
 * 1. Clock: a 10 ms clock for 300 ticks (3 s), subscriber in the same process.
 *    Figure: the schedule error of the last tick, |receipt − (origin + n·P)| in
 *    ms, for `ClockDevice` → `ClockClient` against a raw zeromq.js PUB driven by
 *    `setInterval(P)` (the "now + P" schedule, which drifts). Lower is better;
 *    ratio = raw / zg. p99 of the per-tick error as extra figures.
 *
 * Run: pnpm --filter @zg/devices bench
 */
import { BenchSuite } from "@zg/testing/bench";
import { rawIntervalClock, zgClock, type ClockRun } from "./clock.js";

const TICKS = Number(process.env["ZG_BENCH_TICKS"] ?? 300);
const suite = new BenchSuite("@zg/devices");

let rawRun: ClockRun | undefined;
let zgRun: ClockRun | undefined;
await suite.compare({
  name: `clock 10 ms × ${TICKS} ticks: end-of-run schedule error, ms (ratio = raw / zg)`,
  unit: "ms",
  lowerIsBetter: true,
  baseline: async () => {
    rawRun = await rawIntervalClock(10, TICKS);
    return Math.max(rawRun.endError, 0.5); // Date.now() has 1 ms steps: floor at 0.5 ms
  },
  subject: async () => {
    zgRun = await zgClock(10, TICKS);
    return Math.max(zgRun.endError, 0.5);
  },
  extra: () => ({ "raw p99 ms": rawRun?.p99 ?? 0, "zg p99 ms": zgRun?.p99 ?? 0 }),
});

suite.finish();
