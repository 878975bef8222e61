import { describe, expect, it, onTestFinished } from "vitest";
import WebSocket from "ws";
import { CloneClient, CloneServer, type CloneEndpoints } from "@zg/clone";
import { MajordomoBroker } from "@zg/pirate";
import { closeAfter, tcpEndpoint, waitFor } from "@zg/testing";
import { WsBridge, type WsBridgeOptions } from "../src/ws-bridge.js";

type Msg = Record<string, unknown> & { type: string; id?: number | null };
type Wire = string | { b64: string };

const LOCAL: CloneEndpoints = {
  snapshot: "tcp://127.0.0.1:*",
  publisher: "tcp://127.0.0.1:*",
  collector: "tcp://127.0.0.1:*",
};

/** A `ws` client that keeps every message and the map it rebuilds from the Clone messages. */
async function open(url: string) {
  const ws = new WebSocket(url);
  onTestFinished(() => ws.terminate());
  const got: Msg[] = [];
  const map = new Map<string, Wire>();
  let snapshots = 0;
  ws.on("message", (d: Buffer) => {
    const m = JSON.parse(d.toString()) as Msg;
    got.push(m);
    if (m.type === "clone-snapshot") {
      // A snapshot's first message replaces the subtree, its last completes it.
      if (!snapshotOpen) map.clear();
      for (const [k, v] of m["entries"] as [string, Wire][]) map.set(k, v);
      snapshotOpen = m["more"] === true;
      if (!snapshotOpen) snapshots += 1;
    } else if (m.type === "clone-update") {
      const value = m["value"] as Wire | null;
      if (value === null) map.delete(m["key"] as string);
      else map.set(m["key"] as string, value);
    }
  });
  let snapshotOpen = false;
  ws.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return {
    ws,
    got,
    map,
    snapshots: () => snapshots,
    send: (m: unknown) => ws.send(JSON.stringify(m)),
    next: (pred: (m: Msg) => boolean, what: string) =>
      waitFor(() => got.find(pred), { what, timeout: 15_000 }),
  };
}

async function system(options: Partial<WsBridgeOptions> = {}) {
  const server = closeAfter(new CloneServer({ bind: LOCAL, hugzInterval: 100 }));
  const endpoints = await server.start();
  const writer = closeAfter(new CloneClient({ servers: endpoints, subscribeWait: 300 }));
  await writer.start();
  await writer.waitSynced({ timeout: 10_000 });
  const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint() }));
  const bridge = closeAfter(
    new WsBridge({
      listen: "127.0.0.1:0",
      broker: (await broker.start()).endpoints[0] ?? "",
      clone: [endpoints],
      cloneSubtrees: ["/cfg/"],
      ...options,
    }),
  );
  const { url } = await bridge.start();
  return { bridge, url, writer };
}

/** The writer's view of a subtree, as the bridge frames values. */
function expected(writer: CloneClient, prefix: string): Map<string, Wire> {
  const out = new Map<string, Wire>();
  for (const [k, v] of writer.entries(prefix)) out.set(k, v.toString("utf8"));
  return out;
}

describe("WsBridge Clone subtrees", () => {
  it("a browser gets the subtree's snapshot, then each update, a delete as null; one shared client per subtree, closed when the last leaves", async () => {
    const { bridge, url, writer } = await system();
    await writer.set("/cfg/a", "1");
    await writer.set("/cfg/b", Buffer.from([0, 255]));
    await writer.set("/other/x", "not for browsers");

    const a = await open(url);
    a.send({ id: 1, type: "clone-subscribe", prefix: "/cfg/" });
    const snap = await a.next((m) => m.type === "clone-snapshot", "snapshot");
    expect(snap).toMatchObject({ id: 1, prefix: "/cfg/", more: false, resync: false });
    expect(new Map(snap["entries"] as [string, Wire][])).toEqual(
      new Map<string, Wire>([
        ["/cfg/a", "1"],
        ["/cfg/b", { b64: "AP8=" }],
      ]),
    );
    const base = BigInt(snap["sequence"] as string);

    const s2 = await writer.set("/cfg/a", "2");
    const up = await a.next((m) => m.type === "clone-update" && m["value"] === "2", "update");
    expect(up).toMatchObject({ prefix: "/cfg/", key: "/cfg/a", sequence: String(s2) });
    expect(s2).toBeGreaterThan(base);
    const s3 = await writer.delete("/cfg/b");
    expect(
      await a.next((m) => m.type === "clone-update" && m["key"] === "/cfg/b", "delete"),
    ).toMatchObject({ value: null, sequence: String(s3) });

    const b = await open(url);
    b.send({ id: 7, type: "clone-subscribe", prefix: "/cfg/" });
    const snapB = await b.next((m) => m.type === "clone-snapshot", "second snapshot");
    expect(snapB["entries"]).toEqual([["/cfg/a", "2"]]);
    expect(bridge.stats().subtrees).toBe(1);

    b.send({ id: 8, type: "clone-subscribe", prefix: "/other/" });
    expect(await b.next((m) => m.id === 8, "refusal")).toMatchObject({
      type: "error",
      code: "forbidden",
    });
    b.send({ id: 9, type: "clone-set", key: "/cfg/a", value: "3" });
    expect(await b.next((m) => m.id === 9, "set refused")).toMatchObject({
      type: "error",
      code: "forbidden",
    });

    await writer.set("/cfg/c", "x");
    await waitFor(() => a.map.get("/cfg/c") === "x" && b.map.get("/cfg/c") === "x", {
      what: "both browsers see /cfg/c",
    });
    expect(a.map).toEqual(expected(writer, "/cfg/"));

    b.send({ id: 10, type: "clone-unsubscribe", prefix: "/cfg/" });
    await b.next((m) => m.id === 10, "unsubscribed");
    expect(bridge.stats().subtrees).toBe(1);
    a.ws.close();
    await waitFor(() => bridge.stats().subtrees === 0, { what: "the shared client closed" });
  }, 30_000);

  it("with cloneSet a browser sets and deletes keys of a subtree it follows; the subscription limit counts subtrees", async () => {
    const { url, writer } = await system({ cloneSet: true, maxSubscriptions: 1 });
    const a = await open(url);
    a.send({ id: 1, type: "clone-subscribe", prefix: "/cfg/" });
    await a.next((m) => m.type === "clone-snapshot", "snapshot");
    a.send({ id: 2, type: "clone-set", key: "/cfg/k", value: "v" });
    const ack = await a.next((m) => m.id === 2, "ack");
    expect(ack).toMatchObject({ type: "clone-acked" });
    await waitFor(() => writer.getString("/cfg/k") === "v", { what: "the writer sees /cfg/k" });
    await waitFor(() => a.map.get("/cfg/k") === "v", { what: "the update comes back" });
    a.send({ id: 3, type: "clone-set", key: "/cfg/k", value: null });
    await a.next((m) => m.id === 3 && m.type === "clone-acked", "delete acked");
    await waitFor(() => writer.get("/cfg/k") === undefined && !a.map.has("/cfg/k"), {
      what: "deleted everywhere",
    });
    a.send({ id: 4, type: "clone-set", key: "/nope/k", value: "v" });
    expect(await a.next((m) => m.id === 4, "outside")).toMatchObject({ code: "forbidden" });
    a.send({ id: 5, type: "clone-subscribe", prefix: "/cfg/more/" }); // a second subscription
    const closed = await new Promise<number>((r) => a.ws.once("close", (code) => r(code)));
    expect(closed).toBe(1008);
  }, 30_000);

  it("a browser that does not read loses updates, then gets a fresh snapshot (resync) and ends equal to the server", async () => {
    const { bridge, url, writer } = await system({ maxBuffered: 64 * 1024 });
    const a = await open(url);
    a.send({ id: 1, type: "clone-subscribe", prefix: "/cfg/" });
    await a.next((m) => m.type === "clone-snapshot", "snapshot");
    const socket = (a.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const payload = "x".repeat(4096);
    let round = 0;
    await waitFor(
      async () => {
        round += 1;
        await Promise.all(
          Array.from({ length: 50 }, (_, i) => writer.set(`/cfg/${i}`, `${round}:${payload}`)),
        );
        return bridge.stats().dropped > 0;
      },
      { what: "updates dropped for the slow connection", timeout: 20_000, interval: 1 },
    );
    socket.resume();
    await a.next((m) => m.type === "clone-snapshot" && m["resync"] === true, "fresh snapshot");
    const last = await writer.set("/cfg/done", "1");
    await waitFor(() => a.map.get("/cfg/done") === "1", { what: "the browser caught up" });
    expect(a.map).toEqual(expected(writer, "/cfg/"));
    const s = bridge.stats();
    console.log(
      `ws bridge Clone slow browser: ${round} rounds of 50 sets, dropped ${s.dropped}, resyncs ${s.cloneResyncs}, last sequence ${last}`,
    );
    expect(s.cloneResyncs).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
