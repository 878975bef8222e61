/**
 * @zg/pirate part-2 benchmark (imported by bench/index.ts):
 *
 * - Majordomo broker + MajordomoWorker round trips per second with 1/10/100
 *   requests in flight (that many raw DEALER clients speaking MDPC01, one
 *   request each at a time) and 1/4 workers, against (a) the raw one-hop
 *   ROUTER → ROUTER forwarder of ./raw-forwarder.ts, (b) the same raw
 *   forwarder applying the one-request-per-worker rule that every
 *   Majordomo broker must follow (7/MDP: "workers handle at most one request
 *   at a time"), (c) a raw zeromq.js relay moving the same MDP frames, and
 *   (d) the part-1 Paranoid Pirate queue; p50/p99 latency.
 * - The AsyncMajordomoClient itself with 100 in flight from one client.
 * - Titanic durable `titanic.request` acknowledgements per second, fsync
 *   always vs never.
 *
 * Run: pnpm --filter @zg/pirate bench  (ZG_BENCH_DURATION=ms per round, default 1000)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { percentiles } from "@zg/testing";
import type { BenchSuite } from "@zg/testing/bench";
import {
  AsyncMajordomoClient,
  MajordomoBroker,
  MajordomoWorker,
  Titanic,
  TitanicClient,
  type TitanicFsyncPolicy,
} from "../src/index.js";
import type { DriveResult } from "./raw-forwarder.js";
import { runProcessRows } from "./processes.js";
import { paranoidPirateRun, rawForwarderRun } from "./runs.js";

const DURATION = Number(process.env["ZG_BENCH_DURATION"] ?? 1000);
const ROUNDS = Number(process.env["ZG_BENCH_ROUNDS"] ?? 3);

/** Sequential MDPC01 round trips from `clients` raw DEALERs (one in flight each). */
async function driveMdp(
  endpoint: string,
  clients: number,
  durationMs: number,
  warmupMs = 200,
): Promise<DriveResult> {
  const sockets = Array.from({ length: clients }, () => {
    const d = new zmq.Dealer({ linger: 0 });
    d.connect(endpoint);
    return d;
  });
  const request = [
    Buffer.alloc(0),
    Buffer.from("MDPC01"),
    Buffer.from("echo"),
    Buffer.alloc(64, 7),
  ];
  const latencies: number[] = [];
  let count = 0;
  const start = performance.now() + warmupMs;
  const end = start + durationMs;
  await Promise.all(
    sockets.map(async (s) => {
      for (;;) {
        const t = performance.now();
        if (t >= end) return;
        await s.send(request);
        await s.receive();
        if (t >= start) {
          count++;
          latencies.push(performance.now() - t);
        }
      }
    }),
  );
  for (const s of sockets) s.close();
  return { rate: count / (durationMs / 1000), latencies };
}

/**
 * The same wire work as a Majordomo broker, in raw zeromq.js: one ROUTER,
 * MDP/0.1 frames both ways, one request per worker at a time, no heartbeats,
 * no expiry, no stats. The gap between this and `majordomo()` is the cost of
 * the zg code; the gap between this and the raw forwarder is the cost of the
 * protocol's extra frames (7/MDP "Known weaknesses").
 */
async function rawMdp(
  workers: number,
  inFlight: number,
  record: (l: number[]) => void,
): Promise<number> {
  const router = new zmq.Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:*");
  const ep = router.lastEndpoint as string;
  const E = Buffer.alloc(0);
  const W01 = Buffer.from("MDPW01");
  const C01 = Buffer.from("MDPC01");
  const dealers = Array.from({ length: workers }, () => {
    const d = new zmq.Dealer({ linger: 0 });
    d.connect(ep);
    return d;
  });
  const loops = dealers.map(async (d) => {
    await d.send([E, W01, Buffer.from([1]), Buffer.from("echo")]);
    try {
      for await (const m of d)
        await d.send([E, W01, Buffer.from([3]), m[3] as Buffer, E, ...m.slice(5)]);
    } catch {
      /* closed */
    }
  });
  const idle: Buffer[] = [];
  const waiting: Buffer[][] = [];
  let ready = 0;
  const broker = (async () => {
    try {
      for await (const m of router) {
        const id = m[0] as Buffer;
        if ((m[2] as Buffer).equals(C01)) {
          waiting.push([id, ...m.slice(4)]);
        } else if ((m[3] as Buffer)[0] === 1) {
          idle.push(id);
          ready++;
        } else {
          await router.send([m[4] as Buffer, E, C01, Buffer.from("echo"), ...m.slice(6)]);
          idle.push(id);
        }
        while (idle.length > 0 && waiting.length > 0) {
          const w = idle.shift() as Buffer;
          const [client, ...body] = waiting.shift() as Buffer[];
          await router.send([w, E, W01, Buffer.from([2]), client as Buffer, E, ...body]);
        }
      }
    } catch {
      /* closed */
    }
  })();
  while (ready < workers) await new Promise((r) => setTimeout(r, 5));
  const { rate, latencies } = await driveMdp(ep, inFlight, DURATION);
  record(latencies);
  for (const s of [router, ...dealers]) s.close();
  await Promise.allSettled([broker, ...loops]);
  return rate;
}

async function majordomo(
  workers: number,
  inFlight: number,
  record: (l: number[]) => void,
): Promise<number> {
  const broker = new MajordomoBroker({ endpoints: "tcp://127.0.0.1:*" });
  const ep = (await broker.start()).endpoints[0] as string;
  const list = Array.from(
    { length: workers },
    () => new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r }),
  );
  for (const w of list) await w.start();
  while ((broker.stats().perService["echo"]?.idleWorkers ?? 0) < workers)
    await new Promise((r) => setTimeout(r, 5));
  const { rate, latencies } = await driveMdp(ep, inFlight, DURATION);
  record(latencies);
  for (const w of list) await w.close();
  await broker.close();
  return rate;
}

async function asyncClient(
  workers: number,
  inFlight: number,
  record: (l: number[]) => void,
): Promise<number> {
  const broker = new MajordomoBroker({ endpoints: "tcp://127.0.0.1:*" });
  const ep = (await broker.start()).endpoints[0] as string;
  const list = Array.from(
    { length: workers },
    () => new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r }),
  );
  for (const w of list) await w.start();
  while ((broker.stats().perService["echo"]?.idleWorkers ?? 0) < workers)
    await new Promise((r) => setTimeout(r, 5));
  const client = new AsyncMajordomoClient({ broker: ep, timeout: 10_000 });
  await client.start();
  const body = [Buffer.alloc(64, 7)];
  const latencies: number[] = [];
  let count = 0;
  const start = performance.now() + 200;
  const end = start + DURATION;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (;;) {
        const t = performance.now();
        if (t >= end) return;
        await client.request("echo", body);
        if (t >= start) {
          count++;
          latencies.push(performance.now() - t);
        }
      }
    }),
  );
  record(latencies);
  await client.close();
  for (const w of list) await w.close();
  await broker.close();
  return count / (DURATION / 1000);
}

async function titanic(
  fsync: TitanicFsyncPolicy,
  clients: number,
  record: (l: number[]) => void,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "zg-titanic-bench-"));
  const broker = new MajordomoBroker({ endpoints: "tcp://127.0.0.1:*" });
  const ep = (await broker.start()).endpoints[0] as string;
  const t = new Titanic({ broker: ep, directory: dir, fsync, workers: clients });
  await t.start();
  while ((broker.stats().perService["titanic.request"]?.idleWorkers ?? 0) < clients)
    await new Promise((r) => setTimeout(r, 5));
  const list = Array.from(
    { length: clients },
    () => new TitanicClient({ broker: ep, timeout: 10_000 }),
  );
  for (const c of list) await c.start();
  const latencies: number[] = [];
  let count = 0;
  const start = performance.now() + 200;
  const end = start + DURATION;
  await Promise.all(
    list.map(async (c) => {
      for (;;) {
        const t0 = performance.now();
        if (t0 >= end) return;
        await c.submit("nobody", ["durable request"]); // no such service: stays pending, nothing dispatched
        if (t0 >= start) {
          count++;
          latencies.push(performance.now() - t0);
        }
      }
    }),
  );
  record(latencies);
  for (const c of list) await c.close();
  await t.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
  return count / (DURATION / 1000);
}

function latencyExtra(subject: number[], baseline: number[]): () => Record<string, number> {
  return () => {
    const s = percentiles(subject);
    const r = percentiles(baseline);
    return { p50_ms: s.p50, p99_ms: s.p99, base_p50_ms: r.p50, base_p99_ms: r.p99 };
  };
}

/** Runs the part-2 rows into `suite` (`ZG_BENCH_FILTER=text` runs only rows whose name contains it). */
export async function runPart2(all: BenchSuite): Promise<void> {
  const filter = process.env["ZG_BENCH_FILTER"];
  const suite = {
    compare: async (spec: Parameters<BenchSuite["compare"]>[0]): Promise<void> => {
      if (filter === undefined || spec.name.includes(filter)) await all.compare(spec);
    },
  };
  if (filter === undefined || "processes".includes(filter) || filter.startsWith("processes"))
    await runProcessRows(suite, DURATION, ROUNDS);
  const shapes = [
    [1, 1],
    [1, 10],
    [1, 100],
    [4, 1],
    [4, 10],
    [4, 100],
  ] as const;
  for (const [workers, inFlight] of shapes) {
    let s: number[] = [];
    let b: number[] = [];
    await suite.compare({
      name: `Majordomo broker+worker vs raw ROUTER→ROUTER forwarder, ${workers} worker(s), ${inFlight} in flight, 64 B, tcp`,
      unit: "rt/s",
      baseline: () => rawForwarderRun(workers, inFlight, DURATION, false, (l) => (b = l)),
      subject: () => majordomo(workers, inFlight, (l) => (s = l)),
      target: 0.8,
      rounds: ROUNDS,
      extra: () => latencyExtra(s, b)(),
    });
  }
  for (const [workers, inFlight] of shapes) {
    let s: number[] = [];
    let b: number[] = [];
    await suite.compare({
      name: `Majordomo broker+worker vs raw forwarder with one request per worker, ${workers} worker(s), ${inFlight} in flight, 64 B, tcp`,
      unit: "rt/s",
      baseline: () => rawForwarderRun(workers, inFlight, DURATION, true, (l) => (b = l)),
      subject: () => majordomo(workers, inFlight, (l) => (s = l)),
      target: 0.8,
      rounds: ROUNDS,
      extra: () => latencyExtra(s, b)(),
    });
  }
  for (const [workers, inFlight] of shapes) {
    let s: number[] = [];
    let b: number[] = [];
    await suite.compare({
      name: `Majordomo broker+worker vs raw zeromq.js MDP relay (same frames, no heartbeats), ${workers} worker(s), ${inFlight} in flight, 64 B, tcp`,
      unit: "rt/s",
      baseline: () => rawMdp(workers, inFlight, (l) => (b = l)),
      subject: () => majordomo(workers, inFlight, (l) => (s = l)),
      target: 0.8,
      rounds: ROUNDS,
      extra: () => latencyExtra(s, b)(),
    });
  }
  for (const [workers, inFlight] of shapes) {
    let s: number[] = [];
    let b: number[] = [];
    await suite.compare({
      name: `Majordomo broker+worker vs Paranoid Pirate queue+worker, ${workers} worker(s), ${inFlight} in flight, 64 B, tcp`,
      unit: "rt/s",
      baseline: () => paranoidPirateRun(workers, inFlight, DURATION, (l) => (b = l)),
      subject: () => majordomo(workers, inFlight, (l) => (s = l)),
      rounds: ROUNDS,
      extra: () => latencyExtra(s, b)(),
    });
  }
  for (const workers of [1, 4]) {
    let s: number[] = [];
    let b: number[] = [];
    await suite.compare({
      name: `AsyncMajordomoClient (1 client, 100 in flight) vs 100 raw MDP DEALER clients, ${workers} worker(s), 64 B, tcp`,
      unit: "rt/s",
      baseline: () => majordomo(workers, 100, (l) => (b = l)),
      subject: () => asyncClient(workers, 100, (l) => (s = l)),
      rounds: ROUNDS,
      extra: () => latencyExtra(s, b)(),
    });
  }
  let always: number[] = [];
  let never: number[] = [];
  await suite.compare({
    name: "Titanic durable titanic.request acks, fsync always vs never (8 clients, 8 Titanic request workers)",
    unit: "req/s",
    baseline: () => titanic("never", 8, (l) => (never = l)),
    subject: () => titanic("always", 8, (l) => (always = l)),
    rounds: ROUNDS,
    extra: () => latencyExtra(always, never)(),
  });
}
