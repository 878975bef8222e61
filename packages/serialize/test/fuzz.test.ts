// Bad input: random and mutated encodings into every codec (fixed seed).
// Each codec gets FUZZ_RUNS cases; the only error allowed out of decode is
// ZG_DECODE, every decode is timed, oversize input must be refused before
// decoding, and Object.prototype must be unchanged at the end.
import { afterAll, beforeAll, describe, expect, vi } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { isZgError, type Codec, type Frame } from "@zg/core";
import {
  bytesCodec,
  decodeNegotiation,
  encodeEnvelopeHeader,
  encodeHello,
  encodeReject,
  encodeWelcome,
  jsonCodec,
  loadProtoRootSync,
  protobufCodec,
  staticProtobufCodec,
  textCodec,
  TypedEnvelope,
  type DecodeError,
} from "../src/index.js";
import { zg } from "../src/generated/examples.js";
import { examplesRoot, packagePath } from "./helpers.js";

const SEED = 0x5e71a1;
const FUZZ_RUNS = 10_000;
/** Runs for option variants of a codec already fuzzed with FUZZ_RUNS (strip mode, a second message type, preserveUnknown). */
const VARIANT_RUNS = 3_000;
/** A decode that takes longer than this counts as a hang (generous: shared 2-core machine, GC pauses). */
const MAX_DECODE_MS = 250;
const MAX_BYTES = 4096;

const prototypeSnapshot = (): unknown[] =>
  [Object.prototype, Array.prototype, Function.prototype].map((proto) =>
    Object.getOwnPropertyNames(proto)
      .sort()
      .map((name) => [name, Object.getOwnPropertyDescriptor(proto, name)]),
  );
let before: unknown[];
beforeAll(() => {
  before = prototypeSnapshot();
});
afterAll(() => {
  expect(prototypeSnapshot()).toEqual(before);
  expect(Object.getPrototypeOf(Object.prototype)).toBeNull();
  expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
});

// ---- arbitraries ---------------------------------------------------------

type Mutation =
  | { kind: "flip"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "varint"; at: number }
  | { kind: "duplicate"; at: number; length: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant("varint" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 64 }),
  }),
);

function mutate(input: Uint8Array, mutations: readonly Mutation[]): Buffer {
  let b = Buffer.from(input);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case "flip":
        if (b.length > 0) b[at % b.length] = m.value;
        break;
      case "truncate":
        b = b.subarray(0, at);
        break;
      case "insert":
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case "varint": // a huge length / value: 2^35-ish
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f]),
          b.subarray(at),
        ]);
        break;
      case "duplicate":
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + m.length), b.subarray(at)]);
        break;
    }
  }
  return b;
}

/** Frames for a one-frame codec: mostly mutated valid encodings, some random bytes, odd frame counts, oversize frames. */
function framesArb(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Frame[]> {
  const mutated = fc
    .tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
    .map(([v, ms]) => mutate(v, ms));
  const random = fc.uint8Array({ maxLength: 512 }).map((u) => Buffer.from(u));
  const oversize = fc
    .tuple(fc.integer({ min: MAX_BYTES + 1, max: MAX_BYTES * 2 }), fc.integer({ min: 0, max: 255 }))
    .map(([n, v]) => Buffer.alloc(n, v));
  return fc.oneof(
    { weight: 12, arbitrary: mutated.map((b) => [b]) },
    { weight: 4, arbitrary: random.map((b) => [b]) },
    { weight: 2, arbitrary: valid.map((v) => [Buffer.from(v)]) },
    { weight: 1, arbitrary: fc.array(fc.oneof(mutated, random), { maxLength: 3 }) },
    { weight: 1, arbitrary: oversize.map((b) => [b]) },
  );
}

const kvArb = fc.record({
  key: fc.string({ maxLength: 40 }),
  sequence: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  uuid: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  properties: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), {
    maxKeys: 3,
  }),
  body: fc.uint8Array({ maxLength: 120 }),
});
const requestArb = fc.record({
  id: fc.nat(),
  text: fc.string({ maxLength: 40 }),
  priority: fc.integer({ min: 0, max: 2 }),
  deadline: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
});
const taskArb = fc.record({
  id: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  name: fc.string({ maxLength: 20 }),
  color: fc.integer({ min: 0, max: 3 }),
  offset: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  note: fc.string({ maxLength: 20 }),
  owner: fc.option(
    fc.record({
      name: fc.string({ maxLength: 10 }),
      since: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    }),
    { nil: null },
  ),
  children: fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 4 }),
});
const hostileJson = fc.constantFrom(
  '{"__proto__":{"polluted":true}}',
  '{"a":{"constructor":{"prototype":{"polluted":true}}}}',
  '[{"prototype":1}]',
  `${"[".repeat(200)}${"]".repeat(200)}`,
  '{"a":1,"a":2,"__proto__":null}',
);
const jsonBytes = fc
  .oneof(fc.json({ maxDepth: 6 }), hostileJson)
  .map((s) => Buffer.from(s, "utf8"));

// ---- codecs under test -----------------------------------------------------

const v2Root = loadProtoRootSync(packagePath("test/fixtures/evolution/v2.proto"));
const kvType = examplesRoot.lookupType("zg.examples.KeyValue");
const kvReflection = protobufCodec(kvType, { maxBytes: MAX_BYTES });
const kvStatic = staticProtobufCodec(zg.examples.KeyValue, { maxBytes: MAX_BYTES });
const requestStatic = staticProtobufCodec(zg.examples.EchoRequest, { maxBytes: MAX_BYTES });
const taskPreserving = protobufCodec(v2Root.lookupType("evo.Task"), {
  maxBytes: MAX_BYTES,
  preserveUnknown: true,
});
const json = jsonCodec({ maxBytes: MAX_BYTES, maxDepth: 32 });
const jsonStrip = jsonCodec({ maxBytes: MAX_BYTES, maxDepth: 32, forbiddenKeys: "strip" });
const envelope = new TypedEnvelope({
  "zg.examples.KeyValue": { 1: kvStatic, 2: kvReflection },
  "echo.Request": { 1: json, 2: requestStatic },
  "echo.Note": { 1: textCodec({ maxBytes: MAX_BYTES }) },
});

const encodeValid = <T>(codec: Codec<T>, arb: fc.Arbitrary<T>): fc.Arbitrary<Uint8Array> =>
  arb.map((v) => codec.encode(v)[0]!);

const cases: [string, Codec<unknown>, fc.Arbitrary<Frame[]>, number][] = [
  [
    "bytes",
    bytesCodec({ maxBytes: MAX_BYTES }),
    framesArb(fc.uint8Array({ maxLength: 256 })),
    FUZZ_RUNS,
  ],
  [
    "text",
    textCodec({ maxBytes: MAX_BYTES }),
    framesArb(fc.string({ maxLength: 64, unit: "grapheme" }).map((s) => Buffer.from(s))),
    FUZZ_RUNS,
  ],
  ["json (reject)", json, framesArb(jsonBytes), FUZZ_RUNS],
  ["json (strip)", jsonStrip, framesArb(jsonBytes), VARIANT_RUNS],
  [
    "protobuf reflection KeyValue",
    kvReflection,
    framesArb(encodeValid(kvReflection as Codec<unknown>, kvArb)),
    FUZZ_RUNS,
  ],
  [
    "protobuf static KeyValue",
    kvStatic,
    framesArb(encodeValid(kvStatic as Codec<unknown>, kvArb)),
    FUZZ_RUNS,
  ],
  [
    "protobuf static EchoRequest",
    requestStatic,
    framesArb(encodeValid(requestStatic as Codec<unknown>, requestArb)),
    VARIANT_RUNS,
  ],
  [
    "protobuf reflection Task (nested, preserveUnknown)",
    taskPreserving,
    framesArb(encodeValid(taskPreserving as Codec<unknown>, taskArb)),
    VARIANT_RUNS,
  ],
];

const envelopeHeader = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        "zg.examples.KeyValue",
        "echo.Request",
        "echo.Note",
        "__proto__",
        "constructor",
        "x",
      ),
      fc.integer({ min: 1, max: 3 }),
    )
    .map(([t, v]) => encodeEnvelopeHeader(t, v)),
  fc
    .tuple(
      fc.constantFrom("ZGE1 ", "ZGE1 echo.Request ", "ZGE1 a 1", "ZGE2 a 1"),
      fc.string({ maxLength: 140 }),
    )
    .map(([a, b]) => Buffer.from(a + b, "latin1")),
  fc.uint8Array({ maxLength: 32 }).map((u) => Buffer.from(u)),
);
const validEnvelope: fc.Arbitrary<Frame[]> = fc.oneof(
  kvArb.map((value) => envelope.encode({ type: "zg.examples.KeyValue", version: 1, value })),
  kvArb.map((value) => envelope.encode({ type: "zg.examples.KeyValue", version: 2, value })),
  requestArb.map((value) => envelope.encode({ type: "echo.Request", version: 2, value })),
  fc
    .jsonValue({ maxDepth: 3 })
    .map((value) => envelope.encode({ type: "echo.Request", version: 1, value })),
  fc
    .string({ maxLength: 32 })
    .map((value) => envelope.encode({ type: "echo.Note", version: 1, value })),
);
const envelopeFrames: fc.Arbitrary<Frame[]> = fc.oneof(
  { weight: 2, arbitrary: validEnvelope },
  {
    weight: 5,
    arbitrary: fc
      .tuple(validEnvelope, fc.nat(), fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
      .map(([frames, which, ms]) =>
        frames.map((f, i) => (i === which % frames.length ? mutate(f, ms) : f)),
      ),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        envelopeHeader,
        fc.array(
          fc.oneof(
            encodeValid(kvStatic as Codec<unknown>, kvArb),
            jsonBytes,
            fc.uint8Array({ maxLength: 128 }),
          ),
          { maxLength: 2 },
        ),
        fc.array(mutationArb, { maxLength: 2 }),
      )
      .map(([h, payload, ms]) => [
        ms.length > 0 ? mutate(h, ms) : h,
        ...payload.map((p) => Buffer.from(p)),
      ]),
  },
);
cases.push(["typed envelope", envelope, envelopeFrames, FUZZ_RUNS]);

function timeDecode(codec: Codec<unknown>, input: Frame[]): number {
  const started = performance.now();
  try {
    codec.decode(input);
  } catch {
    /* already classified */
  }
  return performance.now() - started;
}

// ---- properties --------------------------------------------------------------

describe("bad input never escapes as anything but ZG_DECODE", () => {
  const outcomes = new Map<string, { ok: number; failed: number; slowest: number }>();
  afterAll(() => {
    // The generators must exercise both paths of every codec, or the run proves little.
    for (const [name, o] of outcomes) {
      const runs = o.ok + o.failed;
      expect(runs, `${name}: cases run`).toBe(cases.find(([n]) => n === name)?.[3]);
      expect(o.ok, `${name}: successful decodes`).toBeGreaterThan(runs / 50);
      expect(o.failed, `${name}: rejected decodes`).toBeGreaterThan(runs / 20);
    }
    expect(outcomes.size).toBe(cases.length);
    console.log(
      [...outcomes]
        .map(
          ([name, o]) =>
            `${name}: ok ${o.ok}, rejected ${o.failed}, slowest ${o.slowest.toFixed(1)} ms`,
        )
        .join("\n"),
    );
  });
  for (const [name, codec, frames, runs] of cases) {
    const o = { ok: 0, failed: 0, slowest: 0 };
    outcomes.set(name, o);
    // Plain checks, not expect(): the property runs tens of thousands of times.
    test.prop([frames], { seed: SEED, numRuns: runs })(`${name}: ${runs} cases`, (input) => {
      const oversize =
        name !== "typed envelope" && input.length === 1 && input[0]!.length > MAX_BYTES;
      const started = performance.now();
      try {
        codec.decode(input);
        o.ok++;
        if (oversize)
          throw new Error(
            `${name} accepted a ${input[0]!.length}-byte frame over maxBytes ${MAX_BYTES}`,
          );
      } catch (error) {
        if (!isZgError(error, "ZG_DECODE"))
          throw new Error(`${name} threw a non-ZG_DECODE error`, { cause: error });
        o.failed++;
        if (oversize && (error as DecodeError).reason !== "too-large")
          throw new Error(
            `${name}: oversize input rejected as ${(error as DecodeError).reason}, not too-large`,
          );
      }
      let took = performance.now() - started;
      // A real hang repeats; a GC pause or a busy neighbour on the shared machine does not.
      for (let retime = 0; retime < 3 && took >= MAX_DECODE_MS; retime++)
        took = Math.min(took, timeDecode(codec, input));
      o.slowest = Math.max(o.slowest, took);
      if (took >= MAX_DECODE_MS)
        throw new Error(`${name}: decode took ${took.toFixed(0)} ms (limit ${MAX_DECODE_MS})`);
    });
  }

  test.prop(
    [
      fc.array(
        fc.oneof(
          fc.uint8Array({ maxLength: 24 }).map((u) => Buffer.from(u)),
          fc.constantFrom(
            ...encodeHello("echo", [1, 2]),
            ...encodeWelcome("echo", 3),
            ...encodeReject("echo", [1], "r"),
          ),
        ),
        { maxLength: 6 },
      ),
    ],
    { seed: SEED, numRuns: FUZZ_RUNS },
  )(`negotiation frames: only ZG_PROTOCOL, ${FUZZ_RUNS} cases`, (frames) => {
    try {
      decodeNegotiation(frames);
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL"))
        throw new Error("negotiation decode threw a non-ZG_PROTOCOL error", { cause: error });
    }
  });
});

describe("size limits apply before decoding", () => {
  test("an oversize frame never reaches protobufjs or JSON.parse", () => {
    const decode = vi.spyOn(kvType, "decode");
    const parse = vi.spyOn(JSON, "parse");
    const big = [Buffer.alloc(MAX_BYTES + 1, 0x0a)];
    expect(() => kvReflection.decode(big)).toThrow(
      expect.objectContaining({ code: "ZG_DECODE", reason: "too-large" }),
    );
    expect(() => json.decode(big)).toThrow(
      expect.objectContaining({ code: "ZG_DECODE", reason: "too-large" }),
    );
    expect(decode).not.toHaveBeenCalled();
    expect(parse).not.toHaveBeenCalled();
  });

  test("a length prefix claiming gigabytes inside a small frame is refused without allocating it", () => {
    // field 5 (bytes), length varint 0xffffffff0f (~4 GiB), then 3 bytes.
    const frame = Buffer.from([0x2a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
    const heap = process.memoryUsage().arrayBuffers;
    for (const codec of [kvReflection, kvStatic])
      expect(() => codec.decode([frame])).toThrow(
        expect.objectContaining({ code: "ZG_DECODE", reason: "malformed" }),
      );
    expect(process.memoryUsage().arrayBuffers - heap).toBeLessThan(16 * 1024 * 1024);
  });
});
