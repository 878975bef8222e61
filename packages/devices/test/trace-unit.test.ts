import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { isZgError } from "@zg/core";
import {
  CaptureSink,
  formatDump,
  parseJsonLine,
  toJsonLine,
  TraceProxy,
  type TraceRecord,
} from "../src/index.js";

const record: TraceRecord = {
  seq: 7,
  t: 12.3456,
  wall: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  dir: "f2b",
  peer: Buffer.from([0x00, 0x80, 0x00, 0x00, 0x29]),
  frames: [Buffer.alloc(0), Buffer.from("MDPC01"), Buffer.from([0x02]), Buffer.alloc(100, 0x41)],
};

describe("capture records", () => {
  it("JSONL round-trips every byte, with sizes for people", () => {
    const line = toJsonLine(record);
    expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(line)).toMatchObject({
      seq: 7,
      t: 12.346,
      wall: "2026-01-02T03:04:05.678Z",
      dir: "f2b",
      peer: "0080000029",
      sizes: [0, 6, 1, 100],
    });
    const back = parseJsonLine(line);
    expect(back.frames).toEqual(record.frames);
    expect(back.peer).toEqual(record.peer);
    expect(back.wall).toBe(record.wall);
  });

  it("refuses lines that are not capture records with ZG_PROTOCOL", () => {
    for (const bad of [
      "",
      "{",
      "null",
      "[]",
      '{"seq":1,"t":0,"wall":"x","dir":"up","frames":[]}',
      '{"seq":1,"t":0,"wall":"x","dir":"f2b","frames":["zz"]}',
      '{"seq":1,"t":0,"wall":"x","dir":"f2b","frames":["abc"]}',
      '{"seq":1,"t":0,"wall":"x","dir":"f2b","frames":[], "peer": 5}',
    ]) {
      let error: unknown;
      try {
        parseJsonLine(bad);
      } catch (e) {
        error = e;
      }
      expect(isZgError(error, "ZG_PROTOCOL"), bad).toBe(true);
    }
  });

  it("dumps text frames as text, binary as hex, and cuts long frames", () => {
    expect(formatDump(record, 16)).toBe(
      [
        "#7 +12.346 ms frontend → backend peer 0080000029 (4 frames)",
        "  [000] ",
        "  [006] MDPC01",
        "  [001] 02",
        "  [100] AAAAAAAAAAAAAAAA … (84 more bytes)",
        "",
      ].join("\n"),
    );
    expect(formatDump({ ...record, dir: "b2f", peer: Buffer.from("w1"), frames: [] })).toBe(
      "#7 +12.346 ms backend → frontend peer w1 (0 frames)\n",
    );
  });
});

describe("CaptureSink", () => {
  it("a stream that never drains: records beyond the buffer are dropped and counted, push never blocks", async () => {
    const stuck = new Writable({ highWaterMark: 1, write: () => {} }); // never calls back
    const sink = new CaptureSink(stuck, toJsonLine, 5);
    let accepted = 0;
    for (let i = 0; i < 1000; i++) if (sink.push({ ...record, seq: i })) accepted++;
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 10; i++) if (sink.push({ ...record, seq: 1000 + i })) accepted++;
    const s = sink.stats();
    expect(s.written + s.queued + s.dropped).toBe(1010);
    expect(accepted).toBe(s.written + s.queued);
    expect(s.dropped).toBeGreaterThanOrEqual(1010 - 10);
    await sink.flush(50); // bounded even though the stream never drains
    stuck.destroy();
  });

  it("a stream that fails: the sink stops writing and counts, never throws", async () => {
    const broken = new Writable({ write: (_c, _e, cb) => cb(new Error("disk full")) });
    const sink = new CaptureSink(broken, toJsonLine, 100);
    sink.push(record);
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.push(record)).toBe(false);
    expect(sink.stats().errors).toBeGreaterThanOrEqual(1);
    expect(sink.stats().dropped).toBeGreaterThanOrEqual(1);
  });
});

describe("TraceProxy options", () => {
  it("validates in the constructor", () => {
    const ok = {
      mode: "pull-push",
      frontend: "tcp://127.0.0.1:*",
      backend: "tcp://127.0.0.1:1",
    } as const;
    expect(() => new TraceProxy(ok)).not.toThrow();
    expect(() => new TraceProxy({ ...ok, mode: "pair" as "pull-push" })).toThrow(/mode must be/);
    expect(() => new TraceProxy({ ...ok, frontend: [] })).toThrow(/at least one/);
    expect(() => new TraceProxy({ ...ok, backend: "@nowhere" })).toThrow(/not a ZeroMQ endpoint/);
    expect(
      () => new TraceProxy({ ...ok, mode: "router-dealer", backend: "@tcp://127.0.0.1:*" }),
    ).toThrow(/connect endpoints only/);
    expect(() => new TraceProxy({ ...ok, captureBuffer: 0 })).toThrow(/captureBuffer/);
  });
});
