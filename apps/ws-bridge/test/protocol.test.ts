import { describe, expect, it } from "vitest";
import { decodeClientMessage, decodeFrame, encodeFrame } from "../src/protocol.js";

describe("ws-bridge framing", () => {
  it("round-trips frames exactly: text, empty, binary", () => {
    for (const bytes of [Buffer.from("héllo"), Buffer.alloc(0), Buffer.from([0, 0xff, 0xfe, 1])]) {
      const wire = encodeFrame(bytes);
      expect(decodeFrame(JSON.parse(JSON.stringify(wire)))).toEqual(bytes);
    }
    expect(encodeFrame(Buffer.from("text"))).toBe("text");
    expect(encodeFrame(Buffer.from([0xff]))).toEqual({ b64: "/w==" });
  });

  it("decodes requests and subscriptions", () => {
    expect(
      decodeClientMessage('{"id":1,"type":"request","service":"echo","body":["a",{"b64":"AAE="}]}'),
    ).toEqual({
      type: "request",
      id: 1,
      service: "echo",
      body: [Buffer.from("a"), Buffer.from([0, 1])],
      timeout: undefined,
    });
    expect(decodeClientMessage('{"id":2,"type":"subscribe","topic":"weather."}')).toEqual({
      type: "subscribe",
      id: 2,
      topic: "weather.",
    });
  });

  it("decodes Clone subscriptions and sets (null deletes)", () => {
    expect(decodeClientMessage('{"id":3,"type":"clone-subscribe","prefix":"/config/"}')).toEqual({
      type: "clone-subscribe",
      id: 3,
      prefix: "/config/",
    });
    expect(
      decodeClientMessage(
        '{"id":4,"type":"clone-set","key":"/config/a","value":{"b64":"AP8="},"ttl":500}',
      ),
    ).toEqual({
      type: "clone-set",
      id: 4,
      key: "/config/a",
      value: Buffer.from([0, 255]),
      ttl: 500,
    });
    expect(
      decodeClientMessage('{"id":5,"type":"clone-set","key":"/config/a","value":null}'),
    ).toEqual({ type: "clone-set", id: 5, key: "/config/a", value: null, ttl: undefined });
  });

  it("names what is wrong with bad input, never throws", () => {
    const cases: [string, string][] = [
      ["{", "not JSON"],
      ["[]", "not an object"],
      ['{"type":"request"}', "id must be a non-negative integer"],
      [
        '{"id":1,"type":"nope"}',
        "type must be request, subscribe, unsubscribe, clone-subscribe, clone-unsubscribe or clone-set",
      ],
      ['{"id":1,"type":"clone-subscribe"}', "prefix must be a string of at most 255 bytes"],
      ['{"id":1,"type":"clone-set","key":"","value":"v"}', "key must be a string of 1-255 bytes"],
      [
        '{"id":1,"type":"clone-set","key":"/k","value":""}',
        "value must not be empty (null deletes)",
      ],
      [
        '{"id":1,"type":"clone-set","key":"/k","value":"v","ttl":0.5}',
        "ttl must be an integer number of ms ≥ 1",
      ],
      ['{"id":1,"type":"clone-set","key":"/k","value":7}', "a frame is a string or {b64}"],
      [
        '{"id":1,"type":"request","service":"","body":[]}',
        "service must be a name of 1-255 characters",
      ],
      [
        '{"id":1,"type":"request","service":"mmi.service","body":[]}',
        "mmi.* services are the bridge's own",
      ],
      ['{"id":1,"type":"request","service":"s","body":"x"}', "body must be an array of frames"],
      ['{"id":1,"type":"request","service":"s","body":[3]}', "a frame is a string or {b64}"],
      ['{"id":1,"type":"request","service":"s","body":[{"b64":"!!"}]}', "b64 is not base64"],
      [
        '{"id":1,"type":"request","service":"s","body":[],"timeout":-1}',
        "timeout must be a number of ms ≥ 1",
      ],
      ['{"id":1,"type":"subscribe","topic":7}', "topic must be a string of at most 255 characters"],
    ];
    for (const [text, error] of cases)
      expect(decodeClientMessage(text), text).toMatchObject({ error });
  });
});
