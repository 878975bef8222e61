import * as zmq from "zeromq";
import { describe, expect, test } from "vitest";
import { closeAfter, delay, waitFor, within } from "@zg/testing";
import {
  CloneClient,
  CloneServer,
  decodeKvMsg,
  encodeKvMsg,
  newUuid,
  type CloneChange,
  type CloneClientOptions,
  type CloneEndpoints,
  type CloneServerOptions,
} from "../src/index.js";

const LOCAL: CloneEndpoints = {
  snapshot: "tcp://127.0.0.1:*",
  publisher: "tcp://127.0.0.1:*",
  collector: "tcp://127.0.0.1:*",
};

async function server(options: Partial<CloneServerOptions> = {}) {
  const s = closeAfter(new CloneServer({ bind: LOCAL, hugzInterval: 100, ...options }));
  const endpoints = await s.start();
  return { server: s, endpoints };
}

async function client(endpoints: CloneEndpoints, options: Partial<CloneClientOptions> = {}) {
  const c = closeAfter(
    new CloneClient({ servers: endpoints, serverTtl: 2000, subscribeWait: 500, ...options }),
  );
  await c.start();
  await c.waitSynced({ timeout: 10_000 });
  return c;
}

function mapOf(entries: Iterable<[string, Buffer]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries) out[k] = v.toString();
  return out;
}

describe("CloneServer + CloneClient", () => {
  test("start() resolves with the real endpoints; snapshot, set, confirmed, seen by a second client", async () => {
    const { server: s, endpoints } = await server();
    for (const e of endpoints.endpoints) expect(e).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.endpoints).toEqual([
      endpoints.snapshot,
      endpoints.publisher,
      endpoints.collector,
    ]);
    const a = await client(endpoints);
    const b = await client(endpoints);
    const seq = await within(a.set("/config/level", "debug"), 5000, "set confirmed");
    expect(seq).toBe(1n);
    expect(a.getString("/config/level")).toBe("debug");
    await waitFor(() => b.getString("/config/level") === "debug", { what: "b sees the update" });
    expect(s.get("/config/level")?.sequence).toBe(1n);
    // A late joiner gets it from the snapshot.
    const c = await client(endpoints);
    expect(c.getString("/config/level")).toBe("debug");
    expect(c.sequence).toBe(1n);
    // Delete on an empty value, everywhere.
    await a.delete("/config/level");
    await waitFor(
      () => b.get("/config/level") === undefined && c.get("/config/level") === undefined,
      {
        what: "delete everywhere",
      },
    );
    expect(s.get("/config/level")).toBeUndefined();
  });

  test("server.set applies at the server (sequence, publish, delete); refusals throw and apply nothing", async () => {
    const { server: s, endpoints } = await server({ maxValueSize: 16 });
    const a = await client(endpoints);
    expect(await s.set("/owned/x", "1")).toBe(1n);
    await waitFor(() => a.getString("/owned/x") === "1", {
      what: "the client sees the server's set",
    });
    await expect(s.set("/owned/big", Buffer.alloc(17))).rejects.toMatchObject({
      code: "ZG_OVERFLOW",
    });
    await expect(s.set("", "v")).rejects.toMatchObject({ code: "ZG_INVALID_ARGUMENT" });
    expect(s.get("/owned/big")).toBeUndefined();
    expect(s.sequence).toBe(1n);
    expect(await s.set("/owned/x", "")).toBe(2n);
    await waitFor(() => a.get("/owned/x") === undefined, { what: "the delete reaches the client" });
    await s.close();
    await expect(s.set("/owned/y", "1")).rejects.toMatchObject({ code: "ZG_STATE" });
  });

  test("a server restarted without its state on the same endpoints: subtree and whole-map clients re-sync to it", async () => {
    const first = new CloneServer({ bind: LOCAL, hugzInterval: 100 });
    const ends = await first.start();
    const bound: CloneEndpoints = {
      snapshot: ends.snapshot,
      publisher: ends.publisher,
      collector: ends.collector,
    };
    const sub = await client(bound, { subtree: "/a/" });
    const all = await client(bound);
    await sub.set("/a/1", "before");
    await sub.set("/a/2", "before");
    await waitFor(() => all.getString("/a/2") === "before", { what: "whole-map client synced" });
    const stale: string[] = [];
    for (const c of [sub, all]) c.on("stream:stale", ({ reason }) => stale.push(reason));
    await first.close();
    // The new run starts at sequence 0 with another map: CHP alone would make the clients drop it.
    // libzmq releases the closed sockets' ports asynchronously: bind again once they are free.
    let second: CloneServer | undefined;
    for (const until = Date.now() + 5000; second === undefined;) {
      const s = new CloneServer({ bind: bound, hugzInterval: 100 });
      try {
        await s.start();
        second = closeAfter(s);
      } catch (error) {
        await s.close();
        if (Date.now() > until || !String(error).includes("address already in use")) throw error;
        await delay(20);
      }
    }
    await second.set("/a/1", "after");
    await waitFor(
      () =>
        sub.getString("/a/1") === "after" &&
        sub.get("/a/2") === undefined &&
        all.getString("/a/1") === "after" &&
        all.get("/a/2") === undefined,
      { what: "both clients hold the restarted server's map", timeout: 10_000 },
    );
    expect(stale).toContain("restart");
  });

  test("subtrees: a client mirrors only its prefix and cannot set outside it", async () => {
    const { endpoints } = await server();
    const all = await client(endpoints);
    await all.set("/a/1", "a1");
    await all.set("/b/1", "b1");
    const sub = await client(endpoints, { subtree: "/a/" });
    expect(mapOf(sub.entries())).toEqual({ "/a/1": "a1" });
    await all.set("/a/2", "a2");
    await all.set("/b/2", "b2");
    await waitFor(() => sub.get("/a/2") !== undefined, { what: "subtree update" });
    expect(mapOf(sub.entries())).toEqual({ "/a/1": "a1", "/a/2": "a2" });
    expect(() => sub.set("/b/3", "x")).toThrow(/outside/);
    await sub.set("/a/3", "a3");
    await waitFor(() => all.getString("/a/3") === "a3", { what: "whole-map client sees /a/3" });
  });

  test("TTL: a key set with ttl is gone from every client after it, with a sequence", async () => {
    const { endpoints } = await server({ flushInterval: 100 });
    const a = await client(endpoints);
    const b = await client(endpoints);
    const started = performance.now();
    await a.set("/t", "v", { ttl: 500 });
    await waitFor(() => b.get("/t") !== undefined, { what: "b sees /t" });
    await waitFor(() => a.get("/t") === undefined && b.get("/t") === undefined, {
      timeout: 5000,
      what: "expiry",
    });
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(500);
    expect(a.sequence).toBe(2n);
  });

  test("bounds: over maxKeys / maxValueSize an update is refused and not applied; set times out", async () => {
    const { server: s, endpoints } = await server({ maxKeys: 1, maxValueSize: 8 });
    const a = await client(endpoints, { setTimeout: 500 });
    await a.set("/a", "1");
    await expect(a.set("/b", "1")).rejects.toMatchObject({ code: "ZG_TIMEOUT" });
    await expect(a.set("/a", "123456789")).rejects.toMatchObject({ code: "ZG_TIMEOUT" });
    expect(s.stats().refused).toBeGreaterThanOrEqual(2);
    expect(s.get("/a")?.body.toString()).toBe("1");
    expect(s.sequence).toBe(1n);
    expect(a.getString("/a")).toBe("1");
  });

  test("changes(): an async iterable of the changes under a prefix, ended by close", async () => {
    const { endpoints } = await server();
    const a = await client(endpoints);
    const seen: CloneChange[] = [];
    const done = (async () => {
      for await (const change of a.changes("/w/")) seen.push(change);
    })();
    await a.set("/w/1", "x");
    await a.set("/other", "y");
    await a.delete("/w/1");
    await waitFor(() => seen.length === 2, { what: "two changes" });
    await a.close();
    await within(done, 2000, "iterator ends on close");
    expect(seen.map((c) => [c.key, c.value?.toString(), c.previous?.toString()])).toEqual([
      ["/w/1", "x", undefined],
      ["/w/1", undefined, "x"],
    ]);
  });

  test("garbage at every socket is counted and dropped; a good round trip right after", async () => {
    const { server: s, endpoints } = await server();
    const a = await client(endpoints);
    const pub = new zmq.Publisher({ linger: 0 });
    pub.connect(endpoints.collector);
    const dealer = new zmq.Dealer({ linger: 0 });
    dealer.connect(endpoints.snapshot);
    try {
      await delay(300);
      const junk = [
        [Buffer.from("x")],
        [Buffer.from("k"), Buffer.alloc(3), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)],
        [Buffer.from("k"), Buffer.alloc(8), Buffer.alloc(5), Buffer.alloc(0), Buffer.from("v")],
        [
          Buffer.from("k"),
          Buffer.alloc(8),
          Buffer.alloc(0),
          Buffer.from("noequals"),
          Buffer.from("v"),
        ],
      ];
      for (const j of junk) await pub.send(j);
      await dealer.send([Buffer.from("GIVE")]);
      await dealer.send([Buffer.from("ICANHAZ?"), Buffer.alloc(0), Buffer.alloc(0)]);
      await waitFor(() => s.stats().protocolErrors >= junk.length + 2, { what: "errors counted" });
      // A raw, spec-written KVSET on the same socket works.
      await pub.send(
        encodeKvMsg({
          key: "/raw",
          sequence: 0n,
          uuid: newUuid(),
          properties: new Map(),
          body: Buffer.from("ok"),
        }),
      );
      await waitFor(() => a.getString("/raw") === "ok", { what: "raw update applied" });
      // And a raw ICANHAZ gets KVSYNC + KTHXBAI.
      await dealer.send([Buffer.from("ICANHAZ?"), Buffer.from("/raw")]);
      const [entry] = await dealer.receive();
      expect(entry?.toString()).toBe("/raw");
      const end = decodeKvMsg(await dealer.receive());
      expect(end.key).toBe("KTHXBAI");
      expect(end.body.toString()).toBe("/raw");
      expect(end.sequence).toBe(s.sequence);
      expect(s.state).toBe("running");
    } finally {
      pub.close();
      dealer.close();
    }
  });

  test("HUGZ about every hugzInterval, carrying the current sequence", async () => {
    const { endpoints } = await server({ hugzInterval: 100 });
    const sub = new zmq.Subscriber({ linger: 0 });
    sub.subscribe("HUGZ");
    sub.connect(endpoints.publisher);
    try {
      const first = decodeKvMsg(await sub.receive());
      const t0 = performance.now();
      const second = decodeKvMsg(await sub.receive());
      expect(first.key).toBe("HUGZ");
      expect(second.sequence).toBe(0n);
      expect(performance.now() - t0).toBeGreaterThan(50);
    } finally {
      sub.close();
    }
  });

  test("10 late joiners during a stream of 20 000 updates: every map equals the server's, sequences strictly increase", async () => {
    const { server: s, endpoints } = await server();
    const writer = await client(endpoints);
    const clients: CloneClient[] = [];
    const violations: string[] = [];
    const N = 20_000;
    const writes: Promise<bigint>[] = [];
    for (let i = 0; i < N; i++) {
      writes.push(writer.set(`/k/${i % 500}`, `v${i}`));
      if (i % 2000 === 1000) {
        const c = closeAfter(
          new CloneClient({ servers: endpoints, serverTtl: 5000, subscribeWait: 500 }),
        );
        let last = -1n;
        c.on("update:applied", (u) => {
          if (!u.resync && u.sequence <= last) violations.push(`${u.sequence} after ${last}`);
          last = u.sequence;
        });
        c.on("snapshot:applied", (e) => (last = e.sequence));
        await c.start();
        clients.push(c);
      }
      if (i % 100 === 0) await delay(1);
    }
    await within(Promise.all(writes), 20_000, "all writes confirmed");
    const expected = mapOf(s.entries().map((e) => [e.key, e.body] as [string, Buffer]));
    for (const c of clients) {
      await waitFor(() => c.sequence === s.sequence, { timeout: 10_000, what: "client caught up" });
      expect(mapOf(c.entries())).toEqual(expected);
    }
    expect(violations).toEqual([]);
    expect(clients.length).toBe(10);
  }, 60_000);
});
