import { describe, expect, expectTypeOf, test } from "vitest";
import { isZgError } from "@zg/core";
import {
  decodeEnvelopeHeader,
  encodeEnvelopeHeader,
  jsonCodec,
  staticProtobufCodec,
  textCodec,
  TypedEnvelope,
  type DecodeError,
  type EnvelopeMessage,
} from "../src/index.js";
import { zg } from "../src/generated/examples.js";

const requestV1 = jsonCodec<{ text: string }>();
const requestV2 = staticProtobufCodec(zg.examples.EchoRequest);
const schemas = {
  "echo.Request": { 1: requestV1, 2: requestV2 },
  "echo.Note": { 1: textCodec() },
};
const envelope = new TypedEnvelope(schemas);

const failure = (fn: () => unknown): DecodeError => {
  try {
    fn();
  } catch (error) {
    expect(isZgError(error, "ZG_DECODE")).toBe(true);
    return error as DecodeError;
  }
  throw new Error("expected a DecodeError");
};

describe("envelope header", () => {
  test("is ASCII 'ZGE1 <type> <version>' (golden)", () => {
    expect(encodeEnvelopeHeader("echo.Request", 2).toString("latin1")).toBe("ZGE1 echo.Request 2");
    expect(decodeEnvelopeHeader(Buffer.from("ZGE1 a/b-c_d.e 65535"))).toEqual({
      type: "a/b-c_d.e",
      version: 65535,
    });
  });

  test("a frame without the signature is headerless; a bad header is a DecodeError", () => {
    expect(decodeEnvelopeHeader(Buffer.from("hello"))).toBeUndefined();
    expect(decodeEnvelopeHeader(undefined)).toBeUndefined();
    for (const bad of [
      "ZGE1 ",
      "ZGE1 x",
      "ZGE1 x 0",
      "ZGE1 x 01",
      "ZGE1 x 65536",
      "ZGE1 x y",
      "ZGE1 a b 1",
      `ZGE1 ${"x".repeat(129)} 1`,
      "ZGE1 x 1 ",
    ]) {
      expect(failure(() => decodeEnvelopeHeader(Buffer.from(bad))).reason).toBe("header");
    }
  });

  test("rejects bad names and versions on encode", () => {
    for (const [t, v] of [
      ["", 1],
      ["a b", 1],
      ["x", 0],
      ["x", 65536],
      ["x", 1.5],
    ] as const) {
      expect(() => encodeEnvelopeHeader(t, v)).toThrow(
        expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
      );
    }
  });
});

describe("TypedEnvelope", () => {
  test("dispatches on type and version with a discriminated union", () => {
    const frames = envelope.encode({
      type: "echo.Request",
      version: 2,
      value: { id: 3, text: "hi", priority: zg.examples.Priority.PRIORITY_HIGH, deadline: 9n },
    });
    expect(frames).toHaveLength(2);
    expect(frames[0]!.toString()).toBe("ZGE1 echo.Request 2");
    const m = envelope.decode(frames);
    expectTypeOf(m).toEqualTypeOf<EnvelopeMessage<typeof schemas>>();
    if (m.type === "echo.Request" && m.version === 2) {
      expectTypeOf(m.value.deadline).toEqualTypeOf<bigint>();
      expect(m.value).toEqual({ id: 3, text: "hi", priority: 2, deadline: 9n });
    } else {
      throw new Error(`wrong dispatch: ${m.type} v${m.version}`);
    }
    const v1 = envelope.decode(
      envelope.encode({ type: "echo.Request", version: 1, value: { text: "old" } }),
    );
    expect(v1).toEqual({ type: "echo.Request", version: 1, value: { text: "old" } });
    expect(envelope.decode(envelope.encode({ type: "echo.Note", version: 1, value: "n" }))).toEqual(
      { type: "echo.Note", version: 1, value: "n" },
    );
  });

  test("an unknown type or version is a typed error naming what is known, never a mis-decode", () => {
    const payload = requestV2.encode({ id: 1, text: "x", priority: 0, deadline: 0n });
    expect(
      failure(() => envelope.decode([encodeEnvelopeHeader("echo.Reply", 1), ...payload])),
    ).toMatchObject({
      reason: "unknown-type",
      details: { type: "echo.Reply", version: 1, known: ["echo.Request", "echo.Note"] },
    });
    expect(
      failure(() => envelope.decode([encodeEnvelopeHeader("echo.Request", 3), ...payload])),
    ).toMatchObject({
      reason: "unknown-version",
      details: { type: "echo.Request", version: 3, known: [1, 2] },
    });
    for (const hostile of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      expect(
        failure(() => envelope.decode([encodeEnvelopeHeader(hostile, 1), ...payload])).reason,
      ).toBe("unknown-type");
    }
  });

  test("a missing header is an error unless a headerless fallback is configured", () => {
    expect(failure(() => envelope.decode([Buffer.from("plain")])).reason).toBe("header");
    expect(failure(() => envelope.decode([])).reason).toBe("header");
    const legacy = new TypedEnvelope(schemas, { headerless: { type: "echo.Note", version: 1 } });
    expect(legacy.decode([Buffer.from("plain")])).toEqual({
      type: "echo.Note",
      version: 1,
      value: "plain",
    });
    expect(
      legacy.decode(legacy.encode({ type: "echo.Request", version: 1, value: { text: "t" } })),
    ).toEqual({ type: "echo.Request", version: 1, value: { text: "t" } });
  });

  test("payload errors come through as the payload codec's DecodeError", () => {
    expect(
      failure(() => envelope.decode([encodeEnvelopeHeader("echo.Request", 1), Buffer.from("{")]))
        .reason,
    ).toBe("malformed");
    expect(failure(() => envelope.decode([encodeEnvelopeHeader("echo.Request", 1)])).reason).toBe(
      "frames",
    );
  });

  test("validates its schemas and refuses to encode unknown pairs", () => {
    expect(() => new TypedEnvelope({ "bad name": { 1: textCodec() } })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => new TypedEnvelope({ x: { 0: textCodec() } })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => new TypedEnvelope({ x: {} })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(
      () => new TypedEnvelope(schemas, { headerless: { type: "echo.Note", version: 2 } }),
    ).toThrow(expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }));
    expect(() => envelope.encode({ type: "echo.Note", version: 2, value: "x" } as never)).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(envelope.versions("echo.Request")).toEqual([1, 2]);
    expect(envelope.versions("nope")).toEqual([]);
    expect(envelope.contentType).toBe("application/vnd.zg.envelope.v1");
  });
});
