import { describe, expect, test } from "vitest";
import {
  formatIdentity,
  identityFromKey,
  identityKey,
  ProtocolError,
  splitEnvelope,
  toMessage,
  unwrap,
  wrap,
  wrapEnvelope,
} from "../src/index.js";

describe("ROUTER envelopes", () => {
  test("split at the first empty delimiter and rebuild", () => {
    const msg = toMessage("W", "C", "", "hello", "");
    const { envelope, body } = splitEnvelope(msg);
    expect(envelope.map(String)).toEqual(["W", "C"]);
    expect(body.map(String)).toEqual(["hello", ""]);
    expect(wrapEnvelope(envelope, body)).toEqual(msg);
    expect(() => splitEnvelope(toMessage("a", "b"))).toThrow(ProtocolError);
    expect(() => splitEnvelope(toMessage("1", "2", "3", ""), 2)).toThrow(/limit 2/);
  });

  test("wrap/unwrap one hop, with and without the delimiter", () => {
    const id = Buffer.from([0, 1, 2, 3, 4]);
    const msg = wrap(id, toMessage("x"));
    expect(msg).toEqual([id, Buffer.alloc(0), Buffer.from("x")]);
    expect(unwrap(msg)).toEqual({ id, body: [Buffer.from("x")], delimited: true });
    expect(unwrap([id, Buffer.from("y")])).toEqual({
      id,
      body: [Buffer.from("y")],
      delimited: false,
    });
    expect(() => unwrap([])).toThrow(ProtocolError);
  });

  test("identity keys are lossless for binary ids", () => {
    const id = Buffer.from([0, 0xff, 0x80, 0x41]);
    expect(identityFromKey(identityKey(id))).toEqual(id);
    expect(identityKey(new Uint8Array([1, 2, 3]).subarray(1))).toBe(
      identityKey(Buffer.from([2, 3])),
    );
    expect(formatIdentity(id)).toBe("0x00ff8041");
    expect(formatIdentity(Buffer.from("worker-1"))).toBe("worker-1");
  });
});
