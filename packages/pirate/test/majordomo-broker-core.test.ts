import { describe, expect, test } from "vitest";
import { ManualClock, type Frame } from "@zg/core";
import { BrokerCore } from "../src/majordomo/broker-core.js";
import {
  encodeClientRequest,
  encodeReady,
  encodeWorkerReply,
  encodeWorkerSignal,
  parseBrokerError,
} from "../src/index.js";

const B = (...xs: string[]): Buffer[] => xs.map((x) => Buffer.from(x));
const W = (id: string): Buffer => Buffer.from(id);

function setup(over: Partial<ConstructorParameters<typeof BrokerCore>[0]> = {}) {
  const clock = new ManualClock();
  const out: Frame[][] = [];
  const events: { type: string; event: unknown }[] = [];
  const core = new BrokerCore({
    heartbeatInterval: 100,
    heartbeatLiveness: 3,
    requestExpiry: 1000,
    serviceTtl: 5000,
    maxQueued: 3,
    maxServices: 100,
    requeueLimit: () => 1,
    clock,
    post: (m) => void out.push(m),
    emit: (type, event) => void events.push({ type, event }),
    ...over,
  });
  const take = (): string[][] =>
    out
      .splice(0)
      .map((m) => m.map((f) => (f.length === 1 && f[0]! < 10 ? `0x0${f[0]}` : f.toString())));
  return { clock, out, core, events, take };
}

describe("BrokerCore (Majordomo state machine, ManualClock)", () => {
  test("LRU dispatch: requests go to the longest-waiting idle worker; replies go back to the right client", () => {
    const { core, take } = setup();
    core.handle([W("w1"), ...encodeReady("MDP/0.1", "echo")]);
    core.handle([W("w2"), ...encodeReady("MDP/0.2", "echo")]);
    core.handle([W("c1"), ...encodeClientRequest("MDP/0.1", "echo", B("a"))]);
    core.handle([W("c2"), ...encodeClientRequest("MDP/0.2", "echo", B("b"))]);
    expect(take()).toEqual([
      ["w1", "", "MDPW01", "0x02", "c1", "", "a"],
      ["w2", "MDPW02", "0x02", "c2", "", "b"],
    ]);
    core.handle([W("w2"), ...encodeWorkerReply("MDP/0.2", "FINAL", W("c2"), B("B"))]);
    core.handle([W("w1"), ...encodeWorkerReply("MDP/0.1", "FINAL", W("c1"), B("A"))]);
    expect(take()).toEqual([
      ["c2", "MDPC02", "0x03", "echo", "B"],
      ["c1", "", "MDPC01", "echo", "A"],
    ]);
    core.handle([W("c3"), ...encodeClientRequest("MDP/0.1", "echo", B("c"))]);
    expect(take()[0]?.[0]).toBe("w2"); // w2 has been idle longer
    expect(core.stats().perService["echo"]).toMatchObject({
      served: 2,
      workers: 2,
      idleWorkers: 1,
      queued: 0,
    });
  });

  test("valid but unexpected commands get DISCONNECT; invalid ones are counted and dropped", () => {
    const { core, take } = setup();
    core.handle([W("w1"), ...encodeReady("MDP/0.1", "echo")]);
    core.handle([W("w1"), ...encodeReady("MDP/0.1", "echo")]); // second READY
    core.handle([W("ghost"), ...encodeWorkerSignal("MDP/0.1", "HEARTBEAT")]);
    core.handle([W("ghost2"), ...encodeWorkerReply("MDP/0.2", "FINAL", W("c"), B("x"))]);
    core.handle([W("m"), ...encodeReady("MDP/0.1", "mmi.x")]);
    expect(take()).toEqual([
      ["w1", "", "MDPW01", "0x05"],
      ["ghost", "", "MDPW01", "0x05"],
      ["ghost2", "MDPW02", "0x06"],
      ["m", "", "MDPW01", "0x05"],
    ]);
    expect(core.stats()).toMatchObject({ workers: 0, disconnects: 4 });
    core.handle([W("x"), Buffer.alloc(0), Buffer.from("MDPC01"), Buffer.from("echo")]); // no body
    core.handle([W("x")]);
    expect(take()).toEqual([]);
    expect(core.stats().protocolErrors).toBe(2);
  });

  test("a worker silent for liveness × interval is expired and its request re-queued once, then 502", () => {
    const { core, clock, take, events } = setup();
    core.handle([W("w1"), ...encodeReady("MDP/0.1", "echo")]);
    core.handle([W("c1"), ...encodeClientRequest("MDP/0.1", "echo", B("job"))]);
    take();
    clock.advance(100);
    expect(take()).toEqual([["w1", "", "MDPW01", "0x04"]]); // heartbeat to the busy worker
    clock.advance(250);
    expect(core.stats()).toMatchObject({ workers: 0, requeued: 1, queued: 1, workersExpired: 1 });
    expect(take().every((m) => m[3] === "0x04")).toBe(true); // only heartbeats until the expiry
    core.handle([W("w2"), ...encodeReady("MDP/0.1", "echo")]);
    expect(take()).toEqual([["w2", "", "MDPW01", "0x02", "c1", "", "job"]]);
    core.handle([W("w2"), ...encodeWorkerSignal("MDP/0.1", "DISCONNECT")]); // dies again: second loss
    const [reply] = take();
    expect(reply?.slice(0, 4)).toEqual(["c1", "", "MDPC01", "echo"]);
    expect(reply?.slice(4, 6)).toEqual(["zg.mdp.error", "502"]);
    expect(events.map((e) => e.type)).toContain("request:lost");
  });

  test("expireBusyWorkers: false keeps a silent busy worker, as the reference brokers do", () => {
    const { core, clock, take } = setup({ expireBusyWorkers: false });
    core.handle([W("w1"), ...encodeReady("MDP/0.1", "echo")]);
    core.handle([W("c1"), ...encodeClientRequest("MDP/0.1", "echo", B("long job"))]);
    clock.advance(2000); // 20 intervals of silence
    expect(core.stats()).toMatchObject({ workers: 1, requeued: 0 });
    take();
    core.handle([W("w1"), ...encodeWorkerReply("MDP/0.1", "FINAL", W("c1"), B("done"))]);
    expect(take()).toEqual([["c1", "", "MDPC01", "echo", "done"]]);
    clock.advance(400); // idle and silent: expired as usual
    expect(core.stats()).toMatchObject({ workers: 0, workersExpired: 1 });
  });

  test("at-most-once services are never re-queued", () => {
    const { core, take } = setup({ requeueLimit: () => 0 });
    core.handle([W("w1"), ...encodeReady("MDP/0.1", "pay")]);
    core.handle([W("c1"), ...encodeClientRequest("MDP/0.1", "pay", B("once"))]);
    take();
    core.sendFailed([W("w1")]); // worker unreachable
    expect(parseBrokerError((take()[0] ?? []).slice(4).map((s) => Buffer.from(s)))?.status).toBe(
      "502",
    );
    expect(core.stats()).toMatchObject({ requeued: 0, lost: 1 });
  });

  test("queued requests expire with 504 after requestExpiry; a service only clients asked for goes when empty, a registered one after serviceTtl", () => {
    const { core, clock, take, events } = setup();
    core.handle([W("c1"), ...encodeClientRequest("MDP/0.2", "nobody", B("x"))]);
    expect(core.stats()).toMatchObject({ services: 1, pendingServices: 1 });
    clock.advance(999);
    expect(take()).toEqual([]);
    clock.advance(20);
    const [r] = take();
    expect(r?.slice(0, 6)).toEqual(["c1", "MDPC02", "0x03", "nobody", "zg.mdp.error", "504"]);
    expect(core.stats().perService["nobody"]).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(["request:expired", "service:removed"]);
    core.handle([W("w1"), ...encodeReady("MDP/0.1", "real")]);
    core.handle([W("w1"), ...encodeWorkerSignal("MDP/0.1", "DISCONNECT")]);
    expect(core.stats().perService["real"]).toMatchObject({ workers: 0 });
    clock.advance(5020);
    expect(core.stats().perService["real"]).toBeUndefined();
  });

  test("requests for made-up names fill only the pending table: a worker's new service is still accepted", () => {
    const { core, take } = setup({ maxServices: 2, maxPendingServices: 3 });
    for (let i = 0; i < 10; i++)
      core.handle([W("flood"), ...encodeClientRequest("MDP/0.1", `junk${i}`, B("x"))]);
    const refused = take();
    expect(refused).toHaveLength(7);
    expect(refused.every((m) => m[5] === "503" && m[6] === "too many services")).toBe(true);
    expect(core.stats()).toMatchObject({ services: 3, pendingServices: 3 });
    core.handle([W("w1"), ...encodeReady("MDP/0.1", "real")]);
    core.handle([W("c"), ...encodeClientRequest("MDP/0.1", "real", B("hi"))]);
    expect(take()).toEqual([["w1", "", "MDPW01", "0x02", "c", "", "hi"]]);
    // A worker for a pending service promotes it (its queued request goes out).
    core.handle([W("w2"), ...encodeReady("MDP/0.1", "junk0")]);
    expect(take()).toEqual([["w2", "", "MDPW01", "0x02", "flood", "", "x"]]);
    expect(core.stats()).toMatchObject({ services: 4, pendingServices: 2 });
    core.handle([W("w3"), ...encodeReady("MDP/0.1", "third")]); // maxServices 2 reached
    expect(take()).toEqual([["w3", "", "MDPW01", "0x05"]]);
  });

  test("fair queuing: a greedy client's backlog delays another client's request by at most the one in progress", () => {
    const { core, take } = setup({ maxQueued: 100, maxQueuedPerClient: 5 });
    for (let i = 0; i < 7; i++)
      core.handle([W("greedy"), ...encodeClientRequest("MDP/0.1", "s", B(`g${i}`))]);
    expect(take().map((m) => [m[0], m[6]])).toEqual([
      ["greedy", "too many requests queued for this client"],
      ["greedy", "too many requests queued for this client"],
    ]);
    core.handle([W("w"), ...encodeReady("MDP/0.1", "s")]);
    expect(take()[0]?.slice(-1)).toEqual(["g0"]);
    core.handle([W("honest"), ...encodeClientRequest("MDP/0.1", "s", B("h1"))]);
    core.handle([W("other"), ...encodeClientRequest("MDP/0.1", "s", B("o1"))]);
    let client = "greedy";
    const order: string[] = [];
    for (let i = 0; i < 5; i++) {
      core.handle([W("w"), ...encodeWorkerReply("MDP/0.1", "FINAL", W(client), B("r"))]);
      const next = take().find((m) => m[0] === "w") ?? [];
      client = String(next[4]);
      order.push(String(next[6]));
      if (next[6] === "h1")
        core.handle([W("honest"), ...encodeClientRequest("MDP/0.1", "s", B("h2"))]);
    }
    // Newcomers first, but never two in a row while the round waits.
    expect(order).toEqual(["h1", "g1", "o1", "g2", "h2"]);
  });

  test("maxQueuedBytes: a request that would pass the byte bound is refused with 503", () => {
    const { core, take } = setup({ maxQueued: 100, maxQueuedBytes: 10 });
    core.handle([W("c"), ...encodeClientRequest("MDP/0.1", "s", [Buffer.alloc(8)])]);
    core.handle([W("c"), ...encodeClientRequest("MDP/0.1", "s", [Buffer.alloc(8)])]);
    expect(take().map((m) => m.slice(5))).toEqual([["503", "broker queue full (bytes)"]]);
    expect(core.stats()).toMatchObject({ queued: 1, queuedBytes: 8 });
  });

  test("requestTimeout: a worker that heartbeats but never replies: 504 to the client, DISCONNECT to the worker", () => {
    const { core, clock, take, events } = setup({
      requestTimeout: (s) => (s === "slow" ? 500 : 0),
    });
    core.handle([W("w"), ...encodeReady("MDP/0.1", "slow")]);
    core.handle([W("c"), ...encodeClientRequest("MDP/0.1", "slow", B("x"))]);
    take();
    for (let t = 0; t < 450; t += 50) {
      clock.advance(50);
      core.handle([W("w"), ...encodeWorkerSignal("MDP/0.1", "HEARTBEAT")]);
    }
    expect(take().filter((m) => m[0] === "c")).toEqual([]);
    clock.advance(100);
    const out = take().filter((m) => m[3] !== "0x04");
    expect(out).toEqual([
      ["c", "", "MDPC01", "slow", "zg.mdp.error", "504", "worker did not reply within 500 ms"],
      ["w", "", "MDPW01", "0x05"],
    ]);
    expect(core.stats()).toMatchObject({ workers: 0, timedOut: 1, requeued: 0, queued: 0 });
    expect(events.map((e) => e.type)).toContain("request:timeout");
  });

  test("shutdown answers every queued request 503 'broker shutting down', and every new one", () => {
    const { core, take } = setup({ maxQueued: 100 });
    core.handle([W("w"), ...encodeReady("MDP/0.1", "s")]);
    for (let i = 0; i < 4; i++)
      core.handle([W(`c${i}`), ...encodeClientRequest("MDP/0.1", "s", B(`${i}`))]);
    take();
    expect(core.shutdown()).toBe(1); // c0's request is in the worker's hands
    expect(take().map((m) => [m[0], m[5], m[6]])).toEqual([
      ["c1", "503", "broker shutting down"],
      ["c2", "503", "broker shutting down"],
      ["c3", "503", "broker shutting down"],
    ]);
    core.handle([W("c9"), ...encodeClientRequest("MDP/0.1", "s", B("late"))]);
    expect(take().map((m) => [m[0], m[5]])).toEqual([["c9", "503"]]);
    core.handle([W("w"), ...encodeWorkerReply("MDP/0.1", "FINAL", W("c0"), B("done"))]);
    expect(take()).toEqual([["c0", "", "MDPC01", "s", "done"]]);
    expect(core.busy).toBe(0);
  });

  test("maxServiceStats bounds perService: services with workers first", () => {
    const { core } = setup({ maxServiceStats: 2, maxQueued: 10 });
    for (let i = 0; i < 5; i++)
      core.handle([W("c"), ...encodeClientRequest("MDP/0.1", `p${i}`, B("x"))]);
    core.handle([W("w"), ...encodeReady("MDP/0.1", "zz")]);
    const st = core.stats();
    expect(Object.keys(st.perService)).toHaveLength(2);
    expect(Object.keys(st.perService)[0]).toBe("zz");
    expect(st.servicesOmitted).toBe(4);
  });

  test("bounded queue: the newest request is refused with 503", () => {
    const { core, take } = setup();
    for (let i = 0; i < 4; i++)
      core.handle([W(`c${i}`), ...encodeClientRequest("MDP/0.1", "q", B(`${i}`))]);
    const out = take();
    expect(out).toHaveLength(1);
    expect(out[0]?.slice(0, 1).concat(out[0]?.slice(4, 6) ?? [])).toEqual([
      "c3",
      "zg.mdp.error",
      "503",
    ]);
    expect(core.stats().perService["q"]).toMatchObject({ queued: 3, refused: 1 });
  });

  test("MMI: mmi.service by live workers, mmi.services, 501 for the rest", () => {
    const { core, clock, take } = setup();
    core.handle([W("c"), ...encodeClientRequest("MDP/0.1", "echo", B("seen"))]); // a client asking does not make it "present"
    core.handle([W("c"), ...encodeClientRequest("MDP/0.1", "mmi.service", B("echo"))]);
    core.handle([W("w1"), ...encodeReady("MDP/0.1", "echo")]);
    core.handle([W("c"), ...encodeClientRequest("MDP/0.1", "mmi.service", B("echo"))]);
    core.handle([W("c"), ...encodeClientRequest("MDP/0.1", "mmi.services", B(""))]);
    core.handle([W("c"), ...encodeClientRequest("MDP/0.2", "mmi.frobnicate", B("x"))]);
    clock.advance(400); // w1 never heartbeats: expired
    core.handle([W("c"), ...encodeClientRequest("MDP/0.1", "mmi.service", B("echo"))]);
    const replies = take().filter((m) => m[0] === "c");
    expect(replies.map((m) => m.slice(-1)[0])).toEqual(["404", "200", "echo", "501", "404"]);
    expect(replies[2]).toEqual(["c", "", "MDPC01", "mmi.services", "200", "echo"]);
  });

  test("18/MDP partials are forwarded to 0.2 clients only; a reply for the wrong client is a violation", () => {
    const { core, take } = setup();
    core.handle([W("w"), ...encodeReady("MDP/0.2", "s")]);
    core.handle([W("c1"), ...encodeClientRequest("MDP/0.1", "s", B("x"))]);
    take();
    core.handle([W("w"), ...encodeWorkerReply("MDP/0.2", "PARTIAL", W("c1"), B("p"))]);
    expect(take()).toEqual([]);
    core.handle([W("w"), ...encodeWorkerReply("MDP/0.2", "FINAL", W("other"), B("f"))]);
    const out = take();
    expect(out[0]).toEqual(["w", "MDPW02", "0x06"]);
    expect(core.stats()).toMatchObject({ requeued: 1, workers: 0, queued: 1 });
  });
});
