import { describe, expect, test } from "vitest";
import { Dealer, Router } from "zeromq";
import { closeAfter, waitFor } from "@zg/testing";
import { HarmonyClient, HarmonyCollector, HarmonyWorker } from "../src/index.js";

async function pipeline(workers: number, opts: { heartbeatInterval?: number } = {}) {
  const collector = closeAfter(new HarmonyCollector({ missingAfter: 200 }));
  const [collectorEp] = (await collector.start()).endpoints;
  const client = closeAfter(
    new HarmonyClient({
      collector: collectorEp!,
      heartbeatInterval: opts.heartbeatInterval ?? 100,
      resendTimeout: 2000,
    }),
  );
  const { endpoints } = await client.start();
  const pool: HarmonyWorker[] = [];
  for (let i = 0; i < workers; i++) {
    const w = closeAfter(
      new HarmonyWorker({
        clients: endpoints,
        collector: collectorEp!,
        heartbeatInterval: opts.heartbeatInterval ?? 100,
        credit: 4096,
        handler: (t) => Buffer.concat([Buffer.from("done:"), t]),
      }),
    );
    await w.start();
    pool.push(w);
  }
  return { collector, collectorEp: collectorEp!, client, endpoints, pool };
}

const tasks = (n: number, tag = "") =>
  Array.from({ length: n }, (_, i) => Buffer.from(`${tag}${i}`));

describe("reliable pipeline on real sockets", () => {
  test("a batch over 3 workers: every result once, in task order; the collector forgets it", async () => {
    const { client, collector, pool } = await pipeline(3);
    const results = await client.submit(tasks(2000)).done;
    expect(results.map(String)).toEqual(tasks(2000).map((t) => `done:${t.toString()}`));
    await waitFor(() => collector.stats().batches === 0, { timeout: 2000 });
    expect(collector.stats().duplicates).toBe(0);
    const ran = pool.map((w) => w.stats().completed);
    expect(ran.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(ran.filter((n) => n > 0).length).toBeGreaterThan(1); // shared, not one worker
  });

  test("two clients on one collector and one worker pool do not mix", async () => {
    const { collectorEp, endpoints: epA, client: a } = await pipeline(0);
    const b = closeAfter(new HarmonyClient({ collector: collectorEp, heartbeatInterval: 100 }));
    const { endpoints: epB } = await b.start();
    for (let i = 0; i < 2; i++) {
      await closeAfter(
        new HarmonyWorker({
          clients: [...epA, ...epB],
          collector: collectorEp,
          heartbeatInterval: 100,
          handler: (t) => t,
        }),
      ).start();
    }
    const [ra, rb] = await Promise.all([
      a.submit(tasks(500, "A")).done,
      b.submit(tasks(500, "B")).done,
    ]);
    expect(ra.map(String)).toEqual(tasks(500, "A").map(String));
    expect(rb.map(String)).toEqual(tasks(500, "B").map(String));
  });

  test("garbage at every socket is counted and dropped, and a good batch follows", async () => {
    const { client, collector, collectorEp, endpoints, pool } = await pipeline(1);
    const junk = [
      [Buffer.from("hello")],
      [Buffer.from("ZGHP01"), Buffer.from([0x99])],
      [Buffer.from("ZGHP01"), Buffer.from([0x02])],
    ];
    const toClient = closeAfter(new Dealer({ linger: 0 }));
    toClient.connect(endpoints[0]!);
    const toCollector = closeAfter(new Dealer({ linger: 0 }));
    toCollector.connect(collectorEp);
    for (const m of junk) {
      await toClient.send(m);
      await toCollector.send(m);
    }
    await waitFor(
      () => client.stats().protocolErrors >= 3 && collector.stats().protocolErrors >= 3,
      { timeout: 2000 },
    );
    const results = await client.submit(tasks(100)).done;
    expect(results).toHaveLength(100);
    expect(pool[0]!.state).toBe("running");
  });

  test("garbage at a worker's socket (from a fake client) is counted and dropped; the worker serves a real client after it", async () => {
    const { client, collectorEp, endpoints } = await pipeline(0);
    const fake = closeAfter(new Router({ linger: 0 }));
    await fake.bind("tcp://127.0.0.1:*");
    const worker = closeAfter(
      new HarmonyWorker({
        clients: [fake.lastEndpoint!, ...endpoints],
        collector: collectorEp,
        heartbeatInterval: 100,
        handler: (t) => t,
      }),
    );
    await worker.start();
    const [id] = await fake.receive(); // the worker's first CREDIT
    for (const junk of [
      [Buffer.from("x")],
      [Buffer.from("ZGHP01"), Buffer.from([0x02])],
      [Buffer.from("ZGHP01"), Buffer.from([0x10])],
    ])
      await fake.send([id!, ...junk]);
    await waitFor(() => worker.stats().protocolErrors >= 3, { timeout: 2000 });
    expect((await client.submit(tasks(50)).done).map(String)).toEqual(tasks(50).map(String));
  });

  test("a batch beyond the collector's maxBatchSize is refused on the wire: done rejects at once with ZG_OVERFLOW", async () => {
    const collector = closeAfter(new HarmonyCollector({ maxBatchSize: 10 }));
    const [ep] = (await collector.start()).endpoints;
    const client = closeAfter(new HarmonyClient({ collector: ep!, heartbeatInterval: 50 }));
    await client.start();
    const t0 = performance.now();
    await expect(client.submit(tasks(11)).done).rejects.toMatchObject({
      code: "ZG_OVERFLOW",
      details: { bound: "maxBatchSize" },
    });
    expect(performance.now() - t0).toBeLessThan(5000); // the answer, not the 60 s budget
    expect(collector.stats().refused).toBe(1);
  });

  test("abort and budget reject batch.done with typed errors", async () => {
    const collector = closeAfter(new HarmonyCollector());
    const [ep] = (await collector.start()).endpoints;
    const client = closeAfter(new HarmonyClient({ collector: ep!, heartbeatInterval: 50 }));
    await client.start(); // no workers: nothing can finish
    const ac = new AbortController();
    const a = client.submit(tasks(5), { signal: ac.signal });
    ac.abort();
    await expect(a.done).rejects.toMatchObject({ code: "ZG_ABORTED" });
    await expect(client.submit(tasks(5), { timeout: 200 }).done).rejects.toMatchObject({
      code: "ZG_TIMEOUT",
    });
    const pending = client.submit(tasks(5));
    await client.close();
    await expect(pending.done).rejects.toMatchObject({ code: "ZG_CLOSED" });
  });
});
