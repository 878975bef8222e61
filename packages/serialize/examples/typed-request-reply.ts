// A typed Majordomo-style request/reply (Guide ch. 4): a DEALER client and a
// ROUTER service agree on a schema version with the negotiation handshake,
// then exchange [service][ZGE1 <type> <version>][payload] messages. Version 1
// of the schemas is JSON, version 2 protobuf (static generated code), so a
// v1-only client and a v2 client are served side by side.
//
// Type-checked by `tsc -b` (examples/ is in the package tsconfig) and run by
// test/examples.integration.test.ts.
import {
  bindAll,
  createDealer,
  createRouter,
  SocketLoop,
  toFrame,
  unwrap,
  type Message,
} from "@zg/core";
import {
  createVersionResponder,
  isNegotiationMessage,
  jsonCodec,
  negotiateVersion,
  staticProtobufCodec,
  TypedEnvelope,
  type EnvelopeMessage,
} from "@zg/serialize";
import { zg } from "../src/generated/examples.js";

/** The echo service's schemas: v1 JSON, v2 protobuf. */
export const echoSchemas = {
  "echo.Request": {
    1: jsonCodec<{ text: string }>(),
    2: staticProtobufCodec(zg.examples.EchoRequest),
  },
  "echo.Reply": { 1: jsonCodec<{ text: string }>(), 2: staticProtobufCodec(zg.examples.EchoReply) },
};
/** One envelope for every message of the service. */
export const echo = new TypedEnvelope(echoSchemas);
type EchoMessage = EnvelopeMessage<typeof echoSchemas>;

/** The service: answers negotiation HELLOs and typed requests; bad input is counted and dropped. */
export async function startEchoService(
  endpoint: string,
): Promise<{ endpoint: string; dropped: () => number; close: () => Promise<void> }> {
  const respond = createVersionResponder({ echo: [1, 2] });
  const router = createRouter({ linger: 0 });
  const [bound] = await bindAll(router, [endpoint]);
  let dropped = 0;
  const loop: SocketLoop = new SocketLoop(router, {
    onMessage: (msg: Message) => {
      const { id, body } = unwrap(msg);
      if (isNegotiationMessage(body)) return void loop.post([id, ...respond(body).reply]);
      const [service, ...payload] = body;
      let request: EchoMessage;
      try {
        request = echo.decode(payload);
      } catch {
        dropped++; // ZG_DECODE: unknown type/version or bad bytes; never mis-decoded
        return;
      }
      if (service?.toString() !== "echo" || request.type !== "echo.Request") return void dropped++;
      const reply: EchoMessage =
        request.version === 1
          ? { type: "echo.Reply", version: 1, value: { text: request.value.text } }
          : {
              type: "echo.Reply",
              version: 2,
              value: {
                id: request.value.id,
                text: request.value.text,
                status: zg.examples.Status.STATUS_OK,
                servedAt: BigInt(Date.now()),
              },
            };
      loop.post([id, toFrame("echo"), ...echo.encode(reply)]);
    },
  }).start();
  return { endpoint: bound as string, dropped: () => dropped, close: () => loop.close() }; // the loop owns and closes the socket
}

/** A client: negotiates, then sends one request at a time (strictly sequential: one await per socket). */
export async function echoClient(
  endpoint: string,
  versions: number[],
): Promise<{ version: number; request: (text: string) => Promise<string>; close: () => void }> {
  const dealer = createDealer({ linger: 0, receiveTimeout: 2500 });
  dealer.connect(endpoint);
  const version = await negotiateVersion(dealer, { protocol: "echo", versions });
  let id = 0;
  return {
    version,
    async request(text: string): Promise<string> {
      const request: EchoMessage =
        version === 1
          ? { type: "echo.Request", version: 1, value: { text } }
          : {
              type: "echo.Request",
              version: 2,
              value: { id: ++id, text, priority: zg.examples.Priority.PRIORITY_HIGH, deadline: 0n },
            };
      await dealer.send([toFrame("echo"), ...echo.encode(request)]);
      const [, ...payload] = await dealer.receive();
      const reply = echo.decode(payload);
      if (reply.type !== "echo.Reply") throw new Error(`unexpected ${reply.type}`);
      return reply.value.text; // both versions have `text`: the union narrows to string
    },
    close: () => dealer.close(),
  };
}

/** Starts the service, talks to it with a v1-only and a v1/v2 client, and closes everything. */
export async function main(
  endpoint = "tcp://127.0.0.1:*",
): Promise<{ versions: number[]; replies: string[] }> {
  const service = await startEchoService(endpoint);
  const old = await echoClient(service.endpoint, [1]);
  const current = await echoClient(service.endpoint, [1, 2]);
  try {
    const replies = [await old.request("hello from v1"), await current.request("hello from v2")];
    return { versions: [old.version, current.version], replies };
  } finally {
    old.close();
    current.close();
    await service.close();
  }
}
