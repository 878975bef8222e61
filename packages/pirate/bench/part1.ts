/**
 * @zg/pirate part-1 benchmark: Paranoid Pirate (PirateQueue + PirateWorker)
 * round trips per second with 1 and 4 workers and 1 and 8 sequential
 * clients, against the raw one-hop ROUTER → ROUTER forwarder of
 * ./raw-forwarder.ts measured in the same run (target ≥ 0.8), plus p50/p99.
 */
import { percentiles } from "@zg/testing";
import type { BenchSuite } from "@zg/testing/bench";
import { paranoidPirateRun, rawForwarderRun } from "./runs.js";

const DURATION = Number(process.env["ZG_BENCH_DURATION"] ?? 1000);
const ROUNDS = Number(process.env["ZG_BENCH_ROUNDS"] ?? 5);

/** Runs the part-1 rows into `suite`. */
export async function runPart1(suite: BenchSuite): Promise<void> {
  for (const [workers, clients] of [
    [1, 1],
    [4, 1],
    [1, 8],
    [4, 8],
  ] as const) {
    let subjectLat: number[] = [];
    let rawLat: number[] = [];
    await suite.compare({
      name: `Paranoid Pirate queue+worker vs raw ROUTER→ROUTER forwarder, ${workers} worker(s), ${clients} client(s), 64 B, tcp`,
      unit: "rt/s",
      baseline: () => rawForwarderRun(workers, clients, DURATION, false, (l) => (rawLat = l)),
      subject: () => paranoidPirateRun(workers, clients, DURATION, (l) => (subjectLat = l)),
      target: 0.8,
      rounds: ROUNDS,
      extra: () => {
        const s = percentiles(subjectLat);
        const r = percentiles(rawLat);
        return { p50_ms: s.p50, p99_ms: s.p99, raw_p50_ms: r.p50, raw_p99_ms: r.p99 };
      },
    });
  }
  // With fewer workers than clients the load-balancing rule (one request per
  // worker at a time) itself caps throughput; these rows compare against a raw
  // forwarder that follows the same rule, to show the zg code's own cost.
  for (const [workers, clients] of [
    [1, 8],
    [4, 8],
  ] as const) {
    let subjectLat: number[] = [];
    let rawLat: number[] = [];
    await suite.compare({
      name: `Paranoid Pirate queue+worker vs raw forwarder with one request per worker, ${workers} worker(s), ${clients} client(s), 64 B, tcp`,
      unit: "rt/s",
      baseline: () => rawForwarderRun(workers, clients, DURATION, true, (l) => (rawLat = l)),
      subject: () => paranoidPirateRun(workers, clients, DURATION, (l) => (subjectLat = l)),
      target: 0.8,
      rounds: ROUNDS,
      extra: () => {
        const s = percentiles(subjectLat);
        const r = percentiles(rawLat);
        return { p50_ms: s.p50, p99_ms: s.p99, raw_p50_ms: r.p50, raw_p99_ms: r.p99 };
      },
    });
  }
}
