import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, ipcEndpoint } from "@zg/testing";
import {
  assertLibzmq,
  bindAll,
  connectAll,
  createDealer,
  createRouter,
  createSocket,
  endpointsOption,
  MIN_LIBZMQ_VERSION,
} from "../src/index.js";

describe("socket helpers", () => {
  test("bindAll returns real endpoints for tcp://127.0.0.1:* and ipc", async () => {
    const router = closeAfter(createRouter({ linger: 0 }));
    const ipc = ipcEndpoint();
    const eps = await bindAll(router, ["tcp://127.0.0.1:*", ipc]);
    expect(eps[0]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(eps[0]).not.toContain("*");
    expect(eps[1]).toBe(ipc);
    expect(router.linger).toBe(0);
    expect(router.sendTimeout).toBe(0);
  });

  test("a port in use is a ZG_SOCKET error naming the endpoint", async () => {
    const a = closeAfter(createRouter({ linger: 0 }));
    const [ep] = await bindAll(a, ["tcp://127.0.0.1:*"]);
    const b = closeAfter(createRouter({ linger: 0 }));
    await expect(bindAll(b, [ep as string])).rejects.toMatchObject({
      code: "ZG_SOCKET",
      details: { endpoint: ep, code: "EADDRINUSE" },
      message: expect.stringContaining("address already in use") as string,
    });
    await expect(bindAll(b, ["nonsense"])).rejects.toMatchObject({ code: "ZG_INVALID_ARGUMENT" });
  });

  test("connectAll, createDealer, createSocket set explicit options", () => {
    const d = closeAfter(createDealer({ linger: 0, routingId: "me", sendHighWaterMark: 5 }));
    expect(d.routingId).toBe("me");
    expect(d.sendHighWaterMark).toBe(5);
    connectAll(d, ["tcp://127.0.0.1:1"]);
    expect(() => connectAll(d, ["bogus://x"])).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }) as Error,
    );
    const pub = closeAfter(createSocket(zmq.Publisher, { linger: 0, sendHighWaterMark: 7 }));
    expect(pub.linger).toBe(0);
    expect(pub.sendHighWaterMark).toBe(7);
    const ctx = new zmq.Context();
    const r = closeAfter(createRouter({ linger: 0, context: ctx }));
    expect(r.context).toBe(ctx);
  });

  test("endpointsOption validates", () => {
    expect(endpointsOption("frontend", "tcp://127.0.0.1:5555")).toEqual(["tcp://127.0.0.1:5555"]);
    expect(endpointsOption("frontend", undefined, ["ipc:///tmp/x"])).toEqual(["ipc:///tmp/x"]);
    expect(() => endpointsOption("frontend", [])).toThrow(/frontend needs/);
    expect(() => endpointsOption("frontend", ["5555"])).toThrow(/not a ZeroMQ endpoint/);
  });

  test("assertLibzmq accepts the bundled libzmq", () => {
    expect(MIN_LIBZMQ_VERSION).toBe("4.3.3");
    expect(() => assertLibzmq({ curve: true, draft: true })).not.toThrow();
  });
});
