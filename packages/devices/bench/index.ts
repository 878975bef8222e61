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
 * 3. Multicast bus: in a private network namespace (`unshare -n`, multicast on
 *    `lo` only), 20 000 × 64 B published in bursts (a yield to the event loop
 *    every 10 / 100 / 1000 messages) to a receiver in the same process;
 *    delivered fraction and send rate, `MulticastBus` vs raw RADIO/DISH, and the
 *    losses the bus reported. Skipped with a note where no namespace can be made.
 *
 * 4. Logging: records/s from one `LogPublisher` through the `LogBroker` (writing
 *    its files, acknowledging each batch) to one live `LogTail`, against raw
 *    zeromq.js PUB → SUB carrying the same JSON records.
 *
 * Run: pnpm --filter @zg/devices bench
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BenchSuite } from "@zg/testing/bench";
import { rawIntervalClock, zgClock, type ClockRun } from "./clock.js";
import { lastRun, rawPubSub, zgLog } from "./log.js";
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

const RECORDS = Number(process.env["ZG_BENCH_RECORDS"] ?? 20_000);
await suite.compare({
  name: `log records ≈ 230 B × ${RECORDS}: publisher → broker (files) → tail, vs raw PUB→SUB`,
  unit: "rec/s",
  baseline: () => rawPubSub(RECORDS),
  subject: () => zgLog(RECORDS),
  extra: () => ({ "tail delivered (last round)": lastRun.delivered, "tail gaps": lastRun.gaps }),
});

const NETNS = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo";
const runner = fileURLToPath(new URL("./multicast-run.ts", import.meta.url));
const mc = spawnSync(
  "unshare",
  [
    "-n",
    "sh",
    "-c",
    `${NETNS} && exec "$0" --conditions=@zg/source --import tsx "$1"`,
    process.execPath,
    runner,
  ],
  { encoding: "utf8", timeout: 120_000 },
);
if (mc.status !== 0) {
  process.stdout.write(
    `multicast bench skipped: no network namespace (${(mc.stderr || "").trim().split("\n")[0]})\n`,
  );
} else {
  type Run = { delivered: number; rate: number; reportedLost?: number; missing?: number };
  const rows = JSON.parse(mc.stdout.trim().split("\n").at(-1) ?? "[]") as {
    batch: number;
    raw: Run;
    bus: Run;
  }[];
  for (const r of rows) {
    suite.record({
      name: `multicast bus, 20 000 × 64 B, yield every ${r.batch}: delivered fraction (netns, lo)`,
      unit: "fraction",
      value: r.bus.delivered,
      baseline: r.raw.delivered,
      ratio: r.bus.delivered / r.raw.delivered,
      extra: {
        "bus msg/s": Math.round(r.bus.rate),
        "raw msg/s": Math.round(r.raw.rate),
        "bus reported lost": r.bus.reportedLost ?? 0,
        "bus missing": r.bus.missing ?? 0,
      },
    });
  }
}

suite.finish();
