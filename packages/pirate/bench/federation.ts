/**
 * @zg/pirate federation benchmark (imported by bench/index.ts; `ZG_BENCH_ONLY=federation`):
 *
 * - Round trips per second and p50/p99 for an AsyncMajordomoClient whose
 *   broker has no workers, reaching 4 workers one peer hop away (client → A →
 *   B → worker) and two hops away (edge → core → work), against the same
 *   client and workers on one broker, measured in the same run, on tcp
 *   loopback: once with every broker in this process, once with each broker
 *   in its own process (client and workers stay in this one).
 * - State-flow (capacity announcement) traffic per broker, bytes/s, for 10 and
 *   100 services and 2 and 5 peers, from the federation core on a ManualClock
 *   (what each broker writes; the same bytes cross the wire).
 *
 * Run: pnpm --filter @zg/pirate bench  (ZG_BENCH_DURATION=ms per round, default 1000)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ManualClock } from "@zg/core";
import { percentiles } from "@zg/testing";
import type { BenchSuite } from "@zg/testing/bench";
import {
  AsyncMajordomoClient,
  DEFAULT_MDP_FEDERATION_STATE_INTERVAL,
  MajordomoBroker,
  MajordomoClient,
  MajordomoWorker,
  type MajordomoFederationOptions,
} from "../src/index.js";
import { FederationCore } from "../src/majordomo/federation/federation-core.js";

const DURATION = Number(process.env["ZG_BENCH_DURATION"] ?? 1000);
const ROUNDS = Number(process.env["ZG_BENCH_ROUNDS"] ?? 3);
const WORKERS = 4;
/** The federated broker process of the namespace test bed (ready line on stdout, SIGTERM stops it). */
const BROKER_PROCESS = fileURLToPath(
  new URL("../test/fixtures/majordomo-netns-broker.ts", import.meta.url),
);

/** A started chain of brokers: clients use `first`, workers `last`. */
interface Chain {
  first: string;
  last: string;
  /** True once the first broker can route to the workers (idle capacity seen, or MMI says so). */
  routable: () => Promise<boolean>;
  close: () => Promise<void>;
}

/** The federation options of broker `i` of a chain of `hops + 1` (none for a single broker). */
function chainFederation(
  hops: number,
  i: number,
  upstream: string | undefined,
): MajordomoFederationOptions | undefined {
  if (hops === 0) return undefined;
  return {
    name: `b${i}`,
    endpoints: "tcp://127.0.0.1:*",
    ...(upstream === undefined ? {} : { peers: { [`b${i + 1}`]: upstream } }),
    ...(i > 0 ? { accept: [`b${i - 1}`] } : {}),
    stateInterval: 100,
  };
}

/** The chain's brokers in this process. */
async function inProcessChain(hops: number): Promise<Chain> {
  const brokers: MajordomoBroker[] = [];
  let upstream: string | undefined;
  // Bind from the last (the workers' broker) to the first, so each knows its upstream's endpoint.
  for (let i = hops; i >= 0; i--) {
    const federation = chainFederation(hops, i, upstream);
    const b = new MajordomoBroker({
      endpoints: "tcp://127.0.0.1:*",
      ...(federation === undefined ? {} : { federation }),
    });
    await b.start();
    brokers.unshift(b);
    upstream = b.stats().federation?.endpoints[0];
  }
  const first = brokers[0] as MajordomoBroker;
  return {
    first: first.endpoints[0] as string,
    last: (brokers[hops] as MajordomoBroker).endpoints[0] as string,
    routable: () =>
      Promise.resolve(
        hops === 0
          ? (first.stats().perService["echo"]?.idleWorkers ?? 0) >= WORKERS
          : (first.stats().federation?.perPeer["b1"]?.idleWorkers ?? 0) >= WORKERS,
      ),
    close: async () => {
      for (const b of brokers) await b.close();
    },
  };
}

/** The chain's brokers each in its own process (the test bed's broker fixture). */
async function processChain(hops: number): Promise<Chain> {
  const procs: ChildProcess[] = [];
  const endpoints: string[] = [];
  let upstream: string | undefined;
  for (let i = hops; i >= 0; i--) {
    const federation = chainFederation(hops, i, upstream);
    const proc = spawn(
      process.execPath,
      [
        "--conditions=@zg/source",
        "--import",
        "tsx",
        BROKER_PROCESS,
        JSON.stringify({
          endpoints: "tcp://127.0.0.1:*",
          ...(federation === undefined ? {} : { federation }),
        }),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    procs.unshift(proc);
    const ready = await new Promise<{ broker: string[]; peering: string[] }>((resolve, reject) => {
      let buf = "";
      proc.stdout?.on("data", (d: Buffer) => {
        buf += d.toString();
        const line = buf.split("\n").find((l) => l.startsWith('{"ready"'));
        if (line !== undefined)
          resolve((JSON.parse(line) as { ready: { broker: string[]; peering: string[] } }).ready);
      });
      proc.once("exit", (code) => reject(new Error(`bench broker exited ${code}`)));
    });
    endpoints.unshift(ready.broker[0] as string);
    upstream = ready.peering[0];
  }
  const probe = new MajordomoClient({ broker: endpoints[0] as string, timeout: 1000, attempts: 1 });
  await probe.start();
  return {
    first: endpoints[0] as string,
    last: endpoints[hops] as string,
    routable: async () => {
      try {
        return (await probe.request("mmi.service", ["echo"]))[0]?.toString() === "200";
      } catch {
        return false;
      }
    },
    close: async () => {
      await probe.close();
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((r) => {
              p.once("exit", () => r());
              p.kill("SIGTERM");
            }),
        ),
      );
    },
  };
}

/**
 * Starts a chain of `hops + 1` brokers (each peers with the next: the first
 * is the client's, the last has the workers), runs `inFlight` requests for
 * DURATION ms, closes everything. @returns round trips per second.
 */
async function run(
  hops: number,
  inFlight: number,
  processes: boolean,
  record: (l: number[]) => void,
): Promise<number> {
  const chain = await (processes ? processChain(hops) : inProcessChain(hops));
  const workers = Array.from(
    { length: WORKERS },
    () => new MajordomoWorker({ broker: chain.last, service: "echo", handler: (r) => r }),
  );
  for (const w of workers) await w.start();
  while (!(await chain.routable())) await new Promise((r) => setTimeout(r, 5));
  if (processes) await new Promise((r) => setTimeout(r, 300)); // every worker announced
  const client = new AsyncMajordomoClient({ broker: chain.first, timeout: 10_000 });
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
  for (const w of workers) await w.close();
  await chain.close();
  return count / (DURATION / 1000);
}

/** Bytes per second one broker writes as state flow, with `services` local services and `peers` peers. */
function stateTraffic(services: number, peers: number): number {
  const clock = new ManualClock();
  const local: [string, number, number][] = Array.from({ length: services }, (_, i) => [
    `service-${i}`,
    3,
    4,
  ]);
  const core = new FederationCore({
    name: "bench",
    peers: Array.from({ length: peers }, (_, i) => `peer-${i}`),
    accept: [],
    stateInterval: DEFAULT_MDP_FEDERATION_STATE_INTERVAL,
    peerLiveness: 3,
    forwardTimeout: 10_000,
    maxHops: 2,
    maxServices: 10_000,
    epoch: "0123456789abcdef",
    clock,
    send: () => undefined,
    local: () => local,
    broker: {
      replied: () => undefined,
      failed: () => undefined,
      capacity: () => undefined,
      submit: () => undefined,
    },
    emit: () => undefined,
  });
  core.start();
  const seconds = 60;
  clock.advance(seconds * 1000);
  const bytes = core.stats().stateBytesSent;
  core.close();
  return bytes / seconds;
}

/** Runs the federation rows into `suite`. */
export async function runFederation(all: BenchSuite): Promise<void> {
  // ZG_BENCH_FILTER=text runs only the rows whose name contains it (as in part 2).
  const filter = process.env["ZG_BENCH_FILTER"];
  const suite = {
    compare: async (spec: Parameters<BenchSuite["compare"]>[0]): Promise<void> => {
      if (filter === undefined || spec.name.includes(filter)) await all.compare(spec);
    },
    record: (row: Parameters<BenchSuite["record"]>[0]): void => {
      if (filter === undefined || row.name.includes(filter)) all.record(row);
    },
  };
  for (const processes of [false, true])
    for (const hops of [1, 2])
      for (const inFlight of [10, 100]) {
        let s: number[] = [];
        let b: number[] = [];
        const where = processes ? "each broker its own process" : "all brokers in one process";
        await suite.compare({
          name: `Majordomo federation, client ${hops} peer hop(s) from ${WORKERS} workers vs one broker, ${inFlight} in flight, 64 B, tcp, ${where}`,
          unit: "rt/s",
          baseline: () => run(0, inFlight, processes, (l) => (b = l)),
          subject: () => run(hops, inFlight, processes, (l) => (s = l)),
          rounds: ROUNDS,
          extra: () => {
            const x = percentiles(s);
            const y = percentiles(b);
            return { p50_ms: x.p50, p99_ms: x.p99, base_p50_ms: y.p50, base_p99_ms: y.p99 };
          },
        });
      }
  for (const services of [10, 100])
    for (const peers of [2, 5])
      suite.record({
        name: `Majordomo federation state flow per broker, ${services} services, ${peers} peers, every ${DEFAULT_MDP_FEDERATION_STATE_INTERVAL} ms`,
        unit: "B/s",
        value: Math.round(stateTraffic(services, peers)),
      });
}
