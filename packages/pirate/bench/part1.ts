/**
 * @zg/pirate part-1 benchmark: Paranoid Pirate (PirateQueue + PirateWorker)
 * round trips per second with 1 and 4 workers and 1 and 8 sequential
 * clients, against the raw one-hop ROUTER → ROUTER forwarder of
 * ./raw-forwarder.ts measured in the same run (target ≥ 0.8), plus p50/p99.
 */
import { percentiles } from "@zg/testing";
import type { BenchSuite } from "@zg/testing/bench";
import { PirateQueue, PirateWorker } from "../src/index.js";
import { driveClients, startRawForwarder } from "./raw-forwarder.js";

const DURATION = Number(process.env["ZG_BENCH_DURATION"] ?? 1000);
const ROUNDS = Number(process.env["ZG_BENCH_ROUNDS"] ?? 5);

async function pirate(
  workers: number,
  clients: number,
  record: (l: number[]) => void,
): Promise<number> {
  const queue = new PirateQueue();
  const { frontend, backend } = await queue.start();
  const list = Array.from(
    { length: workers },
    () => new PirateWorker({ endpoint: backend, handler: (b) => b }),
  );
  for (const w of list) await w.start();
  while (queue.stats().idleWorkers < workers) await new Promise((r) => setTimeout(r, 5));
  const { rate, latencies } = await driveClients(frontend[0] as string, clients, DURATION);
  record(latencies);
  for (const w of list) await w.close();
  await queue.close();
  return rate;
}

async function raw(
  workers: number,
  clients: number,
  record: (l: number[]) => void,
  oneAtATime = false,
): Promise<number> {
  const fwd = await startRawForwarder(workers, { oneAtATime });
  const { rate, latencies } = await driveClients(fwd.frontend, clients, DURATION);
  record(latencies);
  await fwd.close();
  return rate;
}

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
      baseline: () => raw(workers, clients, (l) => (rawLat = l)),
      subject: () => pirate(workers, clients, (l) => (subjectLat = l)),
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
      baseline: () => raw(workers, clients, (l) => (rawLat = l), true),
      subject: () => pirate(workers, clients, (l) => (subjectLat = l)),
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
