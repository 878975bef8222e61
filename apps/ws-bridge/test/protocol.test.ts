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

  it("names what is wrong with bad input, never throws", () => {
    const cases: [string, string][] = [
      ["{", "not JSON"],
      ["[]", "not an object"],
      ['{"type":"request"}', "id must be a non-negative integer"],
      ['{"id":1,"type":"nope"}', "type must be request, subscribe or unsubscribe"],
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
