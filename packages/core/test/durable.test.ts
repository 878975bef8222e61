import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  bufferSource,
  frameRecord,
  RECORD_HEADER,
  recordPayload,
  releaseLock,
  scanRecords,
  takeLock,
  type RecordFormat,
} from "../src/index.js";

/** A toy format: payload = [0x7a][utf-8 text]. */
const TOY: RecordFormat<string> = {
  minPayload: 1,
  plausible: (head) => head[0] === 0x7a,
  inspect: async (read, start, length) => (await read(start + 1, length - 1)).toString("utf8"),
};
const rec = (text: string): Buffer =>
  frameRecord(Buffer.concat([Buffer.from([0x7a]), Buffer.from(text)]));

async function scan(data: Buffer) {
  const got: [string, number, number][] = [];
  const result = await scanRecords(
    bufferSource(data),
    TOY,
    (r, at, size) => got.push([r, at, size]),
    1 << 20,
  );
  return { got, ...result };
}

describe("checksummed records (durable/records.ts)", () => {
  test("frame and payload round-trip; a flipped bit or a wrong length is no record", () => {
    const r = rec("hello");
    expect(r.readUInt32BE(0)).toBe(6);
    expect(recordPayload(r)?.subarray(1).toString()).toBe("hello");
    const bad = Buffer.from(r);
    bad[RECORD_HEADER + 2]! ^= 1;
    expect(recordPayload(bad)).toBeUndefined();
    expect(recordPayload(r.subarray(0, r.length - 1))).toBeUndefined();
  });

  test("scan reads every record, skips mid-file damage by resync, and stops at a torn tail", async () => {
    const a = rec("a");
    const b = rec("bb");
    const c = rec("ccc");
    const damaged = Buffer.from(b);
    damaged[RECORD_HEADER + 1]! ^= 0xff;
    const data = Buffer.concat([a, damaged, c, rec("torn").subarray(0, 7)]);
    const { got, validEnd, damaged: ranges } = await scan(data);
    expect(got.map(([t]) => t)).toEqual(["a", "ccc"]);
    expect(ranges).toEqual([{ from: a.length, to: a.length + b.length }]);
    expect(validEnd).toBe(a.length + b.length + c.length);
  });

  test("an empty log is valid and empty", async () => {
    expect(await scan(Buffer.alloc(0))).toEqual({ got: [], validEnd: 0, damaged: [] });
  });
});

describe("lock file (durable/lock.ts)", () => {
  const dir = mkdtempSync(join(tmpdir(), "zg-lock-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("taken once; a second take in this process fails naming the owner; released, taken again", async () => {
    const path = await takeLock(dir, { file: "x.lock", owner: "Thing" });
    await expect(takeLock(dir, { file: "x.lock", owner: "Thing" })).rejects.toMatchObject({
      code: "ZG_STORAGE",
      message: expect.stringMatching(
        /Thing data directory .* another Thing is using it/,
      ) as unknown,
    });
    await releaseLock(path);
    const again = await takeLock(dir, { file: "x.lock", owner: "Thing" });
    await releaseLock(again);
  });
});
