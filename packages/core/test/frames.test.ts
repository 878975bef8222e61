import { describe, expect, test } from "vitest";
import {
  decodeCommand,
  decodeDecimal,
  decodeInt64BE,
  decodeProperties,
  decodeUint64BE,
  EMPTY_FRAME,
  encodeCommand,
  encodeDecimal,
  encodeProperties,
  encodeUint64BE,
  FrameReader,
  frameAt,
  framesEqual,
  isEmptyFrame,
  messageSize,
  ProtocolError,
  toFrame,
  toMessage,
} from "../src/index.js";

describe("frames", () => {
  test("toFrame converts strings (UTF-8, no NUL), buffers and typed arrays", () => {
    expect(toFrame("héllo")).toEqual(Buffer.from("héllo", "utf8"));
    const b = Buffer.from([1, 2]);
    expect(toFrame(b)).toBe(b);
    const u = new Uint8Array([9, 8, 7]).subarray(1);
    expect(toFrame(u)).toEqual(Buffer.from([8, 7]));
    expect(toMessage("a", b)).toEqual([Buffer.from("a"), b]);
    expect(messageSize(toMessage("abc", "de"))).toBe(5);
    expect(framesEqual(Buffer.from("x"), new Uint8Array([120]))).toBe(true);
    expect(framesEqual(Buffer.from("x"), Buffer.from("xy"))).toBe(false);
    expect(isEmptyFrame(EMPTY_FRAME)).toBe(true);
    expect(isEmptyFrame(undefined)).toBe(false);
  });

  test("frameAt raises a typed protocol error instead of undefined", () => {
    expect(frameAt([Buffer.from("a")], 0)).toEqual(Buffer.from("a"));
    expect(() => frameAt([], 2, "service name")).toThrow(ProtocolError);
    try {
      frameAt([], 2, "service name");
    } catch (e) {
      expect(e).toMatchObject({
        code: "ZG_PROTOCOL",
        name: "ProtocolError",
        details: { index: 2, frames: 0 },
      });
      expect((e as Error).message).toContain("service name");
    }
  });

  test("FrameReader walks a message and names what is missing", () => {
    const r = new FrameReader(toMessage("", "MDPC01", "echo", "body1", "body2"));
    r.takeEmpty();
    expect(r.takeString("header")).toBe("MDPC01");
    expect(r.peek()?.toString()).toBe("echo");
    expect(r.take().toString()).toBe("echo");
    expect(r.position).toBe(3);
    expect(r.remaining).toBe(2);
    expect(r.rest().map(String)).toEqual(["body1", "body2"]);
    expect(() => r.take("body")).toThrow(/missing body/);
    r.end();
    const r2 = new FrameReader([Buffer.from("x"), Buffer.from([5])]);
    expect(() => r2.takeEmpty()).toThrow(ProtocolError);
    expect(r2.takeCommand()).toBe(5);
    const r3 = new FrameReader([Buffer.from("x")]);
    expect(() => r3.end()).toThrow(/trailing/);
  });

  test("single-byte commands", () => {
    expect(encodeCommand(2)).toEqual(Buffer.from([2]));
    expect(decodeCommand(Buffer.from([1]))).toBe(1);
    expect(() => decodeCommand(Buffer.from([1, 2]))).toThrow(ProtocolError);
    expect(() => decodeCommand(Buffer.alloc(0))).toThrow(ProtocolError);
    expect(() => encodeCommand(256)).toThrow(/byte/);
  });

  test("64-bit big-endian integers (CHP sequence numbers)", () => {
    expect(encodeUint64BE(1n)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]));
    expect(encodeUint64BE(258)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]));
    expect(decodeUint64BE(encodeUint64BE((1n << 64n) - 1n))).toBe((1n << 64n) - 1n);
    expect(decodeInt64BE(encodeUint64BE(-5n))).toBe(-5n);
    expect(
      decodeUint64BE(new Uint8Array(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 7])).subarray(1)),
    ).toBe(7n);
    expect(() => decodeUint64BE(Buffer.alloc(7))).toThrow(ProtocolError);
    expect(() => decodeInt64BE(Buffer.alloc(9))).toThrow(ProtocolError);
    expect(() => encodeUint64BE(1n << 64n)).toThrow(/64 bits/);
  });

  test("ASCII decimal frames are decoded strictly", () => {
    expect(encodeDecimal(42)).toEqual(Buffer.from("42"));
    expect(encodeDecimal(7n)).toEqual(Buffer.from("7"));
    expect(decodeDecimal(Buffer.from("0"))).toBe(0);
    expect(decodeDecimal(Buffer.from("123456789012345"))).toBe(123456789012345);
    for (const bad of ["", "-1", "+1", " 1", "01", "1.5", "abc", "1234567890123456"]) {
      expect(() => decodeDecimal(Buffer.from(bad)), bad).toThrow(ProtocolError);
    }
    expect(() => encodeDecimal(-1)).toThrow();
    expect(() => encodeDecimal(1.5)).toThrow();
    expect(() => encodeDecimal(-1n)).toThrow();
  });

  test("name=value property blocks", () => {
    const f = encodeProperties({ ttl: "30", uuid: "abc=def" });
    expect(f.toString()).toBe("ttl=30\nuuid=abc=def\n");
    expect(decodeProperties(f)).toEqual(
      new Map([
        ["ttl", "30"],
        ["uuid", "abc=def"],
      ]),
    );
    expect(encodeProperties(new Map([["a", ""]])).toString()).toBe("a=\n");
    expect(decodeProperties(Buffer.from("a=1\nb=2"))).toEqual(
      new Map([
        ["a", "1"],
        ["b", "2"],
      ]),
    );
    expect(decodeProperties(Buffer.alloc(0)).size).toBe(0);
    expect(decodeProperties(Buffer.from("a=1\na=2\n")).get("a")).toBe("2");
    expect(() => decodeProperties(Buffer.from("novalue\n"))).toThrow(ProtocolError);
    expect(() => decodeProperties(Buffer.from("=x\n"))).toThrow(ProtocolError);
    expect(() => decodeProperties(Buffer.from("a=1\nb=2\n"), { maxProperties: 1 })).toThrow(
      /limit/,
    );
    expect(() => encodeProperties({ "a=b": "x" })).toThrow();
    expect(() => encodeProperties({ a: "x\ny" })).toThrow();
    expect(() => encodeProperties({ "": "x" })).toThrow();
  });
});
