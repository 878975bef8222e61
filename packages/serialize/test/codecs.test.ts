import { describe, expect, expectTypeOf, test } from "vitest";
import { EMPTY_FRAME, isZgError } from "@zg/core";
import {
  bytesCodec,
  DecodeError,
  DEFAULT_MAX_BYTES,
  jsonCodec,
  protobufCodec,
  staticProtobufCodec,
  textCodec,
  type ProtobufValue,
} from "../src/index.js";
import { zg } from "../src/generated/examples.js";
import { examplesRoot, sampleKeyValue } from "./helpers.js";

const decodeFailure = (fn: () => unknown): DecodeError => {
  try {
    fn();
  } catch (error) {
    expect(isZgError(error, "ZG_DECODE")).toBe(true);
    return error as DecodeError;
  }
  throw new Error("expected a DecodeError");
};

describe("bytesCodec", () => {
  test("round trips one frame without copying", () => {
    const codec = bytesCodec();
    const frame = Buffer.from([0, 1, 2, 255]);
    const [encoded] = codec.encode(frame);
    expect(encoded).toBe(frame);
    expect(codec.decode([frame])).toBe(frame);
    expect(codec.contentType).toBe("application/octet-stream");
  });

  test("rejects the wrong frame count and oversize input before decoding", () => {
    const codec = bytesCodec({ maxBytes: 4 });
    expect(decodeFailure(() => codec.decode([])).reason).toBe("frames");
    expect(decodeFailure(() => codec.decode([EMPTY_FRAME, EMPTY_FRAME])).reason).toBe("frames");
    expect(decodeFailure(() => codec.decode([Buffer.alloc(5)]))).toMatchObject({
      code: "ZG_DECODE",
      reason: "too-large",
      details: { size: 5, maxBytes: 4 },
    });
    expect(() => codec.encode(Buffer.alloc(5))).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
  });

  test("validates maxBytes", () => {
    expect(() => bytesCodec({ maxBytes: 0 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => bytesCodec({ maxBytes: 1.5 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
  });
});

describe("textCodec", () => {
  test("UTF-8 without a trailing NUL", () => {
    const codec = textCodec();
    const [frame] = codec.encode("héllo ☃");
    expect(frame).toEqual(Buffer.from("héllo ☃", "utf8"));
    expect(codec.decode([frame!])).toBe("héllo ☃");
    expect(codec.decode([EMPTY_FRAME])).toBe("");
  });

  test("invalid UTF-8 is rejected, not replaced", () => {
    const codec = textCodec();
    expect(decodeFailure(() => codec.decode([Buffer.from([0x68, 0xc3, 0x28])])).reason).toBe(
      "malformed",
    );
    expect(decodeFailure(() => codec.decode([Buffer.from([0xed, 0xa0, 0x80])])).reason).toBe(
      "malformed",
    ); // surrogate
  });
});

describe("jsonCodec", () => {
  test("round trips and reports its content type", () => {
    const codec = jsonCodec<{ a: number[]; b: string }>();
    const value = { a: [1, 2], b: "x" };
    expect(codec.decode(codec.encode(value))).toEqual(value);
    expect(codec.contentType).toBe("application/json");
  });

  test.each(["__proto__", "constructor", "prototype"])(
    "rejects the key %s at any depth by default",
    (key) => {
      const codec = jsonCodec();
      const top = Buffer.from(`{"ok":1,"${key}":{"polluted":true}}`);
      const deep = Buffer.from(`{"a":[{"b":{"${key}":{"polluted":true}}}]}`);
      expect(decodeFailure(() => codec.decode([top]))).toMatchObject({
        reason: "forbidden-key",
        details: { key },
      });
      expect(decodeFailure(() => codec.decode([deep])).reason).toBe("forbidden-key");
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    },
  );

  test("strip mode removes forbidden keys and keeps the rest, and merging the result cannot pollute", () => {
    const codec = jsonCodec<Record<string, unknown>>({ forbiddenKeys: "strip" });
    const value = codec.decode([
      Buffer.from(
        '{"ok":1,"__proto__":{"polluted":true},"n":{"constructor":{"prototype":{"x":1}},"y":2}}',
      ),
    ]);
    expect(value).toEqual({ ok: 1, n: { y: 2 } });
    expect(Object.keys(value)).toEqual(["ok", "n"]);
    const merged = Object.assign({}, value);
    const deepMerge = (t: Record<string, unknown>, s: Record<string, unknown>): void => {
      for (const k of Object.keys(s)) {
        const v = s[k];
        if (typeof v === "object" && v !== null)
          deepMerge((t[k] ??= {}) as Record<string, unknown>, v as Record<string, unknown>);
        else t[k] = v;
      }
    };
    deepMerge({}, value);
    expect(merged).toEqual({ ok: 1, n: { y: 2 } });
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  test("depth limit counts arrays and objects; deep input is a DecodeError, not a stack overflow", () => {
    const codec = jsonCodec({ maxDepth: 3 });
    expect(codec.decode([Buffer.from("[[[1]]]")])).toEqual([[[1]]]);
    expect(decodeFailure(() => codec.decode([Buffer.from("[[[[1]]]]")]))).toMatchObject({
      reason: "too-deep",
      details: { maxDepth: 3 },
    });
    const huge = Buffer.from("[".repeat(500_000) + "]".repeat(500_000));
    expect(decodeFailure(() => jsonCodec().decode([huge])).reason).toBe("too-deep");
  });

  test("size is checked before parsing", () => {
    const codec = jsonCodec({ maxBytes: 10 });
    expect(decodeFailure(() => codec.decode([Buffer.from('"0123456789"')])).reason).toBe(
      "too-large",
    );
    expect(() => codec.encode("0123456789")).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(DEFAULT_MAX_BYTES).toBe(1_048_576);
  });

  test("bad JSON and bad UTF-8 are malformed", () => {
    const codec = jsonCodec();
    expect(decodeFailure(() => codec.decode([Buffer.from("{")])).reason).toBe("malformed");
    expect(decodeFailure(() => codec.decode([Buffer.from([0x22, 0xff, 0x22])])).reason).toBe(
      "malformed",
    );
    expect(decodeFailure(() => codec.decode([EMPTY_FRAME])).reason).toBe("malformed");
  });

  test("a parse validator narrows the type; whatever it throws becomes invalid", () => {
    const codec = jsonCodec({
      parse: (v: unknown): { n: number } => {
        if (typeof v === "object" && v !== null && typeof (v as { n?: unknown }).n === "number")
          return v as { n: number };
        throw new TypeError("n must be a number");
      },
    });
    expectTypeOf(codec.decode).returns.toEqualTypeOf<{ n: number }>();
    expect(codec.decode([Buffer.from('{"n":1}')])).toEqual({ n: 1 });
    const err = decodeFailure(() => codec.decode([Buffer.from('{"n":"1"}')]));
    expect(err.reason).toBe("invalid");
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  test("values JSON cannot represent are invalid arguments on encode", () => {
    const codec = jsonCodec<unknown>();
    expect(() => codec.encode(undefined)).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => codec.encode(1n)).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(() => codec.encode(cyclic)).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => jsonCodec({ forbiddenKeys: "allow" as "strip" })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
  });
});

type KeyValue = ProtobufValue<zg.examples.KeyValue>;

describe("protobuf codecs", () => {
  const reflection = protobufCodec<KeyValue>(examplesRoot.lookupType("zg.examples.KeyValue"));
  const generated = staticProtobufCodec(zg.examples.KeyValue);

  test("static codec types follow the generated classes: uint64 is bigint, bytes Uint8Array, enums numbers", () => {
    const value = generated.decode(generated.encode(sampleKeyValue()));
    expectTypeOf(value.sequence).toEqualTypeOf<bigint>();
    expectTypeOf(value.uuid).toEqualTypeOf<Uint8Array>();
    expectTypeOf(value.properties).toEqualTypeOf<{ [k: string]: string }>();
    const reply = staticProtobufCodec(zg.examples.EchoReply).decode(
      staticProtobufCodec(zg.examples.EchoReply).encode({
        id: 1,
        text: "x",
        status: zg.examples.Status.STATUS_OK,
        servedAt: 5n,
      }),
    );
    expectTypeOf(reply.status).toEqualTypeOf<zg.examples.Status>();
    expectTypeOf(reply.servedAt).toEqualTypeOf<bigint>();
    expect(reply).toEqual({ id: 1, text: "x", status: 1, servedAt: 5n });
  });

  test.each([
    ["reflection", reflection],
    ["static", generated],
  ] as const)("%s: round trips a kv update, with uint64 extremes exact", (_name, codec) => {
    for (const sequence of [0n, 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      const value = sampleKeyValue(sequence);
      const frames = codec.encode(value);
      expect(frames).toHaveLength(1);
      const out = codec.decode(frames);
      expect(out).toEqual(value);
      expect(out.sequence).toBe(sequence);
      expect(Buffer.isBuffer(out.body)).toBe(true);
    }
  });

  test("reflection and static code produce identical bytes (golden)", () => {
    const value = sampleKeyValue(2n ** 64n - 1n);
    const [a] = reflection.encode(value);
    const [b] = generated.encode(value);
    expect(a).toEqual(b);
    // Field 2 (uint64, varint) holds 2^64-1 as ten bytes: ff ff ff ff ff ff ff ff ff 01.
    expect(a!.toString("hex")).toContain("10ffffffffffffffffff01");
    expect(a!.subarray(0, 23).toString("hex")).toBe(
      "0a152f636f6e6669672f736572766572732f616c706861",
    );
  });

  test("content types name the message type", () => {
    expect(reflection.contentType).toBe("application/x-protobuf; type=zg.examples.KeyValue");
    expect(generated.contentType).toBe("application/x-protobuf; type=zg.examples.KeyValue");
  });

  test("signed 64-bit values keep their sign", async () => {
    const root = (await import("../src/index.js")).loadProtoRootSync(
      (await import("./helpers.js")).packagePath("test/fixtures/evolution/v2.proto"),
    );
    const codec = protobufCodec<{ id: bigint; offset: bigint }>(root.lookupType("evo.Task"));
    for (const offset of [-1n, -(2n ** 63n), 2n ** 63n - 1n])
      expect(codec.decode(codec.encode({ id: 1n, offset })).offset).toBe(offset);
  });

  test("nested messages get their defaults too (static and reflection)", () => {
    const batch = {
      requests: [
        { id: 1, text: "", priority: 0, deadline: 0n },
        { id: 0, text: "b", priority: 1, deadline: 2n ** 64n - 1n },
      ],
      first: { id: 0, text: "", priority: 0, deadline: 0n },
    };
    for (const codec of [
      staticProtobufCodec(zg.examples.EchoBatch),
      protobufCodec<typeof batch>(examplesRoot.lookupType("zg.examples.EchoBatch")),
    ]) {
      expect(codec.decode(codec.encode(batch))).toEqual(batch);
      expect(codec.decode([Buffer.alloc(0)])).toEqual({ requests: [], first: null });
    }
    const typed = staticProtobufCodec(zg.examples.EchoBatch).decode([Buffer.alloc(0)]);
    expectTypeOf(typed.requests).toEqualTypeOf<
      ProtobufValue<zg.examples.EchoRequest.$Properties>[]
    >();
  });

  test("missing fields decode as their defaults", () => {
    const out = generated.decode([Buffer.alloc(0)]);
    expect(out).toEqual({
      key: "",
      sequence: 0n,
      uuid: Buffer.alloc(0),
      properties: {},
      body: Buffer.alloc(0),
    });
  });

  test("truncated and corrupt wire data is a DecodeError with the protobufjs error as cause", () => {
    const [frame] = generated.encode(sampleKeyValue());
    const err = decodeFailure(() => generated.decode([frame!.subarray(0, frame!.length - 10)]));
    expect(err.reason).toBe("malformed");
    expect(err.cause).toBeInstanceOf(Error);
    expect(decodeFailure(() => reflection.decode([Buffer.from([0x0f])])).reason).toBe("malformed"); // wire type 7
    expect(
      decodeFailure(() => reflection.decode([Buffer.from([0x0a, 0x02, 0xff, 0xfe])])).reason,
    ).toBe("malformed"); // invalid UTF-8 string
    expect(
      decodeFailure(() => reflection.decode([Buffer.alloc(DEFAULT_MAX_BYTES + 1)])).reason,
    ).toBe("too-large");
  });

  test("a map key __proto__ on the wire stays an own property and pollutes nothing", () => {
    const [frame] = reflection.encode({ ...sampleKeyValue(), properties: { a: "1" } });
    // Append a second map entry with key "__proto__" (field 4, length-delimited).
    const entry = Buffer.concat([
      Buffer.from([0x0a, 9]),
      Buffer.from("__proto__"),
      Buffer.from([0x12, 1]),
      Buffer.from("x"),
    ]);
    const evil = Buffer.concat([frame!, Buffer.from([0x22, entry.length]), entry]);
    for (const codec of [reflection, generated]) {
      const out = codec.decode([evil]);
      expect(Object.getOwnPropertyDescriptor(out.properties, "__proto__")?.value).toBe("x");
      expect(Object.getPrototypeOf(out.properties)).toBe(Object.prototype);
    }
    expect(Object.prototype).not.toHaveProperty("x");
  });

  test("values protobufjs cannot convert are invalid arguments on encode", () => {
    expect(() => generated.encode(null as unknown as KeyValue)).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => protobufCodec({} as never)).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => staticProtobufCodec({} as never)).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
  });
});

test("DecodeError has its own name and the ZG_DECODE code", () => {
  const err = new DecodeError("malformed", "x");
  expect(err.name).toBe("DecodeError");
  expect(err).toMatchObject({
    code: "ZG_DECODE",
    reason: "malformed",
    details: { reason: "malformed" },
  });
});
