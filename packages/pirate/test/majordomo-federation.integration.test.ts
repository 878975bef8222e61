import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, FaultProxy, ipcEndpoint, tcpEndpoint, waitFor } from "@zg/testing";
import {
  AsyncMajordomoClient,
  MajordomoBroker,
  MajordomoClient,
  MajordomoWorker,
  type MajordomoBrokerOptions,
} from "../src/index.js";
import { encodeState } from "../src/majordomo/federation/protocol.js";

const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };
const FED = { stateInterval: 50, peerLiveness: 4 };

/** Brokers on real sockets, each with an ipc peering endpoint known before any starts. */
async function brokers(
  spec: Record<string, { peers?: string[]; accept?: string[] }>,
  extra: Partial<MajordomoBrokerOptions> = {},
  fedExtra: { forwardTimeout?: number } = {},
): Promise<Record<string, { broker: MajordomoBroker; endpoint: string }>> {
  const peering = Object.fromEntries(Object.keys(spec).map((n) => [n, ipcEndpoint(`fed-${n}`)]));
  const out: Record<string, { broker: MajordomoBroker; endpoint: string }> = {};
  for (const [name, s] of Object.entries(spec)) {
    const broker = closeAfter(
      new MajordomoBroker({
        endpoints: tcpEndpoint(),
        ...HB,
        ...extra,
        federation: {
          name,
          endpoints: peering[name] as string,
          peers: Object.fromEntries((s.peers ?? []).map((p) => [p, peering[p] as string])),
          accept: s.accept ?? [],
          ...FED,
          ...fedExtra,
        },
      }),
    );
    const { endpoints } = await broker.start();
    out[name] = { broker, endpoint: endpoints[0] as string };
  }
  return out;
}

function tagWorker(endpoint: string, tag: string, delay = 0): MajordomoWorker {
  return closeAfter(
    new MajordomoWorker({
      broker: endpoint,
      service: "echo",
      ...HB,
      handler: async (request) => {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        return [Buffer.from(tag), ...request];
      },
    }),
  );
}

const alive = (b: MajordomoBroker, peer: string): boolean =>
  b.stats().federation?.perPeer[peer]?.up === 1;

describe("Majordomo federation (real sockets, in-process brokers)", () => {
  test("a client on A reaches a worker on B; local first; overflow when A's worker is saturated, back to local first when it is idle (by which worker served each); MMI for the federation", async () => {
    const { A, B } = await brokers({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    if (A === undefined || B === undefined) throw new Error("brokers not started");
    await tagWorker(B.endpoint, "B", 100).start();
    await waitFor(() => (A.broker.stats().federation?.perPeer["B"]?.workers ?? 0) === 1, {
      what: "B's worker announced to A",
    });
    const client = closeAfter(new MajordomoClient({ broker: A.endpoint, timeout: 5000 }));
    await client.start();
    expect((await client.request("echo", ["x"])).map(String)).toEqual(["B", "x"]);
    expect((await client.request("mmi.service", ["echo"])).map(String)).toEqual(["200"]);
    expect((await client.request("mmi.service", ["nope"])).map(String)).toEqual(["404"]);
    expect((await client.request("mmi.services", ["?"])).map(String)).toEqual(["200", "echo"]);

    // A local worker: sequential requests stay local.
    await tagWorker(A.endpoint, "A", 100).start();
    await waitFor(() => A.broker.stats().perService["echo"]?.workers === 1, {
      what: "A's worker",
    });
    for (let i = 0; i < 3; i++)
      expect((await client.request("echo", [`s${i}`]))[0]?.toString()).toBe("A");

    // Concurrent requests: A's worker is busy, the others overflow to B.
    const async = closeAfter(new AsyncMajordomoClient({ broker: A.endpoint, timeout: 5000 }));
    await async.start();
    const served = (
      await Promise.all(Array.from({ length: 6 }, (_, i) => async.request("echo", [`c${i}`])))
    ).map((r) => r[0]?.toString());
    expect(served.filter((s) => s === "A").length).toBeGreaterThan(0);
    expect(served.filter((s) => s === "B").length).toBeGreaterThan(0);
    // A idle again: back to local first.
    for (let i = 0; i < 3; i++)
      expect((await client.request("echo", [`again${i}`]))[0]?.toString()).toBe("A");
    const fed = A.broker.stats().federation;
    expect(fed?.perPeer["B"]).toMatchObject({ up: 1, failed: 0 });
    expect(fed?.perPeer["B"]?.returned).toBe(fed?.perPeer["B"]?.forwarded);
    expect(B.broker.stats().federation?.requestsIn).toBe(fed?.forwarded);
  });

  test("router tree: edge -> core -> workers' broker, two hops, replies back the same way", async () => {
    const { edge, core, work } = await brokers({
      edge: { peers: ["core"] },
      core: { peers: ["work"], accept: ["edge"] },
      work: { accept: ["core"] },
    });
    if (edge === undefined || core === undefined || work === undefined)
      throw new Error("brokers not started");
    await tagWorker(work.endpoint, "work").start();
    await waitFor(() => (edge.broker.stats().federation?.perPeer["core"]?.workers ?? 0) === 1, {
      what: "the workers' broker's capacity reaches the edge through the core",
    });
    const client = closeAfter(new MajordomoClient({ broker: edge.endpoint, timeout: 5000 }));
    await client.start();
    for (let i = 0; i < 20; i++)
      expect((await client.request("echo", [`t${i}`])).map(String)).toEqual(["work", `t${i}`]);
    expect(core.broker.stats().federation).toMatchObject({ requestsIn: 20, forwarded: 20 });
    expect(core.broker.stats().federation?.perPeer["edge"]).toMatchObject({
      configured: false,
      up: 1,
    });
  });

  test("partition (FaultProxy blackhole) with requests in the peer's hands: they fail over and are answered once; late replies after the heal are dropped", async () => {
    // One TCP link A -> B through the proxy (B accepts A, as in a router tree), so one proxy cuts it all.
    const proxy = new FaultProxy();
    const viaProxy = await proxy.start();
    const B = closeAfter(
      new MajordomoBroker({
        endpoints: tcpEndpoint(),
        ...HB,
        federation: { name: "B", endpoints: "tcp://127.0.0.1:*", accept: ["A"], ...FED },
      }),
    );
    const bEndpoint = (await B.start()).endpoints[0] as string;
    proxy.setTarget(B.stats().federation?.endpoints[0] as string);
    const A = closeAfter(
      new MajordomoBroker({
        endpoints: tcpEndpoint(),
        ...HB,
        federation: { name: "A", endpoints: "tcp://127.0.0.1:*", peers: { B: viaProxy }, ...FED },
      }),
    );
    const aEndpoint = (await A.start()).endpoints[0] as string;
    try {
      await tagWorker(aEndpoint, "A", 20).start();
      for (let i = 0; i < 3; i++) await tagWorker(bEndpoint, `B`, 300).start();
      await waitFor(() => (A.stats().federation?.perPeer["B"]?.idleWorkers ?? 0) === 3, {
        what: "B's 3 workers announced to A through the proxy",
      });
      const client = closeAfter(new AsyncMajordomoClient({ broker: aEndpoint, timeout: 10_000 }));
      await client.start();
      const replies = Array.from({ length: 8 }, (_, i) => client.request("echo", [`p${i}`]));
      await waitFor(() => (A.stats().federation?.perPeer["B"]?.inFlight ?? 0) > 0, {
        interval: 1,
        what: "requests in B's hands",
      });
      proxy.partition();
      const got = (await Promise.all(replies)).map((r) => r.map(String));
      expect(got.map((r) => r[1])).toEqual(Array.from({ length: 8 }, (_, i) => `p${i}`));
      const fed = A.stats().federation;
      expect(fed?.perPeer["B"]).toMatchObject({ up: 0, losses: 1 });
      expect(fed?.failed).toBeGreaterThan(0);
      proxy.heal();
      await waitFor(() => A.stats().federation?.perPeer["B"]?.up === 1, {
        timeout: 5000,
        what: "B returns after the heal",
      });
      // B's workers finished what they held; those replies reach A late and are dropped.
      await waitFor(
        () => (A.stats().federation?.lateReplies ?? 0) === (A.stats().federation?.failed ?? -1),
        { timeout: 5000, what: "every failed-over request's late reply dropped" },
      );
      expect(client.stats()).toMatchObject({ replies: 8, unmatched: 0 });
      console.log(
        `federation partition: ${fed?.failed} requests failed over, ${A.stats().federation?.lateReplies} late replies dropped`,
      );
    } finally {
      await proxy.close();
    }
  });

  test("a peer that takes requests and does not answer: they fail over after forwardTimeout to another peer, answered once; the slow one gets no overflow meanwhile", async () => {
    const { E, slow, fast } = await brokers(
      { E: { peers: ["slow", "fast"] }, slow: { accept: ["E"] }, fast: { accept: ["E"] } },
      {},
      { forwardTimeout: 400 },
    );
    if (E === undefined || slow === undefined || fast === undefined)
      throw new Error("brokers not started");
    // "slow" has more capacity (3 vs 1), so it is chosen first; its workers answer after 1.5 s.
    for (let i = 0; i < 3; i++) await tagWorker(slow.endpoint, "slow", 1500).start();
    await tagWorker(fast.endpoint, "fast").start();
    await waitFor(
      () =>
        (E.broker.stats().federation?.perPeer["slow"]?.idleWorkers ?? 0) === 3 &&
        (E.broker.stats().federation?.perPeer["fast"]?.idleWorkers ?? 0) === 1,
      { what: "both peers' capacity announced to E" },
    );
    const client = closeAfter(new AsyncMajordomoClient({ broker: E.endpoint, timeout: 10_000 }));
    await client.start();
    const got = await Promise.all(
      Array.from({ length: 3 }, (_, i) => client.request("echo", [`s${i}`])),
    );
    expect(got.map((r) => r[0]?.toString())).toEqual(["fast", "fast", "fast"]);
    const fed = E.broker.stats().federation;
    expect(fed?.perPeer["slow"]).toMatchObject({ forwarded: 3, timedOut: 3, failed: 3 });
    // The slow peer's late replies are dropped, never delivered.
    await waitFor(() => E.broker.stats().federation?.perPeer["slow"]?.lateReplies === 3, {
      timeout: 5000,
      what: "the slow peer's 3 late replies dropped",
    });
    expect(client.stats()).toMatchObject({ replies: 3, unmatched: 0 });
  });

  test("added latency on the peering link (FaultProxy delay): every request is answered; the round trip carries the delay", async () => {
    const proxy = new FaultProxy();
    const viaProxy = await proxy.start();
    const B = closeAfter(
      new MajordomoBroker({
        endpoints: tcpEndpoint(),
        ...HB,
        federation: { name: "B", endpoints: "tcp://127.0.0.1:*", accept: ["A"], ...FED },
      }),
    );
    const bEndpoint = (await B.start()).endpoints[0] as string;
    proxy.setTarget(B.stats().federation?.endpoints[0] as string);
    const A = closeAfter(
      new MajordomoBroker({
        endpoints: tcpEndpoint(),
        ...HB,
        federation: { name: "A", endpoints: "tcp://127.0.0.1:*", peers: { B: viaProxy }, ...FED },
      }),
    );
    const aEndpoint = (await A.start()).endpoints[0] as string;
    try {
      await tagWorker(bEndpoint, "B").start();
      await waitFor(() => (A.stats().federation?.perPeer["B"]?.workers ?? 0) === 1, {
        what: "B's worker announced to A",
      });
      proxy.set("both", { mode: "delay", ms: 30 });
      const client = closeAfter(new MajordomoClient({ broker: aEndpoint, timeout: 5000 }));
      await client.start();
      const times: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        expect((await client.request("echo", [`d${i}`])).map(String)).toEqual(["B", `d${i}`]);
        times.push(performance.now() - t);
      }
      times.sort((x, y) => x - y);
      // 30 ms each way on the one link: no round trip can be faster than 60 ms.
      expect(times[0]).toBeGreaterThanOrEqual(55);
      expect(A.stats().federation?.perPeer["B"]).toMatchObject({ up: 1, failed: 0, returned: 10 });
      console.log(
        `federation with 30 ms each way: round trip min ${times[0]?.toFixed(1)} ms, median ${times[5]?.toFixed(1)} ms`,
      );
    } finally {
      await proxy.close();
    }
  });

  test("impostors and garbage on the peering socket are ignored and counted", async () => {
    const { A, B } = await brokers({ A: { peers: ["B"] }, B: { peers: ["A"] } });
    if (A === undefined || B === undefined) throw new Error("brokers not started");
    await waitFor(() => alive(A.broker, "B"), { what: "A sees B" });
    const peeringA = A.broker.stats().federation?.endpoints[0] as string;
    const mallory = new zmq.Router({ routingId: "mallory", linger: 0 });
    const garbler = new zmq.Dealer({ routingId: "B-not", linger: 0 });
    try {
      mallory.connect(peeringA);
      garbler.connect(peeringA);
      const state = encodeState("ff", 1, [["echo", { capacity: 100, workers: 100, hops: 0 }]]);
      await waitFor(
        async () => {
          await garbler.send([Buffer.from("junk")]);
          try {
            await mallory.send([Buffer.from("A"), ...state]);
          } catch {
            return false; // not connected yet
          }
          return (A.broker.stats().federation?.impostors ?? 0) >= 2;
        },
        { what: "impostor messages counted" },
      );
    } finally {
      mallory.close();
      garbler.close();
    }
    expect(A.broker.stats().federation?.perPeer["mallory"]).toBeUndefined();
    expect(A.broker.stats().federation?.perPeer["B"]?.workers).toBe(0);
  });
});
