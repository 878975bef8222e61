/**
 * @zg/zns benchmarks:
 * - lookups per second through the local agent (ZnsClient → ZnsAgent, 10/FLP over ipc://, cache
 *   off) against a raw zeromq.js REQ/REP round trip on the same ipc:// transport;
 * - cache hits per second in process (ZnsClient.resolve answered from its TTL cache);
 * - propagation time of a name change in the central file to 10 agents, p50/p99.
 *
 * Run: pnpm --filter @zg/zns bench   (`ZG_BENCH_DURATION` sets the ms per measurement, default 2000)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BenchSuite } from "@zg/testing/bench";
import * as zmq from "zeromq";
import { ZnsAgent, ZnsClient, ZnsServer } from "../src/index.js";

const DURATION = Number(process.env["ZG_BENCH_DURATION"] ?? 2000);
const dir = mkdtempSync(join(tmpdir(), "zns-bench-"));
const names = (port: number): string =>
  `name\n    echo\n        connect = tcp://127.0.0.1:${port}\n        ttl = 60000\n`;
const file = join(dir, "names.zpl");
writeFileSync(file, names(5000));
const suite = new BenchSuite("@zg/zns");

/** Round trips per second of `once` run back to back for DURATION ms. */
async function rate(once: () => Promise<unknown>): Promise<number> {
  const end = performance.now() + DURATION;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await once();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

const server = new ZnsServer({
  names: file,
  watchInterval: 50,
  feedOptions: { syncInterval: 200 },
});
const { endpoints } = await server.start();
const agent = new ZnsAgent({ servers: endpoints, runtimeDir: join(dir, "agent"), cache: false });
await agent.start();
await agent.whenSynced();
const client = new ZnsClient({ agent: agent.endpoint, cacheEntries: 0 });
await client.start();

const rep = new zmq.Reply({ linger: 0 });
const repEndpoint = `ipc://${join(dir, "rep")}`;
await rep.bind(repEndpoint);
void (async () => {
  for await (const msg of rep) await rep.send(msg);
})().catch(() => undefined);
const req = new zmq.Request({ linger: 0 });
req.connect(repEndpoint);

await suite.compare({
  name: "lookup through the local agent (ipc://, cache off) vs raw REQ/REP on ipc://",
  unit: "rt/s",
  baseline: () =>
    rate(async () => {
      await req.send(["ZNS01", "RESOLVE", "echo", ""]);
      await req.receive();
    }),
  subject: () => rate(() => client.resolve("echo")),
});

const cached = new ZnsClient({ agent: agent.endpoint });
await cached.start();
await cached.resolve("echo");
const hits = await rate(() => cached.resolve("echo"));
suite.record({
  name: "in-process cache hits (ZnsClient.resolve, answer within its ttl)",
  unit: "ops/s",
  value: hits,
});

// Propagation: 10 agents, the names file rewritten 10 times; time from write to each agent's table.
const agents = await Promise.all(
  Array.from({ length: 10 }, async (_, i) => {
    const a = new ZnsAgent({ servers: endpoints, runtimeDir: join(dir, `a${i}`), cache: false });
    await a.start();
    await a.whenSynced();
    return a;
  }),
);
const samples: number[] = [];
for (let round = 1; round <= 10; round++) {
  const t0 = performance.now();
  const port = 5000 + round;
  const arrived = agents.map(
    (a) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (a.resolve("echo")?.connect[0]?.endsWith(`:${port}`)) {
            samples.push(performance.now() - t0);
            a.off("table:updated", check);
            resolve();
          }
        };
        a.on("table:updated", check);
      }),
  );
  writeFileSync(file, names(port));
  await Promise.all(arrived);
}
samples.sort((x, y) => x - y);
const q = (p: number): number =>
  samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0;
suite.record({
  name: "name change → 10 agents (file watch 50 ms + feed push), p50",
  unit: "ms",
  value: q(0.5),
  extra: { p99: Number(q(0.99).toFixed(1)), samples: samples.length },
});

for (const a of agents) await a.close();
req.close();
rep.close();
await cached.close();
await client.close();
await agent.close();
await server.close();
rmSync(dir, { recursive: true, force: true });
suite.finish();
process.exit(0);
