import { describe, expect, test } from "vitest";
import { isZgError } from "@zg/core";
import {
  decodePipeline,
  encodePipeline,
  PIPELINE_HEADER,
  decodeFile,
  encodeFile,
  FILE_HEADER,
  type FileMessage,
  type PipelineMessage,
} from "../src/index.js";

const inst = Buffer.from("0102030405060708", "hex");
const samples: PipelineMessage[] = [
  { command: "CREDIT", instance: inst, limit: 131_072, window: 65_536 },
  {
    command: "TASK",
    instance: inst,
    seq: 7,
    clientId: "c1",
    batch: 3,
    tasks: [1999, 2000],
    payloads: [Buffer.from("work"), Buffer.from("more")],
  },
  { command: "HEARTBEAT", instance: inst },
  { command: "RESULT", clientId: "c1", batch: 3, tasks: [5], payloads: [Buffer.from("r")] },
  { command: "START", clientId: "c1", batch: 3, size: 2000 },
  { command: "END", clientId: "c1", batch: 3, size: 2000 },
  { command: "FORGET", clientId: "c1", batch: 3 },
  { command: "PING", clientId: "c1" },
  { command: "DELIVER", batch: 3, tasks: [5, 6], payloads: [Buffer.from("r"), Buffer.alloc(0)] },
  { command: "MISSING", batch: 3, tasks: [0, 17, 1999] },
  { command: "DONE", batch: 3, size: 2000 },
  { command: "UNKNOWN", batch: 3 },
  { command: "ALIVE", instance: inst },
  { command: "REFUSED", batch: 3, reason: "maxBatches" },
];

describe("ZGHP01 codec", () => {
  test.each(samples)("$command round-trips", (m) => {
    const frames = encodePipeline(m);
    expect(frames[0]!.toString()).toBe(PIPELINE_HEADER);
    expect(decodePipeline(frames)).toEqual(m);
  });

  test("golden frames of a TASK", () => {
    const frames = encodePipeline(samples[1]!);
    expect(frames.map((f) => f.toString("hex"))).toEqual([
      Buffer.from("ZGHP01").toString("hex"),
      "02",
      "0102030405060708",
      "0000000000000007",
      Buffer.from("c1").toString("hex"),
      "0000000000000003",
      "000007cf000007d0",
      Buffer.from("work").toString("hex"),
      Buffer.from("more").toString("hex"),
    ]);
  });

  const bad: [string, Buffer[]][] = [
    ["empty", []],
    ["wrong header", [Buffer.from("ZGHP02"), Buffer.from([0x01])]],
    ["unknown command", [Buffer.from("ZGHP01"), Buffer.from([0x7f])]],
    ["short u64", [Buffer.from("ZGHP01"), Buffer.from([0x33]), Buffer.alloc(4)]],
    ["trailing frame", [...encodePipeline({ command: "UNKNOWN", batch: 1 }), Buffer.alloc(1)]],
    ["empty client id", [Buffer.from("ZGHP01"), Buffer.from([0x23]), Buffer.alloc(0)]],
    [
      "ragged missing list",
      [Buffer.from("ZGHP01"), Buffer.from([0x31]), Buffer.alloc(8), Buffer.alloc(3)],
    ],
    ["missing frames", [Buffer.from("ZGHP01"), Buffer.from([0x02]), inst]],
    [
      "task count and payload frames disagree",
      [
        Buffer.from("ZGHP01"),
        Buffer.from([0x30]),
        Buffer.alloc(8),
        Buffer.alloc(8),
        Buffer.alloc(1),
      ],
    ],
    [
      "more than 256 tasks in one message",
      [
        Buffer.from("ZGHP01"),
        Buffer.from([0x30]),
        Buffer.alloc(8),
        Buffer.alloc(4 * 257),
        ...Array.from({ length: 257 }, () => Buffer.alloc(0)),
      ],
    ],
  ];
  test.each(bad)("%s is a protocol error, never a crash", (_name, frames) => {
    let caught: unknown;
    try {
      decodePipeline(frames);
    } catch (error) {
      caught = error;
    }
    expect(isZgError(caught, "ZG_PROTOCOL")).toBe(true);
  });
});

describe("ZGFT01 codec", () => {
  const files: FileMessage[] = [
    { command: "OPEN", req: 1, path: "a/b.bin" },
    {
      command: "FETCH",
      req: 2,
      path: "a/b.bin",
      offset: 250_000,
      length: 250_000,
      size: 1_000_000,
      mtime: 1_700_000_000_123,
    },
    {
      command: "META",
      req: 1,
      size: 1_000_000,
      mtime: 1_700_000_000_123,
      sha256: Buffer.alloc(32, 9),
    },
    { command: "CHUNK", req: 2, offset: 250_000, data: Buffer.from("bytes") },
    { command: "ERROR", req: 3, status: "403", reason: "path escapes the root (..)" },
  ];
  test.each(files)("$command round-trips behind the ZGFT01 header", (m) => {
    const frames = encodeFile(m);
    expect(frames[0]!.toString()).toBe(FILE_HEADER);
    expect(decodeFile(frames)).toEqual(m);
  });
  test.each([
    [
      "wrong header",
      [Buffer.from("ZGFT02"), Buffer.from([0x01]), Buffer.alloc(4), Buffer.from("x")],
    ],
    ["short sha256", [...encodeFile(files[2]!).slice(0, 5), Buffer.alloc(31)]],
    [
      "unknown status",
      [
        Buffer.from("ZGFT01"),
        Buffer.from([0x8f]),
        Buffer.alloc(4),
        Buffer.from("418"),
        Buffer.from("teapot"),
      ],
    ],
    ["empty path", [Buffer.from("ZGFT01"), Buffer.from([0x01]), Buffer.alloc(4), Buffer.alloc(0)]],
  ])("%s is a protocol error", (_n, frames) => {
    expect(() => decodeFile(frames)).toThrow(expect.objectContaining({ code: "ZG_PROTOCOL" }));
  });
});
