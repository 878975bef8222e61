import { describe, expect, test } from "vitest";
import { ManualClock, type Frame } from "@zg/core";
import { BrokerCore } from "../src/majordomo/broker-core.js";
import { FederationCore, type PeeringLink } from "../src/majordomo/federation/federation-core.js";
import {
  decodeFederation,
  encodeReply,
  encodeRequest,
  encodeState,
} from "../src/majordomo/federation/protocol.js";
import {
  encodeClientRequest,
  encodeReady,
  encodeWorkerReply,
  parseBrokerError,
} from "../src/index.js";

// A socket-free federation: BrokerCore + FederationCore per broker, one
// ManualClock, and a message bus that plays the two peering ROUTERs.

const INTERVAL = 100;

interface Node {
  name: string;
  core: BrokerCore;
  fed: FederationCore;
  /** Requests each worker holds: worker id → client envelope + body. */
  workerInbox: Map<string, { client: Frame; body: string }[]>;
  /** Replies per client: body strings (error replies as "ERR <status>"). */
  clientReplies: Map<string, string[]>;
  events: { type: string; event: unknown }[];
}

interface Net {
  clock: ManualClock;
  nodes: Map<string, Node>;
  /** Brokers whose process is gone: sends to them fail "unreachable". */
  dead: Set<string>;
  /** Cut links ("a|b", both directions): messages vanish silently. */
  cut: Set<string>;
  node(name: string): Node;
  step(ms: number): void;
}

function network(
  spec: Record<string, { peers?: string[]; accept?: string[] | "any" }>,
  over: { maxHops?: number; forwardTimeout?: number; requeueLimit?: number } = {},
): Net {
  const clock = new ManualClock();
  const nodes = new Map<string, Node>();
  const dead = new Set<string>();
  const cut = new Set<string>();
  const queue: (() => void)[] = [];
  let draining = false;
  const later = (fn: () => void): void => {
    queue.push(fn);
    if (draining) return;
    draining = true;
    while (queue.length > 0) (queue.shift() as () => void)();
    draining = false;
  };
  for (const [name, s] of Object.entries(spec)) {
    const n = {
      name,
      workerInbox: new Map(),
      clientReplies: new Map(),
      events: [],
    } as unknown as Node;
    n.core = new BrokerCore({
      heartbeatInterval: 10_000,
      heartbeatLiveness: 3,
      requestExpiry: 5000,
      serviceTtl: 60_000,
      maxQueued: 1000,
      maxServices: 100,
      requeueLimit: () => over.requeueLimit ?? 1,
      clock,
      post: (m) => {
        const id = (m[0] as Frame).toString();
        if (id.startsWith("w")) {
          // [worker, "MDPW02", 0x02, client, "", body]
          const list = n.workerInbox.get(id) ?? [];
          list.push({ client: m[3] as Frame, body: (m[5] as Frame).toString() });
          n.workerInbox.set(id, list);
          return;
        }
        // [client, "MDPC02", FINAL, service, body...]
        const body = m.slice(4);
        const err = parseBrokerError(body);
        const list = n.clientReplies.get(id) ?? [];
        list.push(err === undefined ? (body[0] as Frame).toString() : `ERR ${err.status}`);
        n.clientReplies.set(id, list);
      },
      emit: (type, event) => void n.events.push({ type, event }),
      overflow: (r) => n.fed.overflow(r),
      capacityChanged: () => n.fed.localChanged(),
      federatedWorkers: (svc) => n.fed.workers(svc),
      federatedServices: () => n.fed.services(),
    });
    n.fed = new FederationCore({
      name,
      peers: s.peers ?? [],
      accept: s.accept === "any" ? "any" : [...(s.peers ?? []), ...(s.accept ?? [])],
      stateInterval: INTERVAL,
      peerLiveness: 3,
      forwardTimeout: over.forwardTimeout ?? 2000,
      maxHops: over.maxHops ?? 2,
      maxServices: 100,
      epoch: Buffer.from(name).toString("hex"),
      clock,
      send: (link: PeeringLink, m: Frame[]) => {
        const to = (m[0] as Frame).toString();
        if (dead.has(name)) return;
        if (dead.has(to) || !nodes.has(to)) {
          later(() => n.fed.sendFailed(link, m, "unreachable"));
          return;
        }
        later(() => n.fed.delivered(link, m)); // written to the pipe (libzmq's view)
        if (cut.has(`${name}|${to}`) || cut.has(`${to}|${name}`)) return;
        const target = nodes.get(to) as Node;
        later(() => {
          if (!dead.has(to))
            target.fed.handle(link === "out" ? "in" : "out", [Buffer.from(name), ...m.slice(1)]);
        });
      },
      local: () => n.core.localCapacity(),
      broker: {
        replied: (t, c, b) => n.core.forwardReplied(t, c, b),
        failed: (t) => n.core.forwardFailed(t),
        capacity: (svc) => n.core.offerCapacity(svc),
        submit: (svc, b, o) => n.core.handlePeerRequest(svc, b, o),
      },
      emit: (type, event) => void n.events.push({ type, event }),
    });
    nodes.set(name, n);
  }
  for (const n of nodes.values()) n.fed.start();
  return {
    clock,
    nodes,
    dead,
    cut,
    node: (name) => nodes.get(name) as Node,
    step: (ms) => {
      for (let t = 0; t < ms; t += 10) clock.advance(10);
    },
  };
}

const ready = (n: Node, worker: string, service = "echo"): void =>
  n.core.handle([Buffer.from(worker), ...encodeReady("MDP/0.2", service)]);
const request = (n: Node, client: string, body: string, service = "echo"): void =>
  n.core.handle([
    Buffer.from(client),
    ...encodeClientRequest("MDP/0.2", service, [Buffer.from(body)]),
  ]);
/** Worker `worker` answers every request it holds with the body upper-cased. */
const serve = (n: Node, worker: string): number => {
  const held = n.workerInbox.get(worker) ?? [];
  n.workerInbox.set(worker, []);
  for (const r of held)
    n.core.handle([
      Buffer.from(worker),
      ...encodeWorkerReply("MDP/0.2", "FINAL", r.client, [Buffer.from(r.body.toUpperCase())]),
    ]);
  return held.length;
};
const held = (n: Node, worker: string): string[] =>
  (n.workerInbox.get(worker) ?? []).map((r) => r.body);

describe("FederationCore + BrokerCore (ManualClock, no sockets)", () => {
  test("local workers first; overflow to a peer with capacity; the reply comes back along the same path", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    const b = net.node("B");
    ready(a, "wa");
    ready(b, "wb");
    net.step(INTERVAL * 2);
    request(a, "c1", "one");
    expect(held(a, "wa")).toEqual(["one"]); // local first
    request(a, "c1", "two"); // wa busy: overflow to B
    expect(held(b, "wb")).toEqual(["two"]);
    serve(b, "wb");
    serve(a, "wa");
    expect(a.clientReplies.get("c1")).toEqual(["TWO", "ONE"]);
    expect(a.fed.stats()).toMatchObject({ forwarded: 1, returned: 1, failed: 0 });
    expect(a.fed.stats().perPeer["B"]).toMatchObject({ up: 1, forwarded: 1, returned: 1 });
    expect(b.fed.stats()).toMatchObject({ requestsIn: 1 });
    // Idle again: local first again.
    request(a, "c1", "three");
    expect(held(a, "wa")).toEqual(["three"]);
    expect(held(b, "wb")).toEqual([]);
  });

  test("PARTIAL replies travel back through the federation to a 0.2 client, then the FINAL", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    const b = net.node("B");
    ready(b, "wb");
    net.step(INTERVAL * 2);
    request(a, "c1", "p");
    const [r] = b.workerInbox.get("wb") ?? [];
    if (r === undefined) throw new Error("precondition: B's worker holds the request");
    for (const [command, text] of [
      ["PARTIAL", "half"],
      ["FINAL", "done"],
    ] as const)
      b.core.handle([
        Buffer.from("wb"),
        ...encodeWorkerReply("MDP/0.2", command, r.client, [Buffer.from(text)]),
      ]);
    expect(a.clientReplies.get("c1")).toEqual(["half", "done"]);
    expect(a.fed.stats()).toMatchObject({ forwarded: 1, returned: 1 });
  });

  test("drain: requests in peers' hands count as in flight; one failed over while shutting down is answered 503", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    ready(net.node("B"), "wb");
    net.step(INTERVAL * 2);
    request(a, "c1", "x");
    expect(a.core.shutdown()).toBe(1);
    net.dead.add("B");
    net.step(INTERVAL * 5);
    expect(a.clientReplies.get("c1")).toEqual(["ERR 503"]);
    expect(a.core.busy).toBe(0);
  });

  test("a request queued for lack of capacity overflows as soon as a peer announces some", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    const b = net.node("B");
    net.step(INTERVAL * 2);
    request(a, "c1", "x");
    expect(a.core.stats().queued).toBe(1);
    ready(b, "wb"); // B's capacity goes 0 -> 1: announced within stateInterval / 10
    net.step(INTERVAL / 5);
    expect(held(b, "wb")).toEqual(["x"]);
    serve(b, "wb");
    expect(a.clientReplies.get("c1")).toEqual(["X"]);
  });

  test("capacity is consumed by what we send: no more than the announced capacity overflows between announcements", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    const b = net.node("B");
    ready(b, "wb1");
    ready(b, "wb2");
    net.step(INTERVAL * 2);
    for (let i = 0; i < 5; i++) request(a, "c1", `r${i}`);
    expect(a.fed.stats().forwarded).toBe(2);
    expect(a.core.stats().queued).toBe(3);
  });

  test("a loop in the peer configuration (A -> B -> C -> A) never makes a request circulate", () => {
    const net = network(
      {
        A: { peers: ["B"], accept: ["C"] },
        B: { peers: ["C"], accept: ["A"] },
        C: { peers: ["A"], accept: ["B"] },
      },
      { maxHops: 16 },
    );
    const a = net.node("A");
    const b = net.node("B");
    const c = net.node("C");
    ready(c, "wc");
    net.step(INTERVAL * 3);
    // C's capacity reaches A through B (transit); then C's worker gets busy. (Around a
    // cycle with maxHops > 2 capacity estimates echo: they may overcount, never loop a request.)
    expect(a.fed.stats().perPeer["B"]?.idleWorkers).toBeGreaterThanOrEqual(1);
    request(c, "cc", "busy");
    request(a, "c1", "loop?");
    net.step(INTERVAL * 5);
    // The request went A -> B -> C and waits at C; C will not send it back to A.
    const forwarded = [a, b, c].map((n) => n.fed.stats().forwarded);
    expect(forwarded[0]).toBe(1);
    expect(forwarded.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(2);
    expect(c.core.stats().queued).toBe(1);
    serve(c, "wc");
    serve(c, "wc");
    expect(a.clientReplies.get("c1")).toEqual(["LOOP?"]);
    // A hand-made REQUEST that already passed C is refused, answered, never passed on.
    c.fed.handle("in", [
      Buffer.from("B"),
      ...encodeRequest("ab.99", ["C", "A", "B"], "echo", [Buffer.from("x")]),
    ]);
    expect(c.fed.stats().loopsRefused).toBe(1);
  });

  test("maxHops bounds the path: with 1 hop, transit capacity is neither announced nor used", () => {
    const net = network(
      { A: { peers: ["B"] }, B: { peers: ["C"], accept: ["A"] }, C: { accept: ["B"] } },
      { maxHops: 1 },
    );
    ready(net.node("C"), "wc");
    net.step(INTERVAL * 3);
    expect(net.node("A").fed.stats().perPeer["B"]?.services).toBe(0);
    request(net.node("A"), "c1", "x");
    expect(net.node("A").fed.stats().forwarded).toBe(0);
  });

  test("router tree: an edge broker reaches workers two hops away; MMI answers for the federation", () => {
    // edge -> core -> workers' broker; the upstream ones only accept their children.
    const net = network({
      edge: { peers: ["core"] },
      core: { peers: ["work"], accept: ["edge"] },
      work: { accept: ["core"] },
    });
    const edge = net.node("edge");
    ready(net.node("work"), "w1");
    net.step(INTERVAL * 3);
    request(edge, "c1", "mmi", "mmi.service"); // body "mmi" is the service name asked about: unknown
    edge.core.handle([
      Buffer.from("c2"),
      ...encodeClientRequest("MDP/0.2", "mmi.service", [Buffer.from("echo")]),
    ]);
    expect(edge.clientReplies.get("c1")).toEqual(["404"]);
    expect(edge.clientReplies.get("c2")).toEqual(["200"]);
    request(edge, "c3", "deep");
    expect(held(net.node("work"), "w1")).toEqual(["deep"]);
    serve(net.node("work"), "w1");
    expect(edge.clientReplies.get("c3")).toEqual(["DEEP"]);
    expect(net.node("core").fed.stats()).toMatchObject({ requestsIn: 1, forwarded: 1 });
  });

  test("a peer that dies with forwarded requests in flight: they are re-queued and answered once; its late reply is dropped", () => {
    const net = network({ A: { peers: ["B", "C"] }, B: { peers: ["A"] }, C: { peers: ["A"] } });
    const a = net.node("A");
    const b = net.node("B");
    const c = net.node("C");
    ready(b, "wb");
    net.step(INTERVAL * 2);
    request(a, "c1", "x");
    expect(held(b, "wb")).toEqual(["x"]);
    net.dead.add("B"); // kill -9: silence
    ready(c, "wc"); // another peer gets capacity
    net.step(INTERVAL * 4);
    expect(a.events.some((e) => e.type === "peer:lost")).toBe(true);
    // Re-queued at A, then overflowed to C.
    expect(held(c, "wc")).toEqual(["x"]);
    serve(c, "wc");
    // B comes back (same epoch: a network blip) and answers late: dropped.
    net.dead.delete("B");
    net.step(INTERVAL * 2);
    serve(b, "wb");
    expect(a.clientReplies.get("c1")).toEqual(["X"]);
    expect(a.fed.stats()).toMatchObject({ failed: 1, lateReplies: 1, returned: 1 });
    expect(a.events.some((e) => e.type === "peer:returned")).toBe(true);
  });

  test("without a second chance (requeueLimit 0) a request lost with its peer is answered 502, once", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } }, { requeueLimit: 0 });
    const a = net.node("A");
    ready(net.node("B"), "wb");
    net.step(INTERVAL * 2);
    request(a, "c1", "x");
    net.dead.add("B");
    net.step(INTERVAL * 5);
    expect(a.clientReplies.get("c1")).toEqual(["ERR 502"]);
  });

  test("an unreachable peer fails the forward at once (re-queued, served locally when a worker frees)", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    ready(a, "wa");
    ready(net.node("B"), "wb");
    net.step(INTERVAL * 2);
    request(a, "c1", "one");
    net.dead.add("B");
    request(a, "c1", "two"); // B still looks alive: forwarded, the send fails, re-queued
    expect(a.fed.stats().failed).toBe(1);
    expect(a.core.stats().queued).toBe(1);
    serve(a, "wa");
    serve(a, "wa");
    expect(a.clientReplies.get("c1")).toEqual(["ONE", "TWO"]);
  });

  test("partition: requests in flight fail over after the peer's state stops; the peer returns when the link heals", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    const b = net.node("B");
    ready(a, "wa");
    ready(b, "wb");
    net.step(INTERVAL * 2);
    request(a, "c1", "one");
    request(a, "c1", "two"); // to B
    net.cut.add("A|B");
    net.step(INTERVAL * 4);
    expect(a.fed.stats().perPeer["B"]?.up).toBe(0);
    serve(a, "wa");
    serve(a, "wa");
    expect(a.clientReplies.get("c1")).toEqual(["ONE", "TWO"]);
    net.cut.clear();
    net.step(INTERVAL * 2);
    serve(b, "wb"); // B's reply for the failed-over request: dropped
    expect(a.clientReplies.get("c1")).toEqual(["ONE", "TWO"]);
    expect(a.fed.stats().perPeer["B"]).toMatchObject({
      up: 1,
      joins: 2,
      losses: 1,
      lateReplies: 1,
    });
  });

  test("a slow peer that keeps announcing capacity but does not answer: forwardTimeout fails over and it gets no overflow for a while", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } }, { forwardTimeout: 500 });
    const a = net.node("A");
    const b = net.node("B");
    ready(a, "wa");
    ready(b, "wb1");
    ready(b, "wb2");
    net.step(INTERVAL * 2);
    request(a, "c1", "one"); // local
    request(a, "c1", "two"); // to B, never answered
    expect(held(b, "wb1")).toEqual(["two"]);
    net.step(600);
    expect(a.fed.stats()).toMatchObject({ timedOut: 1, failed: 1 });
    // B still announces capacity (wb2 idle), but is suspect: no overflow.
    request(a, "c1", "three");
    expect(held(b, "wb2")).toEqual([]);
    serve(a, "wa");
    serve(a, "wa");
    serve(a, "wa");
    expect(a.clientReplies.get("c1")).toEqual(["ONE", "TWO", "THREE"]);
    net.step(600); // penalty over
    request(a, "c1", "four");
    request(a, "c1", "five");
    expect(held(b, "wb2")).toEqual(["five"]);
  });

  test("a restarted peer (new epoch) fails what the old run held, at once", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    ready(net.node("B"), "wb");
    net.step(INTERVAL * 2);
    request(a, "c1", "x");
    a.fed.handle("out", [Buffer.from("B"), ...encodeState("beef", 1, [])]);
    expect(a.events).toContainEqual({
      type: "peer:lost",
      event: { peer: "B", reason: "restarted", failed: 1 },
    });
    expect(a.core.stats().queued).toBe(1);
  });

  test("a reply meant for a previous run of this broker (same name, same number) is never taken for a new request's", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    ready(net.node("B"), "wb");
    net.step(INTERVAL * 2);
    request(a, "c1", "mine"); // A's request number 1, id "<A's epoch>.1"
    a.fed.handle("out", [
      Buffer.from("B"),
      ...encodeReply("01d.1", "FINAL", [Buffer.from("old run's reply")]),
    ]);
    expect(a.clientReplies.get("c1")).toBeUndefined();
    expect(a.fed.stats().lateReplies).toBe(1);
    serve(net.node("B"), "wb");
    expect(a.clientReplies.get("c1")).toEqual(["MINE"]);
  });

  test("impostors and garbage on the peering link are ignored and counted; routing does not change", () => {
    const net = network({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    const a = net.node("A");
    net.step(INTERVAL * 2);
    const before = JSON.stringify(a.fed.stats().perPeer);
    const fakeState = encodeState("ff", 1e6, [["echo", { capacity: 9, workers: 9, hops: 0 }]]);
    a.fed.handle("in", [Buffer.from("mallory"), ...fakeState]); // not a peer
    a.fed.handle("out", [Buffer.from("mallory"), ...fakeState]);
    a.fed.handle("in", [Buffer.from("A"), ...fakeState]); // our own name
    expect(a.fed.stats().impostors).toBe(3);
    const garbage: Frame[][] = [
      [],
      [Buffer.from("MDPF01")],
      [Buffer.from("MDPF01"), Buffer.from("STATE"), Buffer.from("zz"), Buffer.from("1")],
      [Buffer.from("MDPF01"), Buffer.from("STATE"), Buffer.from("ab"), Buffer.from("x")],
      [...encodeState("ab", 5, []), Buffer.from("echo")],
      [...encodeState("ab", 5, []), Buffer.from("echo"), Buffer.from("-1 2 0")],
      [...encodeState("ab", 5, []), Buffer.from("echo"), Buffer.from("1 1 999")],
      [Buffer.from("MDPF01"), Buffer.from("REQUEST"), Buffer.from("1"), Buffer.from("B")],
      [Buffer.from("MDPF01"), Buffer.from("NOPE")],
      encodeReply("ab.1", "FINAL", [Buffer.from("x")]), // REPLY on the bound link
      [Buffer.from("HELLO")],
    ];
    for (const g of garbage) a.fed.handle("in", [Buffer.from("B"), ...g]);
    expect(a.fed.stats().protocolErrors).toBe(garbage.length);
    expect(JSON.stringify(a.fed.stats().perPeer)).toBe(before);
    request(a, "c1", "x");
    expect(a.fed.stats().forwarded).toBe(0);
    // A replayed (stale) state is ignored by its version marker.
    const b = net.node("B");
    ready(b, "wb");
    net.step(INTERVAL);
    const seen = a.fed.stats().statesReceived;
    a.fed.handle("out", [
      Buffer.from("B"),
      ...encodeState(Buffer.from("B").toString("hex"), 1, []),
    ]);
    expect(a.fed.stats()).toMatchObject({ statesReceived: seen, staleStates: 1 });
    expect(a.fed.stats().perPeer["B"]?.services).toBe(1);
  });

  test('accept "any": names that are not broker names are impostors, and the table of accepted peers is bounded', () => {
    const net = network({ core: { accept: "any" } });
    const core = net.node("core");
    const state = encodeState("ab", 1, []);
    core.fed.handle("in", [Buffer.from("bad name!"), ...state]);
    for (let i = 0; i < 1005; i++) core.fed.handle("in", [Buffer.from(`edge${i}`), ...state]);
    expect(Object.keys(core.fed.stats().perPeer)).toHaveLength(1000);
    expect(core.fed.stats().impostors).toBe(6);
  });

  test("state flow: one announcement per peer per interval, plus early ones when capacity appears", () => {
    const net = network({ A: { peers: ["B", "C"] }, B: { peers: ["A"] }, C: { peers: ["A"] } });
    const a = net.node("A");
    net.step(INTERVAL * 10);
    const sent = a.fed.stats().statesSent;
    expect(sent).toBeGreaterThanOrEqual(2 * 10);
    expect(sent).toBeLessThanOrEqual(2 * 11 + 2);
    ready(a, "wa");
    net.step(INTERVAL / 5);
    expect(a.fed.stats().statesSent).toBeGreaterThan(sent);
    expect(net.node("B").fed.stats().perPeer["A"]?.idleWorkers).toBe(1);
  });

  test("codec round trip", () => {
    const s = decodeFederation(
      encodeState("0a", 7, [["echo", { capacity: 2, workers: 3, hops: 1 }]]),
      10,
    );
    expect(s).toEqual({
      kind: "STATE",
      epoch: "0a",
      sequence: 7,
      services: new Map([["echo", { capacity: 2, workers: 3, hops: 1 }]]),
    });
    expect(() =>
      decodeFederation(
        encodeState("0a", 7, [
          ["a", { capacity: 1, workers: 1, hops: 0 }],
          ["b", { capacity: 1, workers: 1, hops: 0 }],
        ]),
        1,
      ),
    ).toThrow(/too many/);
    const r = decodeFederation(encodeRequest("0a.5", ["A", "B"], "echo", [Buffer.from("x")]), 10);
    expect(r).toMatchObject({ kind: "REQUEST", id: "0a.5", visited: ["A", "B"], service: "echo" });
    const p = decodeFederation(encodeReply("0a.5", "PARTIAL", [Buffer.from("y")]), 10);
    expect(p).toMatchObject({ kind: "REPLY", id: "0a.5", command: "PARTIAL" });
    expect(() => decodeFederation(encodeReply("5", "FINAL", []), 10)).toThrow(/bad REPLY id/);
  });
});
