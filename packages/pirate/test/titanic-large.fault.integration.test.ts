// Titanic's log at scale and under kill -9 during compaction, with real child processes.
import { closeSync, existsSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import { describe, expect, test } from "vitest";
import { closeAfter, spawnChild, tcpEndpoint, tempDir, waitFor } from "@zg/testing";
import { MajordomoBroker, MajordomoWorker, TitanicClient } from "../src/index.js";
import { encodeRecord, RecordKind } from "../src/titanic/log.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/titanic.ts", import.meta.url));
const CHURN = fileURLToPath(new URL("./fixtures/titanic-store-churn.ts", import.meta.url));
const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };
const uuid = (): string => randomUUID().replace(/-/g, "");

/**
 * Writes a sparse log of `records` × `body` bytes: each a REQUEST whose body is a hole
 * (zeros, no disk used) with its CRC computed over those zeros, then its CLOSE. Then
 * `live` small requests. Returns the live UUIDs → bodies.
 */
function sparseLog(path: string, records: number, body: number, live: number): Map<string, string> {
  const fd = openSync(path, "w");
  const zeros = Buffer.alloc(1 << 20);
  let pos = 0;
  try {
    for (let i = 0; i < records; i++) {
      const id = uuid();
      const service = Buffer.from("huge");
      const prefix = Buffer.alloc(8 + 21 + 4 + service.length + 4);
      const size = prefix.length - 8 + body;
      prefix.writeUInt32BE(size, 0);
      prefix[8] = RecordKind.Request;
      Buffer.from(id, "hex").copy(prefix, 9);
      prefix.writeUInt32BE(2, 25);
      prefix.writeUInt32BE(service.length, 29);
      service.copy(prefix, 33);
      prefix.writeUInt32BE(body, 33 + service.length);
      let crc = crc32(prefix.subarray(8));
      for (let left = body; left > 0; left -= zeros.length)
        crc = crc32(left >= zeros.length ? zeros : zeros.subarray(0, left), crc);
      prefix.writeUInt32BE(crc, 4);
      writeSync(fd, prefix, 0, prefix.length, pos);
      pos += prefix.length + body; // the body stays a hole
      const close = encodeRecord(RecordKind.Close, id, []);
      writeSync(fd, close, 0, close.length, pos);
      pos += close.length;
    }
    const out = new Map<string, string>();
    for (let i = 0; i < live; i++) {
      const id = uuid();
      const rec = encodeRecord(RecordKind.Request, id, [
        Buffer.from("echo"),
        Buffer.from(`live ${i}`),
      ]);
      writeSync(fd, rec, 0, rec.length, pos);
      pos += rec.length;
      out.set(id, `live ${i}`);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

describe("Titanic log at scale", () => {
  test("a 3 GiB log opens (streamed, bounded memory), its live requests are served, and it compacts in the background", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
    const ep = (await broker.start()).endpoints[0] as string;
    // Baseline: the same child on an empty directory.
    const t0 = performance.now();
    const empty = await spawnChild(FIXTURE, { args: [ep, tempDir(), "always"], bundle: true });
    const emptyMs = performance.now() - t0;
    const emptyRss = await empty.call<number>("rss");
    await empty.kill("SIGKILL");

    const dir = tempDir();
    const log = join(dir, "titanic.log");
    const live = sparseLog(log, 12, 256 * 1024 * 1024, 5);
    const size = statSync(log).size;
    expect(size, "precondition: the log is over 3 GiB").toBeGreaterThan(3 * 1024 ** 3);
    const t1 = performance.now();
    const child = await spawnChild(FIXTURE, {
      args: [ep, dir, "always"],
      bundle: true,
      readyTimeout: 120_000,
    });
    const openMs = performance.now() - t1;
    const rss = await child.call<number>("rss");
    await closeAfter(
      new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r, ...HB }),
    ).start();
    const c = closeAfter(new TitanicClient({ broker: ep, timeout: 3000 }));
    await c.start();
    await waitFor(
      async () => {
        for (const [id, body] of live) {
          const r = await c.reply(id);
          expect(r.status, `live request ${id} after open`).not.toBe("400");
          if (r.status !== "200") return false;
          expect(r.body.map(String)).toEqual([body]);
        }
        return true;
      },
      { timeout: 30_000, interval: 100, what: "the live requests' replies" },
    );
    await waitFor(
      async () =>
        (await child.call<{ store: { compactions: number } }>("stats")).store.compactions > 0,
      { timeout: 60_000, interval: 100, what: "a background compaction" },
    );
    const after = statSync(log).size;
    console.log(
      `titanic 3 GiB log: ${(size / 1024 ** 3).toFixed(2)} GiB opened in ${(openMs / 1000).toFixed(2)} s (empty dir: ${(emptyMs / 1000).toFixed(2)} s), RSS ${(rss / 2 ** 20).toFixed(0)} MiB after open (empty dir: ${(emptyRss / 2 ** 20).toFixed(0)} MiB); compacted to ${after} bytes`,
    );
    expect(rss, "RSS after opening a 3 GiB log stays bounded").toBeLessThan(
      emptyRss + 256 * 2 ** 20,
    );
    expect(after).toBeLessThan(64 * 1024);
  }, 180_000);
});

interface Ack {
  op: "request" | "reply" | "close";
  id: string;
}

const KILLS = 15;
const MID = 3;
describe("Titanic store under kill -9 during background compaction", () => {
  test(`kill -9 at least ${KILLS} times (${MID}+ inside a compaction) under churn: every acknowledged request, reply and close holds`, async () => {
    const dir = tempDir();
    const child = await spawnChild(CHURN, { args: [dir], bundle: true });
    await child.call("go");
    // Per UUID: which writes were acknowledged and which were started.
    const state = new Map<string, { acked: Set<string>; started: Set<string> }>();
    let seen = 0;
    const absorb = (): void => {
      for (; seen < child.events.length; seen++) {
        const e = child.events[seen];
        if (e?.name !== "ack" && e?.name !== "intent") continue;
        const { op, id } = e.data as Ack;
        let s = state.get(id);
        if (s === undefined) state.set(id, (s = { acked: new Set(), started: new Set() }));
        (e.name === "ack" ? s.acked : s.started).add(op);
      }
    };
    /** What the store may hold for an id, given what was acknowledged and started. */
    const allowed = (s: { acked: Set<string>; started: Set<string> }): string[] => {
      if (s.acked.has("close")) return ["absent"];
      if (s.started.has("close"))
        return s.acked.has("reply") ? ["answered", "absent"] : ["pending", "answered", "absent"];
      if (s.acked.has("reply")) return ["answered"];
      if (s.started.has("reply")) return ["pending", "answered"];
      return ["pending"];
    };
    let compactions = 0;
    let acks = 0;
    let midCompaction = 0;
    let k = 0;
    // Until KILLS kills happened and MID of them landed inside a compaction (its new file still there).
    for (; k < KILLS || midCompaction < MID; k++) {
      if (k >= 6 * KILLS)
        throw new Error(`precondition: only ${midCompaction} of ${k} kills landed mid-compaction`);
      // Progress-driven: kill after at least one more compaction, plus a random number of acks.
      const before = (await child.call<{ compactions: number }>("stats")).compactions;
      await waitFor(
        async () => (await child.call<{ compactions: number }>("stats")).compactions > before,
        { timeout: 30_000, interval: 5, what: "a compaction under churn" },
      );
      compactions += (await child.call<{ compactions: number }>("stats")).compactions;
      if (k % 2 === 0) {
        // Kill inside a compaction: as soon as its new file appears, after 0–3 ms.
        const tmp = join(dir, "titanic.log.compact");
        const deadline = performance.now() + 30_000;
        while (!existsSync(tmp)) {
          if (performance.now() > deadline)
            throw new Error("precondition: no compaction started in 30 s");
          await new Promise((r) => setImmediate(r));
        }
        await new Promise((r) => setTimeout(r, Math.random() * 3));
      } else {
        const extra = Math.floor(Math.random() * 60);
        const base = child.events.length;
        await waitFor(() => child.events.length >= base + extra, {
          timeout: 30_000,
          interval: 1,
          what: `${extra} more acknowledgements`,
        });
      }
      await child.kill("SIGKILL");
      if (existsSync(join(dir, "titanic.log.compact"))) midCompaction++;
      absorb();
      acks += seen;
      await child.start();
      const ids = [...state.keys()];
      const held = await child.call<Record<string, string>>("info", ids);
      for (const id of ids) {
        const s = state.get(id) as { acked: Set<string>; started: Set<string> };
        if (!s.acked.has("request")) continue; // never acknowledged: nothing promised
        expect(
          allowed(s),
          `${id}: acked ${[...s.acked].join()}, started ${[...s.started].join()}`,
        ).toContain(held[id]);
      }
      // Forget what was closed: the check above proved it stays closed.
      for (const [id, s] of state) if (s.acked.has("close")) state.delete(id);
      child.events.splice(0, child.events.length);
      seen = 0;
      await child.call("go");
    }
    console.log(
      `titanic compaction kill -9: ${k} kills under churn, ${compactions} compactions, ${midCompaction} kills landed mid-compaction, ${acks} acknowledged writes checked, 0 lost`,
    );
    expect(compactions).toBeGreaterThanOrEqual(KILLS);
  }, 180_000);
});
