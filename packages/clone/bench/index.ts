/**
 * @zg/clone benchmark (ratios to raw zeromq.js measured in the same run).
 *
 * 1. Update fan-out, server → subscribers (the figure): updates applied at the CloneServer
 *    (`server.set`: sequence, map, publish), out to 1 and 10 CloneClients (whole map, 100 B
 *    values), against raw PUB → SUB (HWM 0) carrying the same five-frame kvmsg bytes to the same
 *    number of subscribers. Target ≥ 0.7. Also, for reference, the same updates entering through
 *    the collector (a feeding PUB → collector SUB → server → subscribers: two hops against one).
 * 2. `set` round trip (client → collector → publisher → client, confirmed): p50/p99, one at a time.
 * 3. Snapshot of 100 000 keys to a late joiner: time to `synced`, against a raw ROUTER → DEALER
 *    stream of the same messages.
 *
 * Run: pnpm --filter @zg/clone bench   (ZG_BENCH_MESSAGES, ZG_BENCH_KEYS to change the sizes)
 */
import * as zmq from "zeromq";
import { BenchSuite } from "@zg/testing/bench";
import { percentiles } from "@zg/testing";
import {
  CloneClient,
  CloneServer,
  encodeKvMsg,
  type CloneEndpoints,
  type KvMsg,
} from "../src/index.js";

const N = Number(process.env["ZG_BENCH_MESSAGES"] ?? 50_000);
const KEYS = Number(process.env["ZG_BENCH_KEYS"] ?? 100_000);
const VALUE = Buffer.alloc(100, 0x61);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
let port = 0;
const ipc = (name: string) => `ipc:///tmp/zg-clone-bench-${process.pid}-${name}-${port++}`;
const ends = (): CloneEndpoints => ({
  snapshot: ipc("s"),
  publisher: ipc("p"),
  collector: ipc("c"),
});
const kv = (i: number): KvMsg => ({
  key: `/k/${i % 1000}`,
  sequence: BigInt(i + 1),
  uuid: Buffer.alloc(0),
  properties: new Map(),
  body: VALUE,
});

async function rawFanout(subs: number): Promise<number> {
  const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 0 });
  const ep = ipc("raw");
  await pub.bind(ep);
  const sockets = Array.from({ length: subs }, () => {
    const s = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 0 });
    s.subscribe();
    s.connect(ep);
    return s;
  });
  await sleep(300);
  const t0 = performance.now();
  const done = sockets.map(async (s) => {
    for (let got = 0; got < N; got++) await s.receive();
  });
  for (let i = 0; i < N; i++) await pub.send(encodeKvMsg(kv(i)));
  await Promise.all(done);
  const rate = N / ((performance.now() - t0) / 1000);
  for (const s of sockets) s.close();
  pub.close();
  return rate;
}

async function cloneFanout(subs: number, viaCollector: boolean): Promise<number> {
  const e = ends();
  const server = new CloneServer({ bind: e, publisherHighWaterMark: 0 });
  await server.start();
  const clients = Array.from(
    { length: subs },
    () => new CloneClient({ servers: e, subscribeWait: 200 }),
  );
  for (const c of clients) await c.start();
  for (const c of clients) await c.waitSynced();
  const feed = viaCollector ? new zmq.Publisher({ linger: 0, sendHighWaterMark: 0 }) : undefined;
  feed?.connect(e.collector);
  await sleep(300);
  const base = server.sequence;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    if (feed === undefined) await server.set(`/k/${i % 1000}`, VALUE);
    else await feed.send(encodeKvMsg({ ...kv(i), sequence: 0n }));
  }
  const target = base + BigInt(N);
  while (clients.some((c) => c.sequence < target)) await sleep(1);
  const rate = N / ((performance.now() - t0) / 1000);
  feed?.close();
  for (const c of clients) await c.close();
  await server.close();
  return rate;
}

const suite = new BenchSuite("@zg/clone");
for (const subs of [1, 10]) {
  await suite.compare({
    name: `update fan-out, server → ${subs} subscriber(s), 100 B values, ${N} updates vs raw PUB→SUB (HWM 0)`,
    unit: "updates/s",
    target: 0.7,
    baseline: () => rawFanout(subs),
    subject: () => cloneFanout(subs, false),
  });
}
await suite.compare({
  name: `updates through the collector (feed PUB → collector → server → 1 subscriber: two hops) vs raw PUB→SUB (one)`,
  unit: "updates/s",
  baseline: () => rawFanout(1),
  subject: () => cloneFanout(1, true),
});

{
  const e = ends();
  const server = new CloneServer({ bind: e });
  await server.start();
  const client = new CloneClient({ servers: e, subscribeWait: 200 });
  await client.start();
  await client.waitSynced();
  const samples: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t0 = performance.now();
    await client.set(`/rt/${i % 100}`, VALUE);
    samples.push(performance.now() - t0);
  }
  const p = percentiles(samples);
  suite.record({
    name: "set → confirmed round trip, p50 (ms)",
    unit: "ms",
    value: p.p50,
    extra: { p99: p.p99, max: p.max },
  });
  await client.close();
  await server.close();
}

async function rawSnapshot(): Promise<number> {
  const router = new zmq.Router({ linger: 0, sendHighWaterMark: 0 });
  const ep = ipc("snap");
  await router.bind(ep);
  const dealer = new zmq.Dealer({ linger: 0, receiveHighWaterMark: 0 });
  dealer.connect(ep);
  await dealer.send("ICANHAZ?");
  const [id] = await router.receive();
  const t0 = performance.now();
  const recv = (async () => {
    for (let i = 0; i <= KEYS; i++) await dealer.receive();
  })();
  for (let i = 0; i < KEYS; i++)
    await router.send([id!, ...encodeKvMsg({ ...kv(i), key: `/k/${i}` })]);
  await router.send([id!, ...encodeKvMsg({ ...kv(KEYS), key: "KTHXBAI" })]);
  await recv;
  const ms = performance.now() - t0;
  dealer.close();
  router.close();
  return ms;
}
async function cloneSnapshot(): Promise<number> {
  const e = ends();
  const server = new CloneServer({ bind: e });
  await server.start();
  const feed = new zmq.Publisher({ linger: 0, sendHighWaterMark: 0 });
  feed.connect(e.collector);
  await sleep(300);
  for (let i = 0; i < KEYS; i++)
    await feed.send(encodeKvMsg({ ...kv(i), key: `/k/${i}`, sequence: 0n }));
  while (server.stats().keys < KEYS) await sleep(5);
  feed.close();
  const client = new CloneClient({ servers: e, subscribeWait: 0 });
  const t0 = performance.now();
  await client.start();
  await client.waitSynced({ timeout: 120_000 });
  const ms = performance.now() - t0;
  await client.close();
  await server.close();
  return ms;
}
await suite.compare({
  name: `snapshot of ${KEYS} keys to a late joiner vs raw ROUTER→DEALER stream of the same messages`,
  unit: "ms",
  lowerIsBetter: true,
  rounds: 1,
  baseline: rawSnapshot,
  subject: cloneSnapshot,
});
suite.finish();
