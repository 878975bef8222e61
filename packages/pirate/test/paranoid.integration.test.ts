import { describe, expect, test } from "vitest";
import fc from "fast-check";
import * as zmq from "zeromq";
import { closeAfter, ScriptedPeer, waitFor, watchStalls, within } from "@zg/testing";
import { LazyPirateClient, PirateQueue, PirateWorker } from "../src/index.js";

const I = 100; // CI tier heartbeat interval (reliability-battery.md §2.2)

async function queueWithWorkers(
  n: number,
  interval = I,
): Promise<{ queue: PirateQueue; frontend: string; backend: string; workers: PirateWorker[] }> {
  const queue = closeAfter(new PirateQueue({ heartbeatInterval: interval }));
  const { frontend, backend } = await queue.start();
  const workers: PirateWorker[] = [];
  for (let i = 0; i < n; i++) {
    const w = closeAfter(
      new PirateWorker({
        queue: backend,
        heartbeatInterval: interval,
        reconnectDelay: interval,
        reconnectMaxDelay: interval * 8,
        handler: (b) => b,
      }),
    );
    await w.start();
    workers.push(w);
  }
  await waitFor(() => queue.stats().idleWorkers === n, { what: `${n} workers ready` });
  return { queue, frontend: frontend[0] as string, backend: backend[0] as string, workers };
}

describe("PirateQueue + PirateWorker (6/PPP)", () => {
  test("round trips; heartbeats flow both ways while idle", async () => {
    const { queue, frontend, workers } = await queueWithWorkers(2);
    const client = closeAfter(
      new LazyPirateClient({ server: frontend, timeout: 500, match: LazyPirateClient.echo }),
    );
    await client.start();
    for (let i = 0; i < 50; i++)
      expect((await client.request(`r${i}`))[0]?.toString()).toBe(`r${i}`);
    await new Promise((r) => setTimeout(r, 4 * I));
    const s = queue.stats();
    expect(s).toMatchObject({
      workers: 2,
      requestsForwarded: 50,
      repliesForwarded: 50,
      protocolErrors: 0,
      workersPurged: 0,
    });
    expect(s.heartbeatsSent).toBeGreaterThanOrEqual(4);
    expect(workers.every((w) => w.stats().heartbeatsSent >= 2 && w.stats().connected)).toBe(true);
  });

  test("close() is prompt while the frontend is held by backpressure", async () => {
    const queue = new PirateQueue({ heartbeatInterval: I, maxQueued: 1 });
    const { frontend } = await queue.start();
    const d = closeAfter(new zmq.Dealer({ linger: 0 }));
    d.connect(frontend[0] as string);
    for (let i = 0; i < 3; i++) await d.send(["", `r${i}`]);
    await waitFor(() => queue.stats().held === 1, { what: "1 queued + 1 held" });
    expect(queue.stats().queued).toBe(1); // never more than maxQueued (issue 12)
    await within(queue.close(), 1000, "close under backpressure");
  });

  test('the exact wire: READY [0x01], HEARTBEAT [0x02], request [C][""][body]', async () => {
    const queue = closeAfter(new PirateQueue({ heartbeatInterval: I }));
    const { frontend, backend } = await queue.start();
    const worker = await ScriptedPeer.create("dealer", { connect: backend, routingId: "W1" });
    await worker.send(Buffer.from([1]));
    const hb = await worker.receive({ timeout: 1000 });
    expect(hb).toEqual([Buffer.from([2])]);
    const client = closeAfter(new zmq.Request({ linger: 0, routingId: "C1" }));
    client.connect(frontend[0] as string);
    await client.send("body");
    const req = await worker.receive({ timeout: 1000, predicate: (m) => m.length === 3 });
    expect(req.map((f) => f.toString())).toEqual(["C1", "", "body"]);
    await worker.send("C1", "", "reply");
    const [reply] = await within(client.receive(), 1000);
    expect(reply?.toString()).toBe("reply");
  });

  test("a silent worker is purged after interval × liveness (+ granularity), never sent a request afterwards", async () => {
    const queue = closeAfter(new PirateQueue({ heartbeatInterval: I }));
    const { backend } = await queue.start();
    const worker = await ScriptedPeer.create("dealer", { connect: backend, routingId: "mute" });
    const stalls = watchStalls(); // the queue runs on this event loop: a stall delays its expiry timer
    await worker.send(Buffer.from([1]));
    const t0 = performance.now();
    await waitFor(() => queue.stats().workers === 1);
    const expired = await within(queue.next("worker:expired"), 2000);
    const t = performance.now() - t0;
    stalls.stop();
    expect(expired.identity).toBe("mute");
    expect(t).toBeGreaterThan(2 * I);
    // L·I + one granularity tick + 10 % jitter, plus however long this process could not run a timer.
    expect(expired.silentFor).toBeLessThanOrEqual(3 * I + 10 + 0.1 * 3 * I + stalls.max);
    expect(queue.stats()).toMatchObject({ workers: 0, idleWorkers: 0, workersPurged: 1 });
  });

  test("identity flood: 300 DEALERs send READY and go silent; the table is back to baseline within L·I + G of the last one", async () => {
    const { queue, backend } = await queueWithWorkers(1);
    let joined = 0;
    const silences: number[] = [];
    queue.on("worker:ready", (e) => {
      if (e.joined && e.identity.startsWith("flood-")) joined++;
    });
    queue.on("worker:expired", (e) => {
      if (e.identity.startsWith("flood-")) silences.push(e.silentFor);
    });
    const flood = Array.from({ length: 300 }, (_, i) => {
      const d = closeAfter(new zmq.Dealer({ linger: 0, routingId: `flood-${i}` }));
      d.connect(backend);
      return d;
    });
    await Promise.all(flood.map((d) => d.send(Buffer.from([1]))));
    await waitFor(() => joined === 300, { what: "300 flood workers registered" });
    await waitFor(() => queue.stats().workers === 1, {
      timeout: 3000,
      interval: 5,
      what: "back to baseline",
    });
    // Each flood entry left the table within L·I + G (+10 % jitter) of its last message.
    expect(silences).toHaveLength(300);
    expect(Math.max(...silences)).toBeLessThanOrEqual(3 * I + 10 + 0.1 * 3 * I);
    expect(queue.stats()).toMatchObject({ workers: 1, workersPurged: 300 });
  });

  test("queue restart: the worker judges it gone, reconnects with back-off on a new socket and re-sends READY", async () => {
    const q1 = new PirateQueue({ heartbeatInterval: I });
    const { frontend, backend } = await q1.start();
    const worker = closeAfter(
      new PirateWorker({
        queue: backend,
        heartbeatInterval: I,
        reconnectDelay: I,
        reconnectMaxDelay: 8 * I,
        handler: (b) => b,
      }),
    );
    const lost: number[] = [];
    worker.on("queue:lost", (e) => lost.push(e.delay));
    await worker.start();
    await waitFor(() => q1.stats().workers === 1);
    await q1.close();
    // Progress, not a guessed downtime: stay down until the worker has judged the queue gone
    // three times (detect 300 + wait 100, + 300 + 200, + 300 + 400).
    await waitFor(() => lost.length >= 3, {
      timeout: 10_000,
      what: "three losses while the queue was down",
    });
    const q2 = closeAfter(new PirateQueue({ frontend, backend, heartbeatInterval: I }));
    await q2.start();
    await waitFor(() => q2.stats().idleWorkers === 1, {
      timeout: 3000,
      what: "worker re-registered",
    });
    // Doubling back-off capped at reconnectMaxDelay: I, 2·I, 4·I, 8·I, 8·I … (at least two losses while the queue was down).
    expect(lost.length).toBeGreaterThanOrEqual(2);
    expect(lost).toEqual(lost.map((_, i) => Math.min(I * 2 ** i, 8 * I)));
    const client = closeAfter(
      new LazyPirateClient({ server: frontend[0] as string, timeout: 500 }),
    );
    await client.start();
    expect((await client.request("after restart"))[0]?.toString()).toBe("after restart");
  });

  test("garbage at every socket (fast-check, fixed seed): counted and dropped, good round trip right after, tables bounded", async () => {
    const { queue, frontend, backend } = await queueWithWorkers(2);
    const good = closeAfter(
      new LazyPirateClient({
        server: frontend,
        timeout: 400,
        attempts: 5,
        match: LazyPirateClient.echo,
      }),
    );
    await good.start();
    const frontAttacker = closeAfter(new zmq.Dealer({ linger: 0, sendTimeout: 0 }));
    const backAttacker = closeAfter(new zmq.Dealer({ linger: 0, sendTimeout: 0 }));
    frontAttacker.connect(frontend);
    backAttacker.connect(backend);
    const frame = fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 16 }) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          new Uint8Array([]),
          new Uint8Array([1]),
          new Uint8Array([2]),
          new Uint8Array([3]),
          new Uint8Array([0xff]),
        ),
      },
      { weight: 1, arbitrary: fc.constant(new Uint8Array(1024 * 1024)) },
    );
    const message = fc.array(frame, { minLength: 0, maxLength: 6 });
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 10 }), async (batch) => {
        for (const m of batch) {
          const frames = m.length === 0 ? [new Uint8Array([])] : m; // zeromq.js cannot send 0 frames: send one empty frame
          for (const s of [frontAttacker, backAttacker]) {
            try {
              await s.send(frames.map((f) => Buffer.from(f)));
              sent++;
            } catch {
              /* EAGAIN: fine */
            }
          }
        }
        const id = `good-${sent}`;
        const [reply] = await good.request(id);
        return reply?.toString() === id;
      }),
      { seed: 42, numRuns: 40 },
    );
    const s = queue.stats();
    expect(s.protocolErrors).toBeGreaterThan(0);
    expect(s.workers).toBeLessThanOrEqual(3); // 2 real workers + the attacker's identity at most
    expect(s.queued).toBeLessThanOrEqual(1000);
    expect(queue.state).toBe("running");
  }, 30_000);
});

describe("PirateWorker options", () => {
  const base = { endpoint: "tcp://127.0.0.1:1", handler: (b: Buffer[]) => b };
  test("reconnectDelay / reconnectMaxDelay are validated by name", () => {
    for (const [bad, name] of [
      [{ reconnectDelay: -1 }, /reconnectDelay/],
      [{ reconnectMaxDelay: Number.NaN }, /reconnectMaxDelay/],
      [
        { reconnectDelay: 500, reconnectMaxDelay: 100 },
        /reconnectMaxDelay \(100\) must be >= reconnectDelay \(500\)/,
      ],
    ] as const) {
      expect(() => new PirateWorker({ ...base, ...bad })).toThrow(
        expect.objectContaining({
          code: "ZG_INVALID_ARGUMENT",
          message: expect.stringMatching(name) as string,
        }) as Error,
      );
    }
    // A first delay above the default cap raises the cap to it (no error).
    expect(() => new PirateWorker({ ...base, reconnectDelay: 60_000 })).not.toThrow();
  });
});
