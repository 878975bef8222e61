// issue 12 item 5: `maxMessageSize` (ZMQ_MAXMSGSIZE) on every socket of the part-1 brokers and servers.
import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, within } from "@zg/testing";
import {
  AsyncServer,
  DEFAULT_MDP_MAX_MESSAGE_SIZE,
  FreelanceServer,
  LoadBalancingBroker,
  PirateQueue,
  PirateWorker,
} from "../src/index.js";

const LIMIT = 1024;
const BIG = Buffer.alloc(LIMIT * 4, 7);

/** A DEALER that records its disconnects (libzmq reconnects it on its own). */
function attacker(endpoint: string): { socket: zmq.Dealer; disconnected: Promise<void> } {
  const socket = closeAfter(new zmq.Dealer({ linger: 0, reconnectInterval: 20 }));
  const disconnected = new Promise<void>((resolve) => {
    socket.events.on("disconnect", () => resolve());
  });
  socket.connect(endpoint);
  return { socket, disconnected };
}

/** Sends an oversized frame, requires the sender to be disconnected, then a good round trip on the same socket. */
async function oversizedThenGood(
  endpoint: string,
  frames: (body: Buffer) => Buffer[],
  expectReply: (reply: Buffer[]) => void,
): Promise<void> {
  const a = attacker(endpoint);
  await a.socket.send(frames(BIG));
  await within(
    a.disconnected,
    5000,
    "disconnect of the peer that sent a frame over maxMessageSize",
  );
  await a.socket.send(frames(Buffer.from("small")));
  expectReply(await within(a.socket.receive(), 5000, "good round trip after the oversized frame"));
}

describe("maxMessageSize: a larger frame disconnects its sender, never reaches a handler; good traffic goes on", () => {
  test("one default for every broker and server: DEFAULT_MDP_MAX_MESSAGE_SIZE; negative values are refused", () => {
    expect(DEFAULT_MDP_MAX_MESSAGE_SIZE).toBe(16 * 1024 * 1024);
    for (const make of [
      () => new LoadBalancingBroker({ maxMessageSize: -1 }),
      () => new PirateQueue({ maxMessageSize: 1.5 }),
      () => new FreelanceServer({ handler: (b) => b, maxMessageSize: -1 }),
      () => new AsyncServer({ handler: () => {}, maxMessageSize: -1 }),
    ]) {
      expect(make).toThrow(expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }));
    }
    // 0 = no limit is valid.
    expect(() => new PirateQueue({ maxMessageSize: 0 })).not.toThrow();
  });

  test("PirateQueue (shared LRU shell: LoadBalancingBroker, SimplePirateQueue): frontend", async () => {
    const queue = closeAfter(new PirateQueue({ maxMessageSize: LIMIT }));
    const { frontend, backend } = await queue.start();
    const seen: number[] = [];
    const worker = closeAfter(
      new PirateWorker({
        queue: backend[0] as string,
        handler: (body) => {
          seen.push(body[0]?.length ?? 0);
          return [Buffer.concat([Buffer.from("ok:"), body[0] ?? Buffer.alloc(0)])];
        },
      }),
    );
    await worker.start();
    await oversizedThenGood(
      frontend[0] as string,
      (body) => [Buffer.alloc(0), body],
      (reply) => {
        expect(reply.map((f) => f.toString())).toEqual(["", "ok:small"]);
      },
    );
    expect(seen).toEqual([5]);
    expect(queue.stats().requestsForwarded).toBe(1);
  });

  test("LoadBalancingBroker backend: a worker sending an oversized frame is disconnected", async () => {
    const broker = closeAfter(new LoadBalancingBroker({ maxMessageSize: LIMIT }));
    const { backend } = await broker.start();
    const a = attacker(backend[0] as string);
    await a.socket.send([Buffer.alloc(0), BIG]);
    await within(
      a.disconnected,
      5000,
      "disconnect of the worker that sent a frame over maxMessageSize",
    );
    expect(broker.stats().protocolErrors).toBe(0); // the frame never reached the codec
  });

  test("FreelanceServer (model 3, 10/FLP)", async () => {
    const seen: number[] = [];
    const server = closeAfter(
      new FreelanceServer({
        maxMessageSize: LIMIT,
        handler: (body) => {
          seen.push(body[0]?.length ?? 0);
          return ["ok"];
        },
      }),
    );
    const {
      endpoints: [endpoint],
    } = await server.start();
    await oversizedThenGood(
      endpoint as string,
      (body) => [Buffer.from("1"), body],
      (reply) => {
        expect(reply.map((f) => f.toString())).toEqual(["1", "ok"]);
      },
    );
    expect(seen).toEqual([5]);
    expect(server.stats().requests).toBe(1);
  });

  test("AsyncServer", async () => {
    const seen: number[] = [];
    const server = closeAfter(
      new AsyncServer({
        maxMessageSize: LIMIT,
        handler: (request, ctx) => {
          seen.push(request[0]?.length ?? 0);
          ctx.reply("ok");
        },
      }),
    );
    const {
      endpoints: [endpoint],
    } = await server.start();
    await oversizedThenGood(
      endpoint as string,
      (body) => [body],
      (reply) => {
        expect(reply.map((f) => f.toString())).toEqual(["ok"]);
      },
    );
    expect(seen).toEqual([5]);
  });
});
