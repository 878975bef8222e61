/**
 * @zg/heartbeat benchmark.
 *
 * 1. Tracking cost: CPU share of one core spent by a PresenceTracker (systemClock)
 *    for 10k and 100k peers at I = 1 s, each peer heard once per interval (and,
 *    in a second row, sent a heartbeat once per interval: an idle ping-pong
 *    table), measured with process.cpuUsage over a fixed window, minus the same
 *    feed into a plain Map (the cost of seeing the messages at all, measured in
 *    the same run). Target: < 2 % of one core for 10k.
 * 2. Throughput: a DEALER → ROUTER stream of 64-byte messages with ping-pong on
 *    (HeartbeatDealer → HeartbeatRouter, I = 1 s) against the same raw
 *    zeromq.js stream without heartbeats, same run. Target: ratio ≥ 0.95.
 *
 * Run: pnpm --filter @zg/heartbeat bench
 */
import * as zmq from "zeromq";
import { BenchSuite } from "@zg/testing/bench";
import { createDealer, createRouter, SocketLoop } from "@zg/core";
import { HeartbeatDealer, HeartbeatRouter, PresenceTracker } from "../src/index.js";

const N = Number(process.env["ZG_BENCH_MESSAGES"] ?? 200_000);
const WINDOW_MS = Number(process.env["ZG_BENCH_WINDOW"] ?? 5000);
const PAYLOAD = Buffer.alloc(64, 7);
/**
 * Heartbeat interval during the stream: the Guide's 1000 ms. (At 100 ms a
 * writer that keeps its own event loop busy for more than L·I, as this
 * flat-out loop can on a loaded machine, rightly declares its peer dead: the
 * application heartbeat measures event-loop liveness.)
 */
const STREAM_INTERVAL = 1000;
/** Every stream yields to the event loop this often, as real applications do (timers and readers run). */
const YIELD_EVERY = 10_000;
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * CPU share while `peers` peers are each heard once per second. `mode`:
 * "harness" = the same feed into a plain Map (what any process pays to see
 * the messages, no tracker); "listen" = PresenceTracker without heartbeats
 * (one-way receivers); "ping" = plus one heartbeat per peer per second (an
 * idle ping-pong table).
 */
async function trackingCpu(
  peers: number,
  mode: "harness" | "listen" | "ping",
): Promise<{ cpu: number; heartbeats: number; expired: number }> {
  const pinging = mode === "ping";
  const plain = new Map<string, number>();
  let heartbeats = 0;
  const tracker = new PresenceTracker<string>({
    interval: 1000,
    liveness: 3,
    silentAfter: 1.5,
    ...(pinging ? { sendHeartbeat: () => void heartbeats++ } : {}),
  });
  let expired = 0;
  tracker.on("peer:expired", () => expired++);
  const keys = Array.from({ length: peers }, (_, i) => `peer-${i}`);
  const seen =
    mode === "harness"
      ? (k: string) => void plain.set(k, plain.size)
      : (k: string) => void tracker.seen(k);
  for (const k of keys) seen(k); // all join up front (a one-off cost, outside the window)
  // Then every peer is heard once per second, in 100 slices of 10 ms (its own phase). The feed is
  // time-driven: a late tick catches up, so each peer is heard once per real second.
  const SLICES = 100;
  const origin = performance.now();
  let done = 0;
  const feed = setInterval(() => {
    const due = Math.floor((performance.now() - origin) / 10);
    for (; done < due; done++) {
      const slice = done % SLICES;
      const from = Math.floor((slice * peers) / SLICES);
      const to = Math.floor(((slice + 1) * peers) / SLICES);
      for (let i = from; i < to; i++) seen(keys[i] as string);
    }
  }, 10);
  await sleep(2500); // warm-up: all peers joined, heartbeats in their steady rhythm
  const hb0 = heartbeats;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await sleep(WINDOW_MS);
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  const hb = heartbeats - hb0;
  clearInterval(feed);
  tracker.close();
  return {
    cpu: ((c.user + c.system) / 1000 / wall) * 100,
    heartbeats: (hb / wall) * 1000,
    expired,
  };
}

/** CPU µs per message of each stream (both processes' sides live in this process): far less sensitive to other load than msg/s. */
const cpuPerMessage = { raw: [] as number[], loops: [] as number[], heartbeat: [] as number[] };
function cpuMicros(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return c.user + c.system;
}
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

async function rawStream(): Promise<number> {
  const router = new zmq.Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:*");
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(router.lastEndpoint as string);
  await dealer.send(PAYLOAD);
  await router.receive();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const rx = (async () => {
    for (let i = 0; i < N; i++) await router.receive();
  })();
  for (let i = 0; i < N; i++) {
    await dealer.send(PAYLOAD);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
  }
  await rx;
  const rate = N / ((performance.now() - t0) / 1000);
  cpuPerMessage.raw.push(cpuMicros(c0) / N);
  dealer.close();
  router.close();
  return rate;
}

/** The same stream through @zg/core SocketLoops (the DEALER's with a reader), no heartbeats: the heartbeat layer's own cost. */
async function loopStream(): Promise<number> {
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const router = createRouter({ linger: 0 });
  await router.bind("tcp://127.0.0.1:*");
  const rx = new SocketLoop(router, {
    onMessage: () => {
      if (++got === N) done();
    },
  }).start();
  const dealer = createDealer({ linger: 0 });
  dealer.connect(router.lastEndpoint as string);
  // The DEALER reads too, as any ping-pong DEALER must (a pending receive makes each send dearer in
  // zeromq.js): this isolates the heartbeat logic from the cost of a bidirectional link.
  const tx = new SocketLoop(dealer, { onMessage: () => {} }).start();
  const msg = [PAYLOAD];
  await tx.send(msg);
  got = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    if (i % 100 === 99) await tx.send(msg);
    else tx.post(msg);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
  }
  await finished;
  const rate = N / ((performance.now() - t0) / 1000);
  cpuPerMessage.loops.push(cpuMicros(c0) / N);
  await tx.close();
  await rx.close();
  return rate;
}

let lastPing = { dealer: 0, router: 0 };
async function heartbeatStream(): Promise<number> {
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const router = new HeartbeatRouter({
    endpoints: "tcp://127.0.0.1:*",
    interval: STREAM_INTERVAL,
    onMessage: () => {
      if (++got === N) done();
    },
  });
  const [ep] = (await router.start()).endpoints;
  const dealer = new HeartbeatDealer({
    router: ep as string,
    interval: STREAM_INTERVAL,
    routingId: "bench",
  });
  await dealer.start();
  while (router.stats().peers === 0) await sleep(5);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const msg = [PAYLOAD];
  for (let i = 0; i < N; i++) {
    // post() without awaiting; every 100th message awaits its outcome, so the bounded queue never overflows.
    if (i % 100 === 99) await dealer.send(msg);
    else dealer.post(msg);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToLoop();
  }
  // A writer that never lets its event loop turn for L·I makes its own heartbeat declare the peer dead
  // (and the replaced socket discards the queue): fail loudly rather than wait forever.
  const died = dealer.next("peer:expired").then(() => {
    throw new Error("the router was declared dead during the stream");
  });
  await Promise.race([finished, died]);
  const rate = N / ((performance.now() - t0) / 1000);
  cpuPerMessage.heartbeat.push(cpuMicros(c0) / N);
  lastPing = { dealer: dealer.stats().pingsSent, router: router.stats().pingsSent };
  if (router.stats().expired !== 0 || dealer.stats().expired !== 0)
    throw new Error("a peer expired during the stream");
  await dealer.close();
  await router.close();
  return rate;
}

const suite = new BenchSuite("@zg/heartbeat");
for (const peers of [10_000, 100_000]) {
  const harness = await trackingCpu(peers, "harness");
  for (const mode of ["listen", "ping"] as const) {
    const r = await trackingCpu(peers, mode);
    const marginal = r.cpu - harness.cpu;
    const target = peers === 10_000 && mode === "listen";
    suite.record({
      name: `PresenceTracker, ${peers.toLocaleString("en-US")} peers, I = 1 s, each heard once per s${mode === "ping" ? " + pinged once per s" : ""} (tracker's own CPU)`,
      unit: "% core",
      value: marginal,
      ...(target ? { target: 2, met: marginal < 2 } : {}),
      extra: {
        processTotal: r.cpu,
        sameFeedWithoutTracker: harness.cpu,
        heartbeatsPerSecond: Math.round(r.heartbeats),
        falseExpiries: r.expired,
        windowMs: WINDOW_MS,
      },
    });
  }
}
await suite.compare({
  name: `DEALER→ROUTER stream, 64 B, ping-pong I = 1 s vs raw (${N.toLocaleString("en-US")} msgs)`,
  unit: "msg/s",
  baseline: rawStream,
  subject: heartbeatStream,
  target: 0.95,
  rounds: 5,
  extra: () => ({ dealerPings: lastPing.dealer, routerPings: lastPing.router }),
});
await suite.compare({
  name: `same stream, ping-pong vs @zg/core SocketLoops (DEALER reading too) without heartbeats`,
  unit: "msg/s",
  baseline: loopStream,
  subject: heartbeatStream,
  target: 0.95,
  rounds: 5,
  extra: () => ({ dealerPings: lastPing.dealer, routerPings: lastPing.router }),
});
const hbCpu = median(cpuPerMessage.heartbeat);
for (const [name, base] of [
  ["raw zeromq.js", median(cpuPerMessage.raw)],
  ["@zg/core SocketLoops", median(cpuPerMessage.loops)],
] as const) {
  suite.record({
    name: `same stream, CPU per message: ping-pong vs ${name} (ratio = baseline / ping-pong)`,
    unit: "µs/msg",
    value: hbCpu,
    baseline: base,
    ratio: base / hbCpu,
    target: 0.95,
    met: base / hbCpu >= 0.95,
  });
}
suite.finish();
