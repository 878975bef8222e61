// Garbage at every part-1 socket (reliability-battery.md H1, CI tier): fast-check with a fixed seed.
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import * as zmq from "zeromq";
import { closeAfter, ScriptedPeer, tcpEndpoint, waitFor, within } from "@zg/testing";
import {
  AsyncClient,
  AsyncServer,
  FreelanceClient,
  FreelanceServer,
  LazyPirateClient,
  LoadBalancingBroker,
  PirateWorker,
  SimplePirateWorker,
} from "../src/index.js";
import { flpRouter } from "./fixtures/flp-router.js";

const SEED = 20261122;
const RUNS = 25;

const frame = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 16 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      new Uint8Array([]),
      new Uint8Array([1]),
      new Uint8Array([2]),
      new Uint8Array([0xff]),
      Buffer.from("PING"),
      Buffer.from("READY"),
    ),
  },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(1024 * 1024)) },
);
const batch = fc.array(fc.array(frame, { minLength: 0, maxLength: 6 }), {
  minLength: 1,
  maxLength: 8,
});

/** Sends each garbage batch from every attacker, then requires a good round trip within 1 s. */
async function fuzz(
  attackers: zmq.Socket[],
  roundTrip: (run: number) => Promise<void>,
  prefix: (s: zmq.Socket) => Buffer[] = () => [],
): Promise<void> {
  let run = 0;
  await fc.assert(
    fc.asyncProperty(batch, async (messages) => {
      for (const m of messages) {
        for (const a of attackers) {
          const frames = [
            ...prefix(a),
            ...(m.length === 0 ? [new Uint8Array([])] : m).map((f) => Buffer.from(f)),
          ];
          try {
            await (a as zmq.Dealer).send(frames);
          } catch {
            /* EAGAIN / unroutable: fine */
          }
        }
      }
      await within(roundTrip(run++), 1000, "good round trip after garbage");
    }),
    { seed: SEED, numRuns: RUNS },
  );
}

function dealer(endpoint: string): zmq.Dealer {
  const d = closeAfter(new zmq.Dealer({ linger: 0, sendTimeout: 0 }));
  d.connect(endpoint);
  return d;
}

describe("garbage at every socket: counted and dropped, good clients unaffected, no crash", () => {
  test("LoadBalancingBroker frontend and backend", async () => {
    const broker = closeAfter(new LoadBalancingBroker({ maxQueued: 100, overflow: "drop-oldest" }));
    const { frontend, backend } = await broker.start();
    const worker = closeAfter(new zmq.Request({ linger: 0, routingId: "good-worker" }));
    worker.connect(backend[0] as string);
    void (async () => {
      try {
        await worker.send("READY");
        for (;;) await worker.send(await worker.receive());
      } catch {
        /* closed */
      }
    })();
    await waitFor(() => broker.stats().idleWorkers === 1);
    const client = closeAfter(
      new LazyPirateClient({
        server: frontend[0] as string,
        timeout: 200,
        attempts: 4,
        match: LazyPirateClient.echo,
      }),
    );
    await client.start();
    await fuzz([dealer(frontend[0] as string), dealer(backend[0] as string)], async (run) => {
      expect((await client.request(`ok-${run}`))[0]?.toString()).toBe(`ok-${run}`);
    });
    expect(broker.stats().protocolErrors).toBeGreaterThan(0);
    expect(broker.stats().queued).toBeLessThanOrEqual(100);
    expect(broker.state).toBe("running");
  }, 30_000);

  test("AsyncServer", async () => {
    const server = closeAfter(
      new AsyncServer({
        handler: (req, ctx) => void ctx.reply(req),
        clientExpiry: 500,
        maxClients: 10,
      }),
    );
    const [endpoint] = (await server.start()).endpoints;
    const client = closeAfter(new AsyncClient({ server: endpoint as string }));
    await client.start();
    const it = client.replies()[Symbol.asyncIterator]();
    await fuzz([dealer(endpoint as string)], async (run) => {
      client.send(`ok-${run}`);
      const r = await it.next();
      expect((r.value as Buffer[])[0]?.toString()).toBe(`ok-${run}`);
    });
    expect(server.stats().clients).toBeLessThanOrEqual(2);
    expect(server.state).toBe("running");
  }, 30_000);

  test("FreelanceServer (10/FLP) and FreelanceClient", async () => {
    const server = closeAfter(new FreelanceServer({ handler: (b) => b }));
    const [endpoint = ""] = (await server.start()).endpoints;
    const client = closeAfter(
      new FreelanceClient({ servers: [endpoint], pingInterval: 100, timeout: 1000 }),
    );
    await client.start();
    await waitFor(() => client.activeServers().length === 1);
    await fuzz([dealer(endpoint)], async (run) => {
      expect((await client.request(`ok-${run}`))[0]?.toString()).toBe(`ok-${run}`);
    });
    expect(server.stats().protocolErrors).toBeGreaterThan(0);
    expect(server.state).toBe("running");
  }, 30_000);

  test("PirateWorker (garbage from its queue) and LazyPirateClient (garbage replies)", async () => {
    const fakeQueue = await ScriptedPeer.create("router", { bind: [tcpEndpoint()] });
    const worker = closeAfter(
      new PirateWorker({
        queue: fakeQueue.endpoints[0] as string,
        heartbeatInterval: 1000,
        handler: (b) => b,
      }),
    );
    await worker.start();
    const ready = await fakeQueue.receive({ predicate: (m) => m[1]?.[0] === 1 });
    const workerId = ready[0] as Buffer;
    await fuzz(
      [fakeQueue.socket],
      async (run) => {
        await fakeQueue.send(workerId, "client", "", `ok-${run}`);
        const reply = await fakeQueue.receive({
          timeout: 1000,
          predicate: (m) => m.length === 4 && m[3]?.toString() === `ok-${run}`,
        });
        expect(reply[1]?.toString()).toBe("client");
      },
      () => [workerId],
    );
    expect(worker.stats().protocolErrors).toBeGreaterThan(0);
    expect(worker.state).toBe("running");

    // A server that answers each request with garbage first, then the echo.
    const server = await ScriptedPeer.create("router", { bind: [tcpEndpoint()] });
    const client = closeAfter(
      new LazyPirateClient({
        server: server.endpoints[0] as string,
        timeout: 1000,
        match: LazyPirateClient.echo,
      }),
    );
    await client.start();
    await fc.assert(
      fc.asyncProperty(batch, async (messages) => {
        const p = client.request("mine");
        const req = await server.receive();
        for (const m of messages)
          await server.send(req[0] as Buffer, ...m.map((f) => Buffer.from(f)));
        await server.send(req[0] as Buffer, "", "mine");
        expect((await within(p, 1000))[0]?.toString()).toBe("mine");
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(client.stats().foreignReplies + client.stats().staleReplies).toBeGreaterThan(0);
  }, 30_000);

  test("SimplePirateWorker (garbage from its broker)", async () => {
    const fakeBroker = await ScriptedPeer.create("router", { bind: [tcpEndpoint()] });
    const worker = closeAfter(
      new SimplePirateWorker({ queue: fakeBroker.endpoints[0] as string, handler: (b) => b }),
    );
    await worker.start();
    const ready = await fakeBroker.receive();
    const workerId = ready[0] as Buffer;
    await fuzz(
      [fakeBroker.socket],
      async (run) => {
        await fakeBroker.send(workerId, "", "client", "", `ok-${run}`);
        const reply = await fakeBroker.receive({
          timeout: 1000,
          predicate: (m) => m[4]?.toString() === `ok-${run}`,
        });
        expect(reply[2]?.toString()).toBe("client");
      },
      () => [workerId],
    );
    expect(worker.stats().protocolErrors).toBeGreaterThan(0);
    expect(worker.state).toBe("running");
  }, 30_000);

  test("FreelanceClient model 3 (garbage from a server)", async () => {
    const { socket: server, endpoint } = await flpRouter();
    let clientId: Buffer | undefined;
    const pending: Buffer[][] = [];
    void (async () => {
      try {
        for await (const m of server) {
          clientId = m[0];
          if (m[1]?.toString() === "PING") await server.send([m[0] as Buffer, "PONG"]);
          else pending.push(m);
        }
      } catch {
        /* closed */
      }
    })();
    const client = closeAfter(
      new FreelanceClient({
        servers: [endpoint],
        pingInterval: 100,
        timeout: 1000,
        resendInterval: 500,
      }),
    );
    await client.start();
    await waitFor(() => client.activeServers().length === 1 && clientId !== undefined);
    await fuzz(
      [server],
      async (run) => {
        const p = client.request(`ok-${run}`);
        await waitFor(() => pending.length > 0, { timeout: 1000 });
        const [id, control, body] = pending.shift() as Buffer[];
        await server.send([id as Buffer, control as Buffer, body as Buffer]);
        expect((await p)[0]?.toString()).toBe(`ok-${run}`);
        pending.length = 0;
      },
      () => [clientId as Buffer],
    );
    expect(client.stats().staleReplies).toBeGreaterThan(0);
    expect(client.state).toBe("running");
  }, 30_000);
});
