import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, transports, waitFor, within } from "@zg/testing";
import { LoadBalancingBroker } from "../src/index.js";

/** A Guide-style REQ worker: sends its ready signal, then echoes "<name>:<body>". */
function reqWorker(
  endpoint: string,
  name: string,
  ready: string | Buffer,
): { socket: zmq.Request; served: string[] } {
  const socket = closeAfter(new zmq.Request({ linger: 0, routingId: name }));
  socket.connect(endpoint);
  const served: string[] = [];
  void (async () => {
    try {
      await socket.send(ready);
      for (;;) {
        const [client, empty, body] = await socket.receive();
        served.push(body?.toString() ?? "");
        await socket.send([client as Buffer, empty as Buffer, `${name}:${body?.toString() ?? ""}`]);
      }
    } catch {
      /* closed */
    }
  })();
  return { socket, served };
}

describe.each(Object.entries(transports))("LoadBalancingBroker over %s", (_t, endpoint) => {
  test('REQ clients and workers announcing "\\001" or "READY": every request answered, only idle workers used', async () => {
    const broker = closeAfter(
      new LoadBalancingBroker({ frontend: endpoint(), backend: endpoint() }),
    );
    const { frontend, backend } = await broker.start();
    const w1 = reqWorker(backend[0] as string, "w1", Buffer.from([1]));
    const w2 = reqWorker(backend[0] as string, "w2", "READY");
    await waitFor(() => broker.stats().idleWorkers === 2, { what: "2 workers ready" });
    const clients = Array.from({ length: 4 }, () => {
      const c = closeAfter(new zmq.Request({ linger: 0 }));
      c.connect(frontend[0] as string);
      return c;
    });
    await Promise.all(
      clients.map(async (c, ci) => {
        for (let i = 0; i < 25; i++) {
          await c.send(`c${ci}-${i}`);
          const [reply] = await c.receive();
          expect(reply?.toString()).toMatch(new RegExp(`^w[12]:c${ci}-${i}$`));
        }
      }),
    );
    expect(w1.served.length + w2.served.length).toBe(100);
    // Both workers share the load (LRU, not one worker hogging it).
    expect(Math.min(w1.served.length, w2.served.length)).toBeGreaterThan(10);
    const s = broker.stats();
    expect(s).toMatchObject({
      workers: 2,
      requestsForwarded: 100,
      repliesForwarded: 100,
      queued: 0,
      protocolErrors: 0,
    });
    expect(s.latency.count).toBe(100);
  });
});

describe("LoadBalancingBroker policies", () => {
  test("requests wait while no worker is free, then go to the first worker that is ready", async () => {
    const broker = closeAfter(new LoadBalancingBroker());
    const { frontend, backend } = await broker.start();
    const client = closeAfter(new zmq.Request({ linger: 0 }));
    client.connect(frontend[0] as string);
    await client.send("early");
    await waitFor(() => broker.stats().queued === 1, { what: "request queued" });
    reqWorker(backend[0] as string, "late", "READY");
    const [reply] = await within(client.receive(), 2000);
    expect(reply?.toString()).toBe("late:early");
  });

  test("backpressure (default): the reader waits for room; close() is still prompt", async () => {
    const broker = new LoadBalancingBroker({ maxQueued: 1 });
    const { frontend } = await broker.start();
    const d = closeAfter(new zmq.Dealer({ linger: 0 }));
    d.connect(frontend[0] as string);
    for (let i = 0; i < 3; i++) await d.send(["", `r${i}`]);
    await waitFor(() => broker.stats().held === 1, { what: "1 queued + 1 held by backpressure" });
    await new Promise((r) => setTimeout(r, 50));
    // queued never exceeds maxQueued (issue 12); the third waits in libzmq
    expect(broker.stats()).toMatchObject({ queued: 1, held: 1, overflowDropped: 0 });
    await within(broker.close(), 1000, "close under backpressure");
  });

  test("drop-newest: beyond maxQueued requests are dropped and counted", async () => {
    const broker = closeAfter(new LoadBalancingBroker({ maxQueued: 2, overflow: "drop-newest" }));
    const { frontend } = await broker.start();
    const dealers = Array.from({ length: 5 }, () => {
      const d = closeAfter(new zmq.Dealer({ linger: 0 }));
      d.connect(frontend[0] as string);
      return d;
    });
    for (const [i, d] of dealers.entries()) await d.send(["", `r${i}`]);
    await waitFor(() => broker.stats().overflowDropped === 3, { what: "3 drops" });
    expect(broker.stats().queued).toBe(2);
  });

  test("a worker that vanished is forgotten and its request goes to another worker", async () => {
    const broker = closeAfter(new LoadBalancingBroker());
    const { frontend, backend } = await broker.start();
    const ghost = new zmq.Dealer({ linger: 0, routingId: "ghost" });
    ghost.connect(backend[0] as string);
    await ghost.send(["", "READY"]);
    await waitFor(() => broker.stats().idleWorkers === 1);
    ghost.close();
    await new Promise((r) => setTimeout(r, 100));
    reqWorker(backend[0] as string, "real", "READY");
    await waitFor(() => broker.stats().idleWorkers === 2);
    const client = closeAfter(new zmq.Request({ linger: 0 }));
    client.connect(frontend[0] as string);
    await client.send("x");
    const [reply] = await within(client.receive(), 2000);
    expect(reply?.toString()).toBe("real:x");
    expect(broker.stats()).toMatchObject({ redispatched: 1, workersPurged: 1 });
  });

  test("malformed messages are counted and dropped; a good round trip still works", async () => {
    const broker = closeAfter(new LoadBalancingBroker());
    const { frontend, backend } = await broker.start();
    const worker = reqWorker(backend[0] as string, "w", "READY");
    await waitFor(() => broker.stats().idleWorkers === 1);
    const bad = closeAfter(new zmq.Dealer({ linger: 0 }));
    bad.connect(frontend[0] as string);
    bad.connect(backend[0] as string);
    await bad.send("no delimiter"); // frontend or backend, round-robin
    await bad.send(["", ""]);
    await bad.send(["", "BOGUS"]);
    await bad.send(["", "x"]);
    await waitFor(() => broker.stats().protocolErrors >= 3, { what: "protocol errors counted" });
    const client = closeAfter(new zmq.Request({ linger: 0 }));
    client.connect(frontend[0] as string);
    await client.send("ok?");
    const [reply] = await within(client.receive(), 2000);
    expect(reply?.toString()).toMatch(/:ok\?$/);
    expect(worker.served).toContain("ok?");
  });
});
