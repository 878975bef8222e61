import { describe, expect, test } from "vitest";
import { closeAfter, delay, transports, waitFor } from "@zg/testing";
import {
  AsyncMajordomoClient,
  MajordomoBroker,
  MajordomoClient,
  MajordomoWorker,
  type MajordomoBrokerOptions,
  type MajordomoHandler,
  type MdpVersion,
} from "../src/index.js";

const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };

async function broker(
  endpoint = transports.tcp(),
  extra: Partial<MajordomoBrokerOptions> = {},
): Promise<{ broker: MajordomoBroker; ep: string }> {
  const b = closeAfter(new MajordomoBroker({ endpoints: endpoint, ...HB, ...extra }));
  const { endpoints } = await b.start();
  return { broker: b, ep: endpoints[0] as string };
}

async function worker(
  ep: string,
  service: string,
  handler: MajordomoHandler = (req) => req,
  version: MdpVersion = "MDP/0.1",
): Promise<MajordomoWorker> {
  const w = closeAfter(
    new MajordomoWorker({ broker: ep, service, handler, version, ...HB, reconnectDelay: 100 }),
  );
  await w.start();
  return w;
}

const str = (frames: Buffer[]): string[] => frames.map((f) => f.toString());

describe.each(Object.entries(transports))("Majordomo over %s", (_name, endpoint) => {
  test("sync client, 0.1 and 0.2 workers and clients share one service", async () => {
    const { broker: b, ep } = await broker(endpoint());
    await worker(ep, "echo", (r) => r, "MDP/0.1");
    await worker(ep, "echo", (r) => [Buffer.from("v2"), ...r], "MDP/0.2");
    await waitFor(() => b.stats().perService["echo"]?.workers === 2, { what: "2 workers" });
    for (const version of ["MDP/0.1", "MDP/0.2"] as const) {
      const c = closeAfter(new MajordomoClient({ broker: ep, version, timeout: 1000 }));
      await c.start();
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const reply = str(await c.request("echo", [`hi ${i}`]));
        expect(reply[reply.length - 1]).toBe(`hi ${i}`);
        seen.add(reply.length === 2 ? "0.2 worker" : "0.1 worker");
      }
      expect(seen.size).toBe(2); // LRU alternates between the two workers
    }
    expect(b.stats().perService["echo"]).toMatchObject({ served: 12, workers: 2, queued: 0 });
  });
});

describe("Majordomo behaviour", () => {
  test("MMI: mmi.service follows live workers, other mmi.* answer 501, mmi.services lists", async () => {
    const { ep } = await broker();
    const c = closeAfter(new MajordomoClient({ broker: ep, timeout: 1000 }));
    await c.start();
    expect(str(await c.request("mmi.service", ["echo"]))).toEqual(["404"]);
    const w = await worker(ep, "echo");
    await waitFor(async () => str(await c.request("mmi.service", ["echo"]))[0] === "200", {
      what: "echo registered",
    });
    expect(str(await c.request("mmi.services", ["x"]))).toEqual(["200", "echo"]);
    expect(str(await c.request("mmi.nope", ["x"]))).toEqual(["501"]);
    await w.close(); // sends DISCONNECT
    await waitFor(async () => str(await c.request("mmi.service", ["echo"]))[0] === "404", {
      what: "echo gone",
    });
  });

  test("a request for a service without workers expires with a 504 error reply", async () => {
    const { broker: b, ep } = await broker(undefined, { requestExpiry: 200, serviceTtl: 100 });
    const c = closeAfter(new MajordomoClient({ broker: ep, timeout: 2000, attempts: 1 }));
    await c.start();
    const t0 = performance.now();
    await expect(c.request("nobody", ["x"])).rejects.toMatchObject({
      code: "ZG_TIMEOUT",
      details: { status: "504" },
    });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(b.stats()).toMatchObject({ expired: 1 });
    await waitFor(() => b.stats().perService["nobody"] === undefined, {
      what: "empty service removed",
    });
  });

  test("sync client: retries exhausted without a broker, recovers when the broker appears", async () => {
    const c = closeAfter(
      new MajordomoClient({ broker: "tcp://127.0.0.1:1", timeout: 50, attempts: 3 }),
    );
    await c.start();
    await expect(c.request("echo", ["x"])).rejects.toMatchObject({
      code: "ZG_RETRIES_EXHAUSTED",
      details: { attempts: 3 },
    });
    expect(c.stats()).toMatchObject({ timeouts: 3, exhausted: 1 });
    const ac = new AbortController();
    const p = c.request("echo", ["x"], { signal: ac.signal, timeout: 5000 });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: "ZG_ABORTED" });
  });

  test("async client: many in flight, matched by correlation, out-of-order workers, abort per request", async () => {
    const { ep } = await broker();
    // Workers answer after a random delay, so replies come back out of order.
    for (let i = 0; i < 4; i++)
      await worker(ep, "slow", async (r) => {
        await delay(Math.random() * 20);
        return r;
      });
    const c = closeAfter(new AsyncMajordomoClient({ broker: ep, timeout: 5000 }));
    await c.start();
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => c.request("slow", [`n${i}`])),
    );
    expect(replies.map((r) => str(r)[0])).toEqual(Array.from({ length: 200 }, (_, i) => `n${i}`));
    const ac = new AbortController();
    const p = c.request("slow", ["abort me"], { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: "ZG_ABORTED" });
    await expect(c.request("slow", ["after"])).resolves.toEqual([Buffer.from("after")]);
    expect(c.stats().inFlight).toBe(0);
  });

  test("a worker that dies mid-request: the request is re-queued once to another worker", async () => {
    const { broker: b, ep } = await broker();
    let hung = 0;
    const dying = await worker(ep, "svc", async (r, ctx) => {
      hung++;
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      return r;
    });
    await waitFor(() => b.stats().perService["svc"]?.workers === 1);
    const c = closeAfter(new AsyncMajordomoClient({ broker: ep, timeout: 5000 }));
    await c.start();
    const p = c.request("svc", ["job"]);
    await waitFor(() => hung === 1, { what: "request reached the first worker" });
    await worker(ep, "svc");
    await waitFor(() => b.stats().perService["svc"]?.workers === 2);
    await dying.close(); // DISCONNECT while busy
    await expect(p).resolves.toEqual([Buffer.from("job")]);
    expect(b.stats()).toMatchObject({ requeued: 1, lost: 0 });
  });

  test("a handler that throws makes the worker re-register; the broker re-queues the request", async () => {
    const { broker: b, ep } = await broker();
    let calls = 0;
    const w = await worker(ep, "fragile", (r) => {
      if (calls++ === 0) throw new Error("boom");
      return r;
    });
    await waitFor(() => b.stats().workers === 1);
    const c = closeAfter(new MajordomoClient({ broker: ep, timeout: 3000, attempts: 1 }));
    await c.start();
    expect((await c.request("fragile", ["again"])).map(String)).toEqual(["again"]);
    expect(w.stats()).toMatchObject({ handlerErrors: 1, handled: 1, connects: 2 });
    expect(b.stats()).toMatchObject({ requeued: 1 });
  });

  test("at-most-once services answer 502 instead of re-queuing", async () => {
    const { ep } = await broker(undefined, { atMostOnce: ["pay"] });
    const w = await worker(ep, "pay", async (_r, ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
      return ["never"];
    });
    const c = closeAfter(new AsyncMajordomoClient({ broker: ep, timeout: 5000 }));
    await c.start();
    const p = c.request("pay", ["once"]);
    await waitFor(() => w.stats().busy);
    await w.close();
    await expect(p).rejects.toMatchObject({ code: "ZG_UNREACHABLE", details: { status: "502" } });
  });

  test("bounded queue: overflow is refused with 503 (reject newest)", async () => {
    const { ep } = await broker(undefined, { maxQueued: 2, requestExpiry: 5000 });
    const c = closeAfter(new AsyncMajordomoClient({ broker: ep, timeout: 5000 }));
    await c.start();
    const a = c.request("q", ["1"]);
    const bb = c.request("q", ["2"]);
    await expect(c.request("q", ["3"])).rejects.toMatchObject({
      code: "ZG_OVERFLOW",
      details: { status: "503" },
    });
    await worker(ep, "q");
    await expect(Promise.all([a, bb])).resolves.toHaveLength(2);
  });

  test("18/MDP partial replies reach 0.2 clients; 0.1 clients get only the final", async () => {
    const { ep } = await broker();
    await worker(
      ep,
      "stream",
      (r, ctx) => {
        ctx.partial(["p1"]);
        ctx.partial(["p2"]);
        return r;
      },
      "MDP/0.2",
    );
    const partials: string[] = [];
    const c2 = closeAfter(new MajordomoClient({ broker: ep, version: "MDP/0.2", timeout: 2000 }));
    await c2.start();
    expect(
      str(await c2.request("stream", ["final"], { onPartial: (b) => partials.push(...str(b)) })),
    ).toEqual(["final"]);
    expect(partials).toEqual(["p1", "p2"]);
    const c1 = closeAfter(new MajordomoClient({ broker: ep, version: "MDP/0.1", timeout: 2000 }));
    await c1.start();
    expect(str(await c1.request("stream", ["final"]))).toEqual(["final"]);
  });

  test("async client across a broker restart: attempts 1 rejects ZG_TIMEOUT; attempts 3 resolves each request exactly once", async () => {
    const { broker: b1, ep } = await broker();
    for (let i = 0; i < 4; i++) {
      await worker(ep, "slow", async (r) => {
        await delay(50);
        return r;
      });
    }
    await waitFor(() => b1.stats().workers === 4);
    const once = closeAfter(new AsyncMajordomoClient({ broker: ep, timeout: 800 }));
    const retry = closeAfter(new AsyncMajordomoClient({ broker: ep, timeout: 800, attempts: 3 }));
    await once.start();
    await retry.start();
    const lost = once.request("slow", ["gone"]);
    const kept = Array.from({ length: 10 }, (_, i) => retry.request("slow", [`r${i}`]));
    await delay(20);
    await b1.close(); // everything queued or in progress at the broker is gone
    await delay(100);
    const b2 = closeAfter(new MajordomoBroker({ endpoints: ep, ...HB }));
    await b2.start();
    await expect(lost).rejects.toMatchObject({ code: "ZG_TIMEOUT" });
    expect((await Promise.all(kept)).map((r) => str(r)[0])).toEqual(
      Array.from({ length: 10 }, (_, i) => `r${i}`),
    );
    expect(retry.stats().resends).toBeGreaterThan(0);
    expect(retry.stats().inFlight).toBe(0);
  });

  test("workers re-register after a broker restart on the same endpoint", async () => {
    const { broker: b1, ep } = await broker();
    const w = await worker(ep, "echo");
    await waitFor(() => b1.stats().workers === 1);
    await b1.close();
    await delay(150);
    const b2 = closeAfter(new MajordomoBroker({ endpoints: ep, ...HB }));
    await b2.start();
    await waitFor(() => b2.stats().workers === 1, { timeout: 3000, what: "worker re-registered" });
    expect(w.stats().connects).toBeGreaterThanOrEqual(2);
    const c = closeAfter(new MajordomoClient({ broker: ep, timeout: 1000 }));
    await c.start();
    expect(str(await c.request("echo", ["back"]))).toEqual(["back"]);
  });
});
