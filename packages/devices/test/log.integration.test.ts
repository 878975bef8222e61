import { readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, tcpEndpoint, tempDir, waitFor } from "@zg/testing";
import {
  acceptRecord,
  listLogFiles,
  LogBroker,
  LogPublisher,
  LogTail,
  readLogFile,
  type StoredLogRecord,
  type TailItem,
} from "../src/index.js";

async function collect(tail: LogTail, until: (items: TailItem[]) => boolean): Promise<TailItem[]> {
  const items: TailItem[] = [];
  for await (const item of tail.records()) {
    items.push(item);
    if (until(items)) break;
  }
  return items;
}

describe("acceptRecord (pure)", () => {
  it("stores in order, acknowledges duplicates, waits for resends, counts upstream drops", () => {
    expect(acceptRecord(0, 1, 1)).toBe("store");
    expect(acceptRecord(5, 6, 3)).toBe("store");
    expect(acceptRecord(5, 5, 3)).toBe("duplicate");
    expect(acceptRecord(5, 2, 1)).toBe("duplicate");
    expect(acceptRecord(5, 8, 6)).toBe("out-of-order"); // 6 and 7 are still held by the publisher
    expect(acceptRecord(5, 9, 9)).toEqual({ gap: 3 }); // 6, 7, 8 were dropped by the publisher
    expect(acceptRecord(0, 4, 4)).toEqual({ gap: 3 });
  });
});

describe("LogBroker + LogPublisher + LogTail", () => {
  it("stores every record once, filters by level and app at the broker, and replays last N then live with no gap or duplicate at the seam", async () => {
    const dir = tempDir();
    const broker = closeAfter(new LogBroker({ dir, endpoints: tcpEndpoint() }));
    const {
      endpoints: [endpoint],
    } = await broker.start();
    const ep = endpoint ?? "";
    const billing = closeAfter(new LogPublisher({ broker: ep, app: "billing" }));
    const web = closeAfter(new LogPublisher({ broker: ep, app: "web" }));
    await billing.start();
    await web.start();
    const levels = ["debug", "info", "warn", "error"] as const;
    for (let i = 0; i < 200; i++) {
      billing.log(levels[i % 4] ?? "info", `b${i}`, { i });
      web.log(levels[(i + 1) % 4] ?? "info", `w${i}`);
    }
    await waitFor(() => broker.stats().stored === 400, { what: "400 records stored" });
    await waitFor(() => billing.stats().buffered === 0 && web.stats().buffered === 0, {
      what: "all acknowledged",
    });

    // A warn+ subscriber for billing: replay the last 20 matching, then live.
    const tail = closeAfter(
      new LogTail({ broker: ep, request: { level: "warn", app: "billing", last: 20 } }),
    );
    await tail.start();
    const first = collect(tail, (items) => items.length >= 40);
    await waitFor(() => tail.stats().replayed === 20, { what: "replay delivered" });
    for (let i = 200; i < 240; i++) {
      billing.log(levels[i % 4] ?? "info", `b${i}`);
      web.log("error", `w${i}`);
    }
    const items = await first;
    const recs = items.map((x) => x.record);
    expect(
      recs.every((r) => r.app === "billing" && (r.level === "warn" || r.level === "error")),
    ).toBe(true);
    expect(items.slice(0, 20).every((x) => x.replayed)).toBe(true);
    expect(items.slice(20).every((x) => !x.replayed)).toBe(true);
    // The seam: consecutive billing warn+ records, no gap, no duplicate (checked against the file).
    const all = (await Promise.all((await listLogFiles(dir)).map((f) => readLogFile(f.path))))
      .flatMap((f) => f.records)
      .filter((r) => r.app === "billing" && (r.level === "warn" || r.level === "error"));
    const startAt = all.findIndex((r) => r.bseq === recs[0]?.bseq);
    expect(startAt).toBe(100 - 20); // 100 billing warn+ records before the tail; the last 20 replayed
    expect(recs.map((r) => r.bseq)).toEqual(all.slice(startAt, startAt + 40).map((r) => r.bseq));
    expect(items.some((x) => x.gap)).toBe(false);
    expect(tail.stats()).toMatchObject({ gaps: 0, duplicates: 0 });
    // Stored exactly once each, in publisher order.
    const stored = (
      await Promise.all((await listLogFiles(dir)).map((f) => readLogFile(f.path)))
    ).flatMap((f) => f.records);
    for (const p of [billing, web]) {
      const seqs = stored.filter((r: StoredLogRecord) => r.src === p.src).map((r) => r.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    }
    expect(broker.stats()).toMatchObject({ duplicates: 0, protocolErrors: 0, lostUpstream: 0 });
  }, 30_000);

  it("replays since T exactly (records with time ≥ T, in order) and ends without follow", async () => {
    const dir = tempDir();
    const broker = closeAfter(new LogBroker({ dir, endpoints: tcpEndpoint() }));
    const {
      endpoints: [ep],
    } = await broker.start();
    const p = closeAfter(new LogPublisher({ broker: ep ?? "", app: "a" }));
    await p.start();
    for (let i = 0; i < 50; i++) p.log("info", `early ${i}`);
    await waitFor(() => broker.stats().stored === 50, { what: "early stored" });
    await new Promise((r) => setTimeout(r, 20));
    const T = Date.now();
    for (let i = 0; i < 30; i++) p.log("info", `late ${i}`);
    await waitFor(() => broker.stats().stored === 80, { what: "late stored" });
    const tail = closeAfter(
      new LogTail({ broker: ep ?? "", request: { since: T, follow: false } }),
    );
    await tail.start();
    const items = await collect(tail, () => false);
    expect(items.map((x) => x.record.msg)).toEqual(
      Array.from({ length: 30 }, (_, i) => `late ${i}`),
    );
  }, 30_000);

  it("rotates by size, keeps maxFiles, and a publisher with no broker keeps running (drop-oldest, counted)", async () => {
    const dir = tempDir();
    const broker = closeAfter(
      new LogBroker({ dir, endpoints: tcpEndpoint(), maxFileBytes: 4096, maxFiles: 3 }),
    );
    const {
      endpoints: [ep],
    } = await broker.start();
    const p = closeAfter(new LogPublisher({ broker: ep ?? "", app: "burst" }));
    await p.start();
    for (let i = 0; i < 2000; i++) p.log("info", "x".repeat(100), { i });
    await waitFor(() => broker.stats().stored === 2000, { what: "burst stored" });
    const files = (await readdir(dir)).filter((f) => f.endsWith(".jsonl"));
    expect(files.length).toBe(3);
    expect(broker.stats().rotations).toBeGreaterThan(3);
    expect(broker.stats().filesDeleted).toBe(broker.stats().rotations + 1 - 3);

    const gone = new zmq.Router({ linger: 0 });
    await gone.bind(tcpEndpoint());
    const nobody = gone.lastEndpoint ?? "";
    gone.close(); // nothing listens there now
    const lonely = closeAfter(
      new LogPublisher({ broker: nobody, app: "lonely", buffer: 100, closeTimeout: 0 }),
    );
    await lonely.start();
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) lonely.log("info", `m${i}`);
    expect(performance.now() - t0).toBeLessThan(2000); // never blocks
    expect(lonely.stats()).toMatchObject({ logged: 10_000, dropped: 9_900, buffered: 100 });
  }, 30_000);

  it("garbage at the broker's socket is counted and dropped; the broker keeps storing", async () => {
    const dir = tempDir();
    const broker = closeAfter(new LogBroker({ dir, endpoints: tcpEndpoint() }));
    const {
      endpoints: [ep],
    } = await broker.start();
    const raw = new zmq.Dealer({ linger: 0 });
    raw.connect(ep ?? "");
    const bad: (string | Buffer)[][] = [
      ["hello"],
      ["ZGLOG01"],
      ["ZGLOG02", "LOG", "1", "{}"],
      ["ZGLOG01", "LOG", "1", "not json"],
      ["ZGLOG01", "LOG", "1", "{}"],
      [
        "ZGLOG01",
        "LOG",
        "x",
        JSON.stringify({
          src: "0123456789abcdef",
          seq: 1,
          level: "info",
          time: 1,
          mono: 1,
          app: "a",
          host: "h",
          pid: 1,
          msg: "m",
        }),
      ],
      [
        "ZGLOG01",
        "LOG",
        "1",
        JSON.stringify({
          src: "nothex",
          seq: 1,
          level: "info",
          time: 1,
          mono: 1,
          app: "a",
          host: "h",
          pid: 1,
          msg: "m",
        }),
      ],
      [
        "ZGLOG01",
        "LOG",
        "1",
        JSON.stringify({
          src: "0123456789abcdef",
          seq: 1,
          level: "loud",
          time: 1,
          mono: 1,
          app: "a",
          host: "h",
          pid: 1,
          msg: "m",
        }),
      ],
      ["ZGLOG01", "TAIL", "[]"],
      ["ZGLOG01", "TAIL", '{"level":"verbose"}'],
      ["ZGLOG01", "WHAT"],
      [Buffer.alloc(0)],
    ];
    for (const m of bad) await raw.send(m);
    await waitFor(() => broker.stats().protocolErrors === bad.length, {
      what: "every bad message counted",
    });
    const p = closeAfter(new LogPublisher({ broker: ep ?? "", app: "after" }));
    await p.start();
    p.log("info", "still here");
    await waitFor(() => broker.stats().stored === 1, { what: "stored after the garbage" });
    expect(broker.state).toBe("running");
    raw.close();
  }, 30_000);

  it("a duplicate-only pass does not stop the writer: records after a resent duplicate are stored and acknowledged", async () => {
    const broker = closeAfter(new LogBroker({ dir: tempDir(), endpoints: tcpEndpoint() }));
    const {
      endpoints: [ep],
    } = await broker.start();
    const raw = new zmq.Dealer({ linger: 0 });
    raw.connect(ep ?? "");
    const record = (seq: number) =>
      JSON.stringify({
        src: "00000000000000aa",
        seq,
        level: "info",
        time: Date.now(),
        mono: 0,
        app: "r",
        host: "h",
        pid: 1,
        msg: `m${seq}`,
      });
    const acks: number[] = [];
    const reading = (async () => {
      try {
        for await (const [, , seq] of raw) acks.push(Number(String(seq)));
      } catch {
        /* closed */
      }
    })();
    await raw.send(["ZGLOG01", "LOG", "1", record(1)]);
    await waitFor(() => acks.includes(1), { what: "ack 1" });
    await raw.send(["ZGLOG01", "LOG", "1", record(1)]); // a resend: acknowledged, not stored
    await waitFor(() => acks.length === 2, { what: "ack of the duplicate" });
    await raw.send(["ZGLOG01", "LOG", "2", record(2)]);
    await waitFor(() => acks.includes(2), { what: "ack 2 after the duplicate" });
    expect(broker.stats()).toMatchObject({ stored: 2, duplicates: 1 });
    raw.close();
    await reading;
  }, 30_000);
});
