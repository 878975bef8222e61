/**
 * @zg/devices benchmark.
 *
 * 1. Clock: a 10 ms clock for 300 ticks (3 s), subscriber in the same process.
 *    Figure: the schedule error of the last tick, |receipt − (origin + n·P)| in
 *    ms, for `ClockDevice` → `ClockClient` against a raw zeromq.js PUB driven by
 *    `setInterval(P)` (the "now + P" schedule, which drifts). Lower is better;
 *    ratio = raw / zg. p99 of the per-tick error as extra figures.
 *
 * 2. TraceProxy: a PUSH → PULL stream of 64-byte messages through a pull-push
 *    `TraceProxy`, capture off and on (JSONL + readable dump, each to a file),
 *    against the same stream direct (raw zeromq.js, no proxy) and through a bare
 *    `SocketLoop` relay (the cost of any JavaScript proxy), msg/s. Capture
 *    records dropped by a full sink are reported (messages never are).
 *
 * Run: pnpm --filter @zg/devices bench
 */
import { BenchSuite } from "@zg/testing/bench";
import { rawIntervalClock, zgClock, type ClockRun } from "./clock.js";
import { bareRelay, direct, traced } from "./trace.js";

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

const N = Number(process.env["ZG_BENCH_MESSAGES"] ?? 50_000);
let dropped = 0;
await suite.compare({
  name: `TraceProxy pull-push, capture off, 64 B × ${N} vs direct PUSH→PULL`,
  unit: "msg/s",
  baseline: () => direct(N),
  subject: async () => (await traced(N, false)).rate,
});
await suite.compare({
  name: `TraceProxy pull-push, capture off, vs a bare SocketLoop relay`,
  unit: "msg/s",
  baseline: () => bareRelay(N),
  subject: async () => (await traced(N, false)).rate,
});
await suite.compare({
  name: `TraceProxy pull-push, capture on (JSONL + dump files), vs a bare SocketLoop relay`,
  unit: "msg/s",
  baseline: () => bareRelay(N),
  subject: async () => {
    const r = await traced(N, true);
    dropped = Math.max(dropped, r.dropped);
    return r.rate;
  },
  extra: () => ({ "capture records dropped (max of rounds)": dropped }),
});

suite.finish();
