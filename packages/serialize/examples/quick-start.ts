/* eslint-disable no-console -- example output */
import { isZgError } from "@zg/core";
import { jsonCodec, staticProtobufCodec } from "@zg/serialize";
import { zg } from "../src/generated/examples.js"; // your pbjs + pbts output

const kv = staticProtobufCodec(zg.examples.KeyValue); // Codec<{ key: string; sequence: bigint; … }>
const frames = kv.encode({ key: "/a", sequence: 2n ** 64n - 1n, uuid: Buffer.alloc(16), properties: {}, body: Buffer.from("v") });
console.log(kv.decode(frames).sequence); // 18446744073709551615n, exact

const json = jsonCodec<{ n: number }>({ maxBytes: 64 * 1024, maxDepth: 16 });
try {
  json.decode([Buffer.from('{"__proto__":{"admin":true}}')]);
} catch (error) {
  if (isZgError(error, "ZG_DECODE")) console.log("dropped:", error.message); // forbidden key "__proto__"
}
