// Socket-free, disk-free tests of the Titanic log reader and the 9/TSP codec.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  bufferSource,
  decodeRecord,
  encodeRecord,
  RecordKind,
  scanLog,
  type ScannedRecord,
} from "../src/titanic/log.js";
import {
  decodeTspRequest,
  decodeTspStatus,
  decodeTspUuid,
  encodeTspReply,
} from "../src/titanic/protocol.js";

const hex = (n: number): string => n.toString(16).padStart(32, "0");

async function scan(log: Buffer, limit = 1 << 20) {
  const seen: ScannedRecord[] = [];
  const r = await scanLog(bufferSource(log), (x) => seen.push(x), limit);
  return { ...r, seen };
}

describe("Titanic log records", () => {
  test("encode/decode round trip; a changed byte fails the CRC", () => {
    const rec = encodeRecord(RecordKind.Request, hex(7), [Buffer.from("svc"), Buffer.from("")]);
    expect(decodeRecord(rec)).toEqual({
      kind: RecordKind.Request,
      key: hex(7),
      frames: [Buffer.from("svc"), Buffer.from("")],
    });
    const bad = Buffer.from(rec);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    expect(decodeRecord(bad)).toBeUndefined();
  });

  test("a torn tail is reported as validEnd, with no damaged range", async () => {
    const a = encodeRecord(RecordKind.Request, hex(1), [Buffer.from("s"), Buffer.from("x")]);
    const b = encodeRecord(RecordKind.Request, hex(2), [Buffer.from("s"), Buffer.from("y")]);
    const r = await scan(Buffer.concat([a, b.subarray(0, b.length - 3)]));
    expect(r.seen.map((x) => x.key)).toEqual([hex(1)]);
    expect(r.validEnd).toBe(a.length);
    expect(r.damaged).toEqual([]);
  });

  test("damage in the first record: it is skipped, the rest is kept and the range reported", async () => {
    const recs = Array.from({ length: 5 }, (_, i) =>
      encodeRecord(RecordKind.Request, hex(i), [Buffer.from("svc"), Buffer.from(`body ${i}`)]),
    );
    const log = Buffer.concat(recs);
    log[3] = (log[3] as number) ^ 0x40; // the length field of record 0
    const r = await scan(log);
    expect(r.seen.map((x) => x.key)).toEqual([1, 2, 3, 4].map(hex));
    expect(r.damaged).toEqual([{ from: 0, to: (recs[0] as Buffer).length }]);
    expect(r.validEnd).toBe(log.length);
    expect(r.seen[0]?.first).toBe("svc");
  });

  // Property: for any sequence of records and any set of corrupted bytes, every record the
  // corruption did not touch is read back, nothing is invented, and the damage is reported.
  test("property (fast-check, fixed seed): every untouched record survives any corruption", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            kind: fc.constantFrom(RecordKind.Request, RecordKind.Reply, RecordKind.Close),
            frames: fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 4 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.array(
          fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 255 })),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        async (specs, flips) => {
          const recs = specs.map((s, i) =>
            encodeRecord(
              s.kind,
              hex(i),
              s.frames.map((f) => Buffer.from(f)),
            ),
          );
          const log = Buffer.concat(recs);
          const hit = new Set<number>();
          for (const [where, mask] of flips) {
            const at = Math.min(log.length - 1, Math.floor(where * log.length));
            log[at] = (log[at] as number) ^ mask;
            hit.add(at);
          }
          const r = await scan(log);
          const found = new Map(r.seen.map((x) => [x.at, x.key]));
          let at = 0;
          recs.forEach((rec, i) => {
            const touched = [...hit].some((h) => h >= at && h < at + rec.length);
            if (!touched) expect(found.get(at), `record ${i} at ${at}`).toBe(hex(i));
            at += rec.length;
          });
          // Nothing invented: every record read is one that was written, at its offset.
          let off = 0;
          const starts = new Map<number, string>();
          recs.forEach((rec, i) => {
            starts.set(off, hex(i));
            off += rec.length;
          });
          for (const x of r.seen) expect(starts.get(x.at)).toBe(x.key);
          const lost = recs.length - r.seen.length;
          if (lost > 0) expect(r.damaged.length > 0 || r.validEnd < log.length).toBe(true);
        },
      ),
      { seed: 20261201, numRuns: 300 },
    );
  });
});

describe("9/TSP codec", () => {
  test("request, uuid, reply and status", () => {
    expect(decodeTspRequest([Buffer.from("echo"), Buffer.from("ab"), Buffer.from("c")])).toEqual({
      ok: true,
      service: "echo",
      body: [Buffer.from("ab"), Buffer.from("c")],
      bodyBytes: 3,
    });
    expect(decodeTspRequest([Buffer.from("echo")]).ok).toBe(false);
    expect(decodeTspRequest([Buffer.alloc(0), Buffer.from("x")]).ok).toBe(false);
    expect(decodeTspUuid([Buffer.from("A".repeat(32))])).toBe("A".repeat(32));
    expect(decodeTspUuid([Buffer.from("nope")])).toBeUndefined();
    expect(decodeTspUuid([])).toBeUndefined();
    expect(encodeTspReply("400", "too big").map(String)).toEqual(["400", "too big"]);
    expect(decodeTspStatus([Buffer.from("300")])).toBe("300");
    expect(decodeTspStatus([Buffer.from("200 OK")])).toBe("200");
    expect(decodeTspStatus([Buffer.from("999")])).toBe("500");
    expect(decodeTspStatus([])).toBe("500");
  });
});
