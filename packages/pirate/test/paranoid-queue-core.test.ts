import { describe, expect, test } from "vitest";
import { ManualClock, type Message } from "@zg/core";
import { PirateQueueCore, type PirateQueueCoreOptions } from "../src/paranoid/queue-core.js";

const I = 100;
const L = 3;
const G = 10;
const f = (...xs: (string | number)[]): Buffer[] =>
  xs.map((x) => (typeof x === "number" ? Buffer.from([x]) : Buffer.from(x)));
const READY = 1;
const HEARTBEAT = 2;

function setup(over: Partial<PirateQueueCoreOptions> = {}) {
  const clock = new ManualClock();
  const toWorkers: Message[] = [];
  const toClients: Message[] = [];
  const events: { type: string; event: unknown }[] = [];
  const core = new PirateQueueCore({
    heartbeatInterval: I,
    heartbeatLiveness: L,
    granularity: G,
    maxWorkers: 100,
    clock,
    toWorker: (m) => void toWorkers.push(m),
    toClient: (m) => (toClients.push(m), true),
    emit: (type, event) => void events.push({ type, event }),
    ...over,
  });
  const show = (ms: Message[]): string[][] =>
    ms
      .splice(0)
      .map((m) => m.map((x) => (x.length === 1 && x[0]! < 10 ? `0x0${x[0]}` : x.toString())));
  return { clock, core, events, workers: () => show(toWorkers), clients: () => show(toClients) };
}

describe("PirateQueueCore (6/PPP state machine, ManualClock)", () => {
  test('LRU dispatch of [C][""][body] as [W][C][""][body]; replies go back as [C][""][body]', () => {
    const { core, workers, clients } = setup();
    core.onWorker(f("w1", READY));
    core.onWorker(f("w2", READY));
    void core.onClient(f("c1", "", "a"));
    void core.onClient(f("c2", "", "b"));
    expect(workers()).toEqual([
      ["w1", "c1", "", "a"],
      ["w2", "c2", "", "b"],
    ]);
    core.onWorker(f("w2", "c2", "", "B"));
    core.onWorker(f("w1", "c1", "", "A"));
    expect(clients()).toEqual([
      ["c2", "", "B"],
      ["c1", "", "A"],
    ]);
    void core.onClient(f("c3", "", "c"));
    expect(workers()[0]?.[0]).toBe("w2"); // w2 has been idle longest
    expect(core.stats()).toMatchObject({ workers: 2, requestsForwarded: 3, repliesForwarded: 2 });
  });

  test("requests wait while no worker is idle; a HEARTBEAT from a busy worker does not make it idle", () => {
    const { core, workers } = setup();
    core.onWorker(f("w1", READY));
    void core.onClient(f("c1", "", "a"));
    void core.onClient(f("c2", "", "b"));
    expect(workers()).toEqual([["w1", "c1", "", "a"]]);
    core.onWorker(f("w1", HEARTBEAT));
    expect(workers()).toEqual([]);
    expect(core.stats().queued).toBe(1);
    core.onWorker(f("w1", "c1", "", "A"));
    expect(workers()).toEqual([["w1", "c2", "", "b"]]);
  });

  test("HEARTBEAT to every worker after an interval with nothing sent to it; traffic postpones it", () => {
    const { clock, core, workers } = setup();
    core.onWorker(f("w1", READY));
    core.onWorker(f("w2", READY));
    clock.advance(I / 2);
    void core.onClient(f("c1", "", "a")); // to w1: postpones w1's heartbeat
    workers();
    clock.advance(I / 2 + G);
    expect(workers()).toEqual([["w2", "0x02"]]);
    clock.advance(I / 2);
    expect(workers()).toEqual([["w1", "0x02"]]);
    expect(core.stats().heartbeatsSent).toBe(2);
  });

  test("a silent worker expires after interval × liveness (not before), within one tick, and is never sent a request again", () => {
    const { clock, core, events, workers } = setup();
    core.onWorker(f("w1", READY));
    clock.advance(L * I - 1);
    expect(core.workers()).toEqual(["w1"]);
    clock.advance(1 + G);
    expect(core.workers()).toEqual([]);
    const expired = events.find((e) => e.type === "worker:expired")?.event as {
      identity: string;
      silentFor: number;
    };
    expect(expired.identity).toBe("w1");
    expect(expired.silentFor).toBeGreaterThanOrEqual(L * I);
    expect(expired.silentFor).toBeLessThanOrEqual(L * I + G);
    workers();
    void core.onClient(f("c1", "", "a"));
    expect(workers()).toEqual([]);
    expect(core.stats()).toMatchObject({ queued: 1, workersPurged: 1, idleWorkers: 0 });
  });

  test("any message from an unknown worker registers it (queue restarted); READY from a busy worker makes it idle", () => {
    const { core, workers, clients } = setup();
    core.onWorker(f("w1", HEARTBEAT));
    core.onWorker(f("w2", "c0", "", "late reply"));
    expect(clients()).toEqual([["c0", "", "late reply"]]);
    expect(core.stats()).toMatchObject({ workers: 2, idleWorkers: 2 });
    void core.onClient(f("c1", "", "a"));
    void core.onClient(f("c2", "", "b"));
    workers();
    core.onWorker(f("w1", READY)); // w1 restarted while busy
    void core.onClient(f("c3", "", "c"));
    expect(workers()).toEqual([["w1", "c3", "", "c"]]);
  });

  test("a failed send purges the worker and gives its request to the next worker", () => {
    const { core, events, workers } = setup();
    core.onWorker(f("dead", READY));
    core.onWorker(f("live", READY));
    void core.onClient(f("c1", "", "a"));
    const [sent] = workers();
    expect(sent?.[0]).toBe("dead");
    core.onWorkerSendFailure(f("dead", "c1", "", "a"));
    expect(workers()).toEqual([["live", "c1", "", "a"]]);
    expect(events.some((e) => e.type === "worker:gone")).toBe(true);
    expect(core.stats()).toMatchObject({
      workers: 1,
      redispatched: 1,
      requestsForwarded: 2, // two hand-offs (a counter never goes down); 2 − redispatched reached a worker
      workersPurged: 1,
    });
  });

  test("overflow: drop-newest counts and drops; backpressure returns a promise released by dispatch", async () => {
    const a = setup({ maxQueued: 1, overflow: "drop-newest" });
    void a.core.onClient(f("c1", "", "a"));
    void a.core.onClient(f("c2", "", "b"));
    expect(a.core.stats()).toMatchObject({ queued: 1, overflowDropped: 1 });
    const b = setup({ maxQueued: 1 });
    expect(b.core.onClient(f("c1", "", "a"))).toBeUndefined();
    const wait = b.core.onClient(f("c2", "", "b"));
    expect(wait).toBeInstanceOf(Promise);
    expect(b.core.stats()).toMatchObject({ queued: 1, held: 1 }); // queued never exceeds maxQueued
    b.core.onWorker(f("w1", READY));
    b.core.onWorker(f("w2", READY)); // both waiting requests dispatched: room for the next read
    await expect(wait).resolves.toBeUndefined();
  });

  test("a full worker table refuses new workers; malformed messages throw ProtocolError for the shell to count", () => {
    const { core } = setup({ maxWorkers: 1 });
    core.onWorker(f("w1", READY));
    core.onWorker(f("w2", READY));
    expect(core.stats()).toMatchObject({ workers: 1, workersRefused: 1 });
    for (const bad of [f("w3"), f("w3", 9), f("w3", "c", "x"), f("w3", "", "x")]) {
      expect(() => core.onWorker(bad)).toThrow(
        expect.objectContaining({ code: "ZG_PROTOCOL" }) as Error,
      );
    }
    for (const bad of [f("c"), f("c", "x"), f("c", "")]) {
      expect(() => core.onClient(bad)).toThrow(
        expect.objectContaining({ code: "ZG_PROTOCOL" }) as Error,
      );
    }
    expect(core.workers()).toEqual(["w1"]); // garbage never registers a worker
  });
});
