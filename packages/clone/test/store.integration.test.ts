// Persistence (beyond the Guide): a server with a data directory resumes its map and its sequence.
import { readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { closeAfter, tempDir, waitFor } from "@zg/testing";
import {
  CloneClient,
  CloneServer,
  CloneStore,
  newUuid,
  type CloneEndpoints,
} from "../src/index.js";

const LOCAL: CloneEndpoints = {
  snapshot: "tcp://127.0.0.1:*",
  publisher: "tcp://127.0.0.1:*",
  collector: "tcp://127.0.0.1:*",
};

async function start(dataDir: string, extra: Record<string, unknown> = {}) {
  const server = closeAfter(new CloneServer({ bind: LOCAL, hugzInterval: 100, dataDir, ...extra }));
  const endpoints = await server.start();
  const client = closeAfter(new CloneClient({ servers: endpoints, subscribeWait: 300 }));
  await client.start();
  await client.waitSynced({ timeout: 10_000 });
  return { server, client };
}

describe("CloneServer with a data directory", () => {
  test("restart: the map, the ttls and the sequence come back; the next update gets the next number", async () => {
    const dir = tempDir("zg-clone-");
    const a = await start(dir);
    await a.client.set("/a", "1");
    await a.client.set("/b", "2");
    await a.client.set("/t", "short", { ttl: 300 });
    await a.client.set("/l", "long", { ttl: 60_000 });
    await a.client.delete("/b");
    expect(a.server.sequence).toBe(5n);
    await a.client.close();
    await a.server.close();

    const b = await start(dir, { flushInterval: 50 });
    expect(b.server.sequence).toBeGreaterThanOrEqual(5n);
    expect(b.client.getString("/a")).toBe("1");
    expect(b.client.get("/b")).toBeUndefined();
    expect(b.client.getString("/l")).toBe("long");
    await waitFor(() => b.client.get("/t") === undefined, {
      what: "the short ttl expires after restart",
    });
    const next = await b.client.set("/c", "3");
    expect(next).toBeGreaterThan(5n);
    expect(b.server.stats().storeAppends).toBeGreaterThan(0);
  });

  test("compaction: a snapshot replaces the old segments, a restart reads it back exactly", async () => {
    const dir = tempDir("zg-clone-");
    const a = await start(dir, { compactMinBytes: 4096, fsync: "never" });
    const writes: Promise<bigint>[] = [];
    for (let i = 0; i < 2000; i++) writes.push(a.client.set(`/k/${i % 100}`, `v${i}`));
    await Promise.all(writes);
    await waitFor(() => a.server.stats().storeCompactions > 0, { what: "a compaction" });
    const expected = Object.fromEntries(a.server.entries().map((e) => [e.key, e.body.toString()]));
    const seq = a.server.sequence;
    await a.client.close();
    await a.server.close();
    expect(readdirSync(dir)).toContain("clone.snapshot");
    const store = await CloneStore.open(dir);
    try {
      expect(store.restored.sequence).toBe(seq);
      const got = Object.fromEntries(
        store.restored.entries.map((e) => [e.message.key, e.message.body.toString()]),
      );
      expect(got).toEqual(expected);
    } finally {
      await store.close();
    }
  });

  test("a server restarted often compacts the segments its restarts left", async () => {
    const dir = tempDir("zg-clone-");
    for (let i = 0; i < 10; i++) {
      const s = new CloneServer({ bind: LOCAL, dataDir: dir });
      await s.start();
      await s.close();
    }
    const a = await start(dir);
    await a.client.set("/x", "1");
    await waitFor(() => readdirSync(dir).filter((f) => f.endsWith(".log")).length <= 2, {
      what: "old segments compacted",
    });
    expect(readdirSync(dir)).toContain("clone.snapshot");
  });

  test("the data directory is locked: a second server on it fails to start naming the holder", async () => {
    const dir = tempDir("zg-clone-");
    const a = await start(dir);
    const b = new CloneServer({ bind: LOCAL, dataDir: dir });
    await expect(b.start()).rejects.toMatchObject({
      code: "ZG_STORAGE",
      message: expect.stringMatching(/locked by/) as unknown,
    });
    expect(a.server.state).toBe("running");
  });

  test("a torn tail (crash mid-write) is cut off; the records before it are kept", async () => {
    const dir = tempDir("zg-clone-");
    const s1 = await CloneStore.open(dir, { fsync: "never" });
    const m = (key: string, sequence: bigint) => ({
      key,
      sequence,
      uuid: newUuid(),
      properties: new Map(),
      body: Buffer.from("v"),
    });
    await s1.append(m("/a", 1n), undefined);
    await s1.append(m("/b", 2n), undefined);
    await s1.close();
    const { appendFileSync } = await import("node:fs");
    const seg = readdirSync(dir).find((f) => f.endsWith(".log"))!;
    appendFileSync(`${dir}/${seg}`, Buffer.from([0, 0, 0, 60, 1, 2, 3]));
    const s2 = await CloneStore.open(dir);
    try {
      expect(s2.restored.sequence).toBe(2n);
      expect(s2.restored.entries.map((e) => e.message.key).sort()).toEqual(["/a", "/b"]);
    } finally {
      await s2.close();
    }
  });
});
