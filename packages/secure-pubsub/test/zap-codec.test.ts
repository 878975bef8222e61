import { expect, test } from "vitest";
import { decodeZapRequest, encodeZapReply, z85Encode } from "../src/index.js";

const E = Buffer.alloc(0);
const req = (...body: (string | Buffer)[]) => [
  Buffer.from("rid"),
  E,
  ...body.map((b) => Buffer.from(b)),
];

test("decodes a CURVE request and encodes the 27/ZAP reply", () => {
  const key = Buffer.alloc(32, 9);
  const r = decodeZapRequest(req("1.0", "7", "global", "127.0.0.1", "", "CURVE", key));
  expect(r).toMatchObject({
    domain: "global",
    address: "127.0.0.1",
    mechanism: "CURVE",
    curveKey: z85Encode(key),
  });
  expect(r.requestId.toString()).toBe("7");
  const reply = encodeZapReply({
    requestId: r.requestId,
    status: "200",
    text: "OK",
    userId: "u\u00e9",
  });
  expect(reply.map((f) => f.toString("latin1"))).toEqual(["", "1.0", "7", "200", "OK", "u?", ""]);
});

test("malformed requests throw ProtocolError, with the request id when a reply can be addressed", () => {
  expect(() => decodeZapRequest([Buffer.from("rid"), Buffer.from("x")])).toThrow(/delimiter/);
  expect(() => decodeZapRequest(req("1.0", "7"))).toThrow(/frames/);
  try {
    decodeZapRequest(req("2.0", "8", "d", "a", "", "NULL"));
    expect.unreachable();
  } catch (e) {
    expect(String((e as { details: { requestId: Buffer } }).details.requestId)).toBe("8");
  }
  const plain = decodeZapRequest(req("1.0", "9", "d", "a", "", "PLAIN", "u", "p"));
  expect(plain.curveKey).toBeUndefined();
  const shortKey = decodeZapRequest(req("1.0", "9", "d", "a", "", "CURVE", "short"));
  expect(shortKey.curveKey).toBeUndefined();
});
