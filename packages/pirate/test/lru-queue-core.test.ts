import { describe, expect, test } from "vitest";
import { ManualClock, type Frame, type Message } from "@zg/core";
import { LruQueueCore, type LruQueueCoreOptions } from "../src/lb/lru-queue-core.js";
import { decodeLbWorkerMessage, encodeLbRequest, lbRequestOf } from "../src/lb/protocol.js";

const f = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x));
const id = (s: string): Frame => Buffer.from(s);
const show = (ms: Message[]): string[][] => ms.splice(0).map((m) => m.map(String));

function setup(over: Partial<LruQueueCoreOptions> = {}) {
  const clock = new ManualClock();
  const toWorkers: Message[] = [];
  const toClients: Message[] = [];
  const events: { type: string; event: unknown }[] = [];
  const core = new LruQueueCore({
    liveness: { kind: "none" },
    maxWorkers: 100,
    clock,
    toWorker: (w, request) => void toWorkers.push([w, ...request]),
    toClient: (m) => (toClients.push(m), true),
    emit: (type, event) => void events.push({ type, event }),
    ...over,
  });
  return { clock, core, events, workers: () => show(toWorkers), clients: () => show(toClients) };
}

describe("load-balancing codec", () => {
  test('[""][READY] in both spellings, [""][C][""][reply] out as [C][""][reply]; requests framed [W][""][…]', () => {
    expect(decodeLbWorkerMessage([Buffer.alloc(0), Buffer.from([1])])).toEqual({ type: "ready" });
    expect(decodeLbWorkerMessage(f("", "READY"))).toEqual({ type: "ready" });
    const r = decodeLbWorkerMessage(f("", "c1", "", "A"));
    expect(r.type === "reply" && r.reply.map(String)).toEqual(["c1", "", "A"]);
    expect(() => decodeLbWorkerMessage(f("READY"))).toThrow(/worker message/);
    expect(() => decodeLbWorkerMessage(f("", "HELLO"))).toThrow(/unknown worker signal/);
    expect(() => decodeLbWorkerMessage(f("", "c1", "A"))).toThrow(/delimiter/);
    const m = encodeLbRequest(id("w"), f("c", "", "x"));
    expect(m.map(String)).toEqual(["w", "", "c", "", "x"]);
    expect(lbRequestOf(m).map(String)).toEqual(["c", "", "x"]);
  });
});

describe("LruQueueCore, liveness none (LB and Simple Pirate; ManualClock)", () => {
  test("requests wait for a worker, go LRU first, replies go back and make the worker idle again", () => {
    const { clock, core, workers, clients, events } = setup();
    void core.onClient(f("c1", "", "a"));
    expect(core.stats()).toMatchObject({ queued: 1, workers: 0 });
    core.onWorkerReady(id("w1"));
    core.onWorkerReady(id("w2"));
    expect(workers()).toEqual([["w1", "c1", "", "a"]]);
    clock.advance(7);
    core.onWorkerReply(id("w1"), f("c1", "", "A"));
    expect(clients()).toEqual([["c1", "", "A"]]);
    void core.onClient(f("c2", "", "b"));
    expect(workers()).toEqual([["w2", "c2", "", "b"]]); // w2 idle longest
    expect(core.stats()).toMatchObject({
      workers: 2,
      requestsForwarded: 2,
      repliesForwarded: 1,
      heartbeatsSent: 0,
      latency: { p50: 7 },
    });
    expect(events.filter((e) => e.type === "worker:ready").map((e) => e.event)).toEqual([
      { identity: "w1", joined: true },
      { identity: "w2", joined: true },
      { identity: "w1", joined: false },
    ]);
  });

  test("a failed send forgets the worker and re-dispatches its request; counters never go down", () => {
    const { core, workers, events } = setup();
    core.onWorkerReady(id("dead"));
    core.onWorkerReady(id("live"));
    void core.onClient(f("c1", "", "a"));
    const [sent] = workers();
    core.onWorkerSendFailure(
      id("dead"),
      (sent as string[]).slice(1).map((s) => Buffer.from(s)),
    );
    expect(workers()).toEqual([["live", "c1", "", "a"]]);
    expect(events.some((e) => e.type === "worker:gone")).toBe(true);
    expect(core.stats()).toMatchObject({
      workers: 1,
      requestsForwarded: 2,
      redispatched: 1,
      workersPurged: 1,
    });
  });

  test("a full table forgets the longest-busy worker; with none busy, a new worker is refused", () => {
    const { core } = setup({ maxWorkers: 2 });
    core.onWorkerReady(id("a"));
    core.onWorkerReady(id("b"));
    void core.onClient(f("c1", "", "x")); // a busy
    core.onWorkerReady(id("c")); // a forgotten
    expect(core.workers().sort()).toEqual(["b", "c"]);
    expect(core.stats()).toMatchObject({ workersPurged: 1 });
    core.onWorkerReady(id("d"));
    expect(core.workers().sort()).toEqual(["b", "c"]);
    expect(core.stats().workersRefused).toBe(1);
  });

  test("backpressure: queued never exceeds maxQueued; the request read beyond it is held, then queued in order", async () => {
    const { core, workers } = setup({ maxQueued: 2 });
    void core.onClient(f("c1", "", "1"));
    void core.onClient(f("c2", "", "2"));
    const wait = core.onClient(f("c3", "", "3"));
    expect(wait).toBeInstanceOf(Promise);
    expect(core.stats()).toMatchObject({ queued: 2, held: 1 });
    core.onWorkerReady(id("w"));
    await expect(wait).resolves.toBeUndefined();
    expect(core.stats()).toMatchObject({ queued: 2, held: 0 });
    core.onWorkerReply(id("w"), f("c1", "", "r"));
    core.onWorkerReply(id("w"), f("c2", "", "r"));
    expect(workers().map((m) => m[3])).toEqual(["1", "2", "3"]);
  });

  test("drop-oldest keeps the newest; malformed client requests throw ProtocolError", () => {
    const { core, events } = setup({ maxQueued: 1, overflow: "drop-oldest" });
    void core.onClient(f("c1", "", "old"));
    void core.onClient(f("c2", "", "new"));
    expect(core.stats()).toMatchObject({ queued: 1, overflowDropped: 1 });
    expect(events.some((e) => e.type === "request:dropped")).toBe(true);
    expect(() => core.onClient(f("", "x"))).toThrow(/routing id/);
    expect(() => core.onClient(f("c", ""))).toThrow(/no body/);
  });
});
