import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, tcpEndpoint, transports, waitFor, within } from "@zg/testing";
import {
  bindAll,
  createDealer,
  createRouter,
  SocketLoop,
  toMessage,
  type Message,
} from "../src/index.js";

describe.each(Object.entries(transports))("SocketLoop over %s", (_name, endpoint) => {
  test("echo round trips through a ROUTER loop and a DEALER loop", async () => {
    const router = createRouter({ linger: 0 });
    const [ep] = await bindAll(router, [endpoint()]);
    const server: SocketLoop = closeAfter(
      new SocketLoop(router, { onMessage: (msg) => void server.post(msg) }).start(),
    );
    const got: Message[] = [];
    const dealer = createDealer({ linger: 0 });
    dealer.connect(ep as string);
    const client = closeAfter(
      new SocketLoop(dealer, { onMessage: (m) => void got.push(m) }).start(),
    );
    for (let i = 0; i < 100; i++) client.post(toMessage(`m${i}`));
    await waitFor(() => got.length === 100, { what: "100 echoes" });
    expect(got.map((m) => m[0]?.toString())).toEqual(
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
    expect(client.stats()).toMatchObject({ sent: 100, received: 100, queued: 0 });
  });
});

describe("SocketLoop writer", () => {
  test("send() and post() interleaved keep their order; each send resolves once, in order; after close: closed", async () => {
    const pull = closeAfter(new zmq.Pull({ linger: 0 }));
    await pull.bind(tcpEndpoint());
    const push = new zmq.Push({ linger: 0 });
    push.connect(pull.lastEndpoint as string);
    const loop = new SocketLoop(push).start();
    const settled: number[] = [];
    const sends: Promise<string>[] = [];
    for (let i = 0; i < 300; i++) {
      // An idle writer takes a send() at once; a busy one queues it behind earlier posts.
      if (i % 3 === 0) sends.push(loop.send(toMessage(`m${i}`)).then((o) => (settled.push(i), o)));
      else loop.post(toMessage(`m${i}`));
      if (i % 50 === 49) await loop.flush();
    }
    const got: string[] = [];
    for (let i = 0; i < 300; i++) got.push((await pull.receive())[0]?.toString() ?? "");
    expect(got).toEqual(Array.from({ length: 300 }, (_, i) => `m${i}`));
    expect(await Promise.all(sends)).toEqual(sends.map(() => "sent"));
    expect(settled).toEqual(Array.from({ length: 100 }, (_, k) => 3 * k));
    expect(loop.stats()).toMatchObject({ sent: 300, queued: 0 });
    await loop.close();
    await expect(loop.send(toMessage("late"))).resolves.toBe("closed");
  });
});

describe("SocketLoop faults", () => {
  test("a send to a vanished peer resolves unreachable and the loop carries on", async () => {
    const router = createRouter({ linger: 0 });
    const [ep] = await bindAll(router, [tcpEndpoint()]);
    const failures: string[] = [];
    const loop = closeAfter(
      new SocketLoop(router, {
        onMessage: () => {},
        onSendFailure: (_m, o) => failures.push(o),
      }).start(),
    );
    // No peer at all: with sendTimeout 0 this must not hang (protocols.md §3.3 case B).
    await expect(within(loop.send(toMessage("ghost", "", "x")), 1000)).resolves.toBe("unreachable");
    const dealer = closeAfter(createDealer({ linger: 0, routingId: "alive" }));
    dealer.connect(ep as string);
    await dealer.send("hello");
    await waitFor(() => loop.stats().received === 1);
    await expect(loop.send(toMessage("ghost", "x"))).resolves.toBe("unreachable");
    await expect(loop.send(toMessage("alive", "reply"))).resolves.toBe("sent");
    const [reply] = await dealer.receive();
    expect(reply?.toString()).toBe("reply");
    expect(failures).toEqual(["unreachable", "unreachable"]);
    expect(loop.stats().unreachable).toBe(2);
  });

  test("a slow peer that stops reading yields timeouts, not a stalled socket", async () => {
    const router = createRouter({ linger: 0, sendHighWaterMark: 10 });
    const [ep] = await bindAll(router, [tcpEndpoint()]);
    const loop = closeAfter(new SocketLoop(router, { onMessage: () => {} }).start());
    const slow = closeAfter(
      createDealer({ linger: 0, routingId: "slow", receiveHighWaterMark: 10 }),
    );
    const fast = closeAfter(createDealer({ linger: 0, routingId: "fast" }));
    slow.connect(ep as string);
    fast.connect(ep as string);
    await slow.send("hi");
    await fast.send("hi");
    await waitFor(() => loop.stats().received === 2);
    const big = Buffer.alloc(64 * 1024);
    const outcomes = await within(
      Promise.all(Array.from({ length: 2000 }, () => loop.send([Buffer.from("slow"), big]))),
      10_000,
      "2000 sends to a slow peer",
    );
    expect(outcomes).toContain("timeout");
    // The fast peer is still served right away.
    await expect(within(loop.send(toMessage("fast", "ok")), 1000)).resolves.toBe("sent");
    const [m] = await fast.receive();
    expect(m?.toString()).toBe("ok");
    expect(loop.stats().timeouts).toBeGreaterThan(0);
  });

  test("close during sends resolves every pending send and ends the reader", async () => {
    const router = createRouter({ linger: 0, sendHighWaterMark: 1 });
    await bindAll(router, [tcpEndpoint()]);
    const loop = new SocketLoop(router, { onMessage: () => {} }).start();
    const pending = Array.from({ length: 50 }, () => loop.send(toMessage("nobody", "x")));
    await within(loop.close(), 2000, "close");
    const outcomes = await within(Promise.all(pending), 2000, "pending sends");
    expect(outcomes.every((o) => o === "unreachable" || o === "closed")).toBe(true);
    await expect(loop.done).resolves.toBeUndefined();
    expect(router.closed).toBe(true);
    expect(loop.post(toMessage("late"))).toBe(false);
    await loop.close(); // idempotent
  });

  test("a handler that throws is counted and the loop keeps reading", async () => {
    const pull = new zmq.Pull({ linger: 0 });
    await pull.bind("tcp://127.0.0.1:*");
    let n = 0;
    const loop = closeAfter(
      new SocketLoop(pull, {
        onMessage: () => {
          n++;
          if (n % 2 === 0) throw new Error("boom");
        },
      }).start(),
    );
    const push = closeAfter(new zmq.Push({ linger: 0 }));
    push.connect(pull.lastEndpoint as string);
    for (let i = 0; i < 10; i++) await push.send("x");
    await waitFor(() => n === 10);
    expect(loop.stats()).toMatchObject({ received: 10, handlerErrors: 5 });
  });
});

describe("SocketLoop pause", () => {
  test("pause() starts no new receive until resume(); close() ends a paused reader", async () => {
    const pull = new zmq.Pull({ linger: 0 });
    await pull.bind(tcpEndpoint());
    const push = closeAfter(new zmq.Push({ linger: 0 }));
    push.connect(pull.lastEndpoint as string);
    const got: string[] = [];
    const loop = new SocketLoop(pull, { onMessage: (m) => void got.push(String(m[0])) }).start();
    await push.send("m0");
    await waitFor(() => got.length === 1, { what: "m0" });
    loop.pause();
    expect(loop.paused).toBe(true);
    // Nothing reaches onMessage while paused (the receive already pending holds its message).
    await push.send("m1");
    await push.send("m2");
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(["m0"]);
    loop.resume();
    await waitFor(() => got.length === 3, { what: "m1, m2 after resume" });
    expect(got).toEqual(["m0", "m1", "m2"]);
    loop.pause();
    await push.send("m3"); // held by the pending receive, dropped by close
    await new Promise((r) => setTimeout(r, 50));
    await within(loop.close(), 2000, "close of a paused loop");
    expect(got).toEqual(["m0", "m1", "m2"]);
    await expect(loop.done).resolves.toBeUndefined();
  });
});

describe("SocketLoop on a sendTimeout-0 ROUTER (the synchronous write path)", () => {
  test("back-to-back posts and send() keep their order; a vanished peer's messages fail in order, the rest are sent; flush() waits for every outcome", async () => {
    const router = createRouter({ linger: 0 });
    const [ep] = await bindAll(router, [tcpEndpoint()]);
    const failed: string[] = [];
    const loop = closeAfter(
      new SocketLoop(router, {
        onMessage: () => undefined,
        onSendFailure: (m, outcome) => void failed.push(`${m[1]?.toString()}:${outcome}`),
      }).start(),
    );
    const dealer = closeAfter(createDealer({ linger: 0, routingId: "D" }));
    dealer.connect(ep as string);
    const got: string[] = [];
    const reader = closeAfter(
      new SocketLoop(dealer, { onMessage: (m) => void got.push(String(m[0])) }).start(),
    );
    reader.post(["hello"]);
    await waitFor(() => loop.stats().received === 1, { what: "the DEALER's hello" });
    for (let i = 0; i < 500; i++) {
      loop.post(["D", `a${i}`]);
      if (i % 100 === 0) loop.post(["nobody", `x${i}`]);
    }
    expect(await loop.send(["D", "last"])).toBe("sent");
    await loop.flush();
    await waitFor(() => got.length === 501, { what: "501 messages at the DEALER" });
    expect(got).toEqual([...Array.from({ length: 500 }, (_, i) => `a${i}`), "last"]);
    expect(failed).toEqual(["x0", "x100", "x200", "x300", "x400"].map((x) => `${x}:unreachable`));
    expect(loop.stats()).toMatchObject({ sent: 501, unreachable: 5, queued: 0 });
  });
});
