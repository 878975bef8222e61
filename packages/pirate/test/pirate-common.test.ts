import { describe, expect, test } from "vitest";
import { toMessage } from "@zg/core";
import {
  decodePppQueueMessage,
  decodePppWorkerMessage,
  encodePppHeartbeat,
  encodePppReady,
} from "../src/index.js";
import { RequestQueue } from "../src/common/request-queue.js";
import { WorkerList } from "../src/common/worker-list.js";

describe("6/PPP codec (golden frames)", () => {
  test("READY and HEARTBEAT are single bytes 0x01 and 0x02", () => {
    expect(encodePppReady()).toEqual([Buffer.from([0x01])]);
    expect(encodePppHeartbeat()).toEqual([Buffer.from([0x02])]);
  });

  test('worker messages: READY, HEARTBEAT, reply [C][""][body]', () => {
    expect(decodePppWorkerMessage([Buffer.from([1])])).toEqual({ type: "ready" });
    expect(decodePppWorkerMessage([Buffer.from([2])])).toEqual({ type: "heartbeat" });
    expect(decodePppWorkerMessage(toMessage("C", "", "body"))).toEqual({
      type: "reply",
      envelope: [Buffer.from("C")],
      body: [Buffer.from("body")],
    });
  });

  test.each([
    ["empty", []],
    ["unknown command", [Buffer.from([3])]],
    ["two-byte command", [Buffer.from([1, 1])]],
    ["reply without delimiter", toMessage("C", "body")],
    ["reply without address", toMessage("", "body")],
    ["reply without body", toMessage("C", "")],
  ])("worker message rejected: %s", (_name, frames) => {
    expect(() => decodePppWorkerMessage(frames)).toThrow(
      expect.objectContaining({ code: "ZG_PROTOCOL" }) as Error,
    );
  });

  test("queue messages: HEARTBEAT and 3-frame requests; READY from a queue is invalid", () => {
    expect(decodePppQueueMessage([Buffer.from([2])])).toEqual({ type: "heartbeat" });
    expect(decodePppQueueMessage(toMessage("C", "", "x"))).toMatchObject({ type: "request" });
    expect(() => decodePppQueueMessage([Buffer.from([1])])).toThrow(
      expect.objectContaining({ code: "ZG_PROTOCOL" }) as Error,
    );
  });
});

describe("RequestQueue overflow policies", () => {
  test("drop-newest drops the item that does not fit", () => {
    const q = new RequestQueue<number>({ limit: 2, policy: "drop-newest" });
    q.push(1);
    q.push(2);
    expect(q.push(3).dropped).toBe(3);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([1, 2, undefined]);
    expect(q.dropped).toBe(1);
  });

  test("drop-oldest drops the head", () => {
    const q = new RequestQueue<number>({ limit: 2, policy: "drop-oldest" });
    q.push(1);
    q.push(2);
    expect(q.push(3).dropped).toBe(1);
    expect([q.shift(), q.shift()]).toEqual([2, 3]);
  });

  test("backpressure queues the item and returns a promise that resolves when room frees", async () => {
    const q = new RequestQueue<number>({ limit: 1, policy: "backpressure" });
    expect(q.push(1).wait).toBeUndefined();
    const { wait } = q.push(2);
    expect(wait).toBeInstanceOf(Promise);
    let released = false;
    void wait?.then(() => (released = true));
    q.shift();
    expect(q.size).toBe(1);
    q.shift();
    await Promise.resolve();
    expect(released).toBe(true);
  });

  test("unshift puts a retried item back at the head", () => {
    const q = new RequestQueue<number>({ limit: 5 });
    q.push(1);
    q.push(2);
    q.shift();
    q.unshift(9);
    expect([q.shift(), q.shift()]).toEqual([9, 2]);
  });

  test("bad options throw ZG_INVALID_ARGUMENT", () => {
    expect(() => new RequestQueue({ limit: 0 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }) as Error,
    );
    expect(() => new RequestQueue({ policy: "nope" as never })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }) as Error,
    );
  });
});

describe("WorkerList", () => {
  test("least recently used first; ready() moves a worker to the tail", () => {
    const w = new WorkerList();
    for (const id of ["a", "b", "c"]) w.ready(Buffer.from(id));
    w.ready(Buffer.from("a"));
    expect(w.next()?.id.toString()).toBe("b");
    expect(w.next()?.id.toString()).toBe("c");
    expect(w.next()?.id.toString()).toBe("a");
    expect(w.next()).toBeUndefined();
  });
});
