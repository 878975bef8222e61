/**
 * @zg/pirate federation benchmark (imported by bench/index.ts; `ZG_BENCH_ONLY=federation`):
 *
 * - Round trips per second and p50/p99 for an AsyncMajordomoClient whose
 *   broker has no workers, reaching 4 workers one peer hop away (client → A →
 *   B → worker) and two hops away (edge → core → work), against the same
 *   client and workers on one broker, measured in the same run. All brokers
 *   run in this process on tcp loopback (one "host").
 * - State-flow (capacity announcement) traffic per broker, bytes/s, for 10 and
 *   100 services and 2 and 5 peers, from the federation core on a ManualClock
 *   (what each broker writes; the same bytes cross the wire).
 *
 * Run: pnpm --filter @zg/pirate bench  (ZG_BENCH_DURATION=ms per round, default 1000)
 */
import { ManualClock } from "@zg/core";
import { percentiles } from "@zg/testing";
import type { BenchSuite } from "@zg/testing/bench";
import {
  AsyncMajordomoClient,
  DEFAULT_MDP_FEDERATION_STATE_INTERVAL,
  MajordomoBroker,
  MajordomoWorker,
  type MajordomoFederationOptions,
} from "../src/index.js";
import { FederationCore } from "../src/majordomo/federation/federation-core.js";

const DURATION = Number(process.env["ZG_BENCH_DURATION"] ?? 1000);
const ROUNDS = Number(process.env["ZG_BENCH_ROUNDS"] ?? 3);
const WORKERS = 4;

/**
 * Starts the brokers of `chain` (each peers with the next: the first is the
 * client's, the last has the workers), runs `inFlight` requests for
 * DURATION ms, closes everything. @returns round trips per second.
 */
async function run(hops: number, inFlight: number, record: (l: number[]) => void): Promise<number> {
  const brokers: MajordomoBroker[] = [];
  const peering: string[] = [];
  // Bind from the last (the workers' broker) to the first, so each knows its upstream's endpoint.
  for (let i = hops; i >= 0; i--) {
    const federation: MajordomoFederationOptions | undefined =
      hops === 0
        ? undefined
        : {
            name: `b${i}`,
            endpoints: "tcp://127.0.0.1:*",
            ...(i < hops ? { peers: { [`b${i + 1}`]: peering[0] as string } } : {}),
            ...(i > 0 ? { accept: [`b${i - 1}`] } : {}),
            stateInterval: 100,
          };
    const b = new MajordomoBroker({
      endpoints: "tcp://127.0.0.1:*",
      ...(federation === undefined ? {} : { federation }),
    });
    await b.start();
    brokers.unshift(b);
    peering.unshift(b.stats().federation?.endpoints[0] ?? "");
  }
  const first = brokers[0] as MajordomoBroker;
  const last = brokers[hops] as MajordomoBroker;
  const workers = Array.from(
    { length: WORKERS },
    () =>
      new MajordomoWorker({
        broker: last.endpoints[0] as string,
        service: "echo",
        handler: (r) => r,
      }),
  );
  for (const w of workers) await w.start();
  const ready = (): boolean =>
    hops === 0
      ? (first.stats().perService["echo"]?.idleWorkers ?? 0) >= WORKERS
      : (first.stats().federation?.perPeer["b1"]?.idleWorkers ?? 0) >= WORKERS;
  while (!ready()) await new Promise((r) => setTimeout(r, 5));
  const client = new AsyncMajordomoClient({
    broker: first.endpoints[0] as string,
    timeout: 10_000,
  });
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
  for (const b of brokers) await b.close();
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
export async function runFederation(suite: BenchSuite): Promise<void> {
  for (const hops of [1, 2])
    for (const inFlight of [10, 100]) {
      let s: number[] = [];
      let b: number[] = [];
      await suite.compare({
        name: `Majordomo federation, client ${hops} peer hop(s) from ${WORKERS} workers vs one broker, ${inFlight} in flight, 64 B, tcp`,
        unit: "rt/s",
        baseline: () => run(0, inFlight, (l) => (b = l)),
        subject: () => run(hops, inFlight, (l) => (s = l)),
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
