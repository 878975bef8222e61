// A typed Clone-style key-value store (Guide ch. 5, kvmsg): updates travel as
// [key][ZGE1 clone.KeyValue 1][protobuf KeyValue] so the key frame still
// works for SUB prefix filtering, the header names the schema, and the
// uint64 sequence arrives as an exact bigint. Here a client sends SETs to a
// ROUTER server that assigns sequence numbers, then asks for a snapshot
// (ICANHAZ-style) which ends with ["KTHXBAI"][sequence].
//
// Type-checked by `tsc -b` and run by test/examples.integration.test.ts.
import {
  bindAll,
  createDealer,
  createRouter,
  decodeUint64BE,
  encodeUint64BE,
  SocketLoop,
  toFrame,
  unwrap,
  type Frame,
  type Message,
} from "@zg/core";
import { staticProtobufCodec, TypedEnvelope, type ProtobufValue } from "@zg/serialize";
import { zg } from "../src/generated/examples.js";

/** A key-value update: key, uint64 sequence (bigint), 16-byte UUID, properties, body. */
export type KeyValue = ProtobufValue<zg.examples.KeyValue>;

/** The store's wire schema: one type, one version. */
export const cloneEnvelope = new TypedEnvelope({
  "clone.KeyValue": { 1: staticProtobufCodec(zg.examples.KeyValue) },
});

/** Encodes an update as [key][header][payload]. */
export function encodeUpdate(kv: KeyValue): Frame[] {
  return [
    toFrame(kv.key),
    ...cloneEnvelope.encode({ type: "clone.KeyValue", version: 1, value: kv }),
  ];
}

/** Decodes [key][header][payload]; the key frame must match the payload's key. Throws ZG_DECODE on bad input. */
export function decodeUpdate(frames: readonly Frame[]): KeyValue {
  const [key, ...rest] = frames;
  const { value } = cloneEnvelope.decode(rest);
  if (key?.toString() !== value.key) throw new Error("key frame does not match the update");
  return value;
}

/** The server: SET assigns the next sequence and stores; ICANHAZ answers with the whole store. */
export async function startCloneServer(
  endpoint: string,
): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const store = new Map<string, KeyValue>();
  let sequence = 0n;
  const router = createRouter({ linger: 0 });
  const [bound] = await bindAll(router, [endpoint]);
  const loop: SocketLoop = new SocketLoop(router, {
    onMessage: (msg: Message) => {
      const { id, body } = unwrap(msg);
      const [command, ...rest] = body;
      if (command?.toString() === "SET") {
        const kv = decodeUpdate(rest); // a ZG_DECODE thrown here is counted and dropped by the loop
        store.set(kv.key, { ...kv, sequence: ++sequence });
      } else if (command?.toString() === "ICANHAZ") {
        for (const kv of store.values()) loop.post([id, toFrame("KVSYNC"), ...encodeUpdate(kv)]);
        loop.post([id, toFrame("KTHXBAI"), encodeUint64BE(sequence)]);
      }
    },
  }).start();
  return { endpoint: bound as string, close: () => loop.close() };
}

/** Sets three keys, fetches the snapshot and returns it with the final sequence. */
export async function main(
  endpoint = "tcp://127.0.0.1:*",
): Promise<{ snapshot: KeyValue[]; sequence: bigint }> {
  const server = await startCloneServer(endpoint);
  const dealer = createDealer({ linger: 0, receiveTimeout: 2500 });
  dealer.connect(server.endpoint);
  try {
    for (const key of ["/a", "/b", "/a"]) {
      const kv: KeyValue = {
        key,
        sequence: 0n,
        uuid: Buffer.alloc(16, 7),
        properties: { ttl: "30" },
        body: Buffer.from(`value of ${key}`),
      };
      await dealer.send([toFrame("SET"), ...encodeUpdate(kv)]);
    }
    await dealer.send("ICANHAZ");
    const snapshot: KeyValue[] = [];
    for (;;) {
      const [command, ...rest] = await dealer.receive();
      if (command?.toString() === "KTHXBAI")
        return { snapshot, sequence: decodeUint64BE(rest[0] as Frame) };
      snapshot.push(decodeUpdate(rest));
    }
  } finally {
    dealer.close();
    await server.close();
  }
}
