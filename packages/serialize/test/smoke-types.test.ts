import { expect, expectTypeOf, test } from "vitest";
import { staticProtobufCodec } from "../src/index.js";
import { zg } from "../src/generated/examples.js";

test("static codec types and round trip", () => {
  const codec = staticProtobufCodec(zg.examples.KeyValue);
  const v = { key: "k", sequence: 18446744073709551615n, uuid: Buffer.alloc(16, 1), properties: { a: "b" }, body: Buffer.from("x") };
  const out = codec.decode(codec.encode(v));
  expectTypeOf(out.sequence).toEqualTypeOf<bigint>();
  expect(out).toEqual(v);
});
