import { describe, expect, it, onTestFinished } from "vitest";
import WebSocket from "ws";
import * as zmq from "zeromq";
import { sleep } from "@zg/core";
import { MajordomoBroker, MajordomoWorker } from "@zg/pirate";
import { closeAfter, tcpEndpoint, waitFor } from "@zg/testing";
import { WsBridge, type WsBridgeOptions } from "../src/ws-bridge.js";

type Msg = Record<string, unknown> & { type: string; id?: number };

/** A test client: every message it got, and a way to wait for one. */
interface Client {
  ws: WebSocket;
  got: Msg[];
  send(m: unknown): void;
  next(pred: (m: Msg) => boolean, what: string): Promise<Msg>;
  closed: Promise<{ code: number; reason: string }>;
}

async function open(url: string, options: WebSocket.ClientOptions = {}): Promise<Client> {
  const ws = new WebSocket(url, options);
  onTestFinished(() => ws.terminate());
  const got: Msg[] = [];
  ws.on("message", (d: Buffer) => got.push(JSON.parse(d.toString()) as Msg));
  ws.on("error", () => {});
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on("close", (code, reason) => r({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
  return {
    ws,
    got,
    send: (m) => ws.send(typeof m === "string" ? m : JSON.stringify(m)),
    next: (pred, what) => waitFor(() => got.find(pred), { what, timeout: 10_000 }),
    closed,
  };
}

async function system(
  options: Partial<WsBridgeOptions> = {},
): Promise<{ bridge: WsBridge; url: string; pub: zmq.Publisher }> {
  const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint() }));
  const endpoint = (await broker.start()).endpoints[0] ?? "";
  for (const [service, delay] of [
    ["echo", 0],
    ["slow", 300],
  ] as const) {
    await closeAfter(
      new MajordomoWorker({
        broker: endpoint,
        service,
        handler: async (b) => {
          if (delay > 0) await sleep(delay);
          return b;
        },
      }),
    ).start();
  }
  const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 100_000 });
  await pub.bind(tcpEndpoint());
  onTestFinished(() => pub.close());
  const bridge = closeAfter(
    new WsBridge({
      listen: "127.0.0.1:0",
      broker: endpoint,
      publishers: [pub.lastEndpoint ?? ""],
      ...options,
    }),
  );
  const { url } = await bridge.start();
  return { bridge, url, pub };
}

describe("WsBridge", () => {
  it("request/reply carries multipart exactly; unknown service and timeout are error messages; subscriptions deliver and stop", async () => {
    const { bridge, url, pub } = await system({ requestTimeout: 100 });
    const c = await open(url);
    c.send({ id: 1, type: "request", service: "echo", body: ["text", "", { b64: "AP8=" }] });
    expect(await c.next((m) => m.id === 1, "reply 1")).toEqual({
      type: "reply",
      id: 1,
      body: ["text", "", { b64: "AP8=" }],
    });
    c.send({ id: 2, type: "request", service: "nobody", body: ["x"] });
    expect(await c.next((m) => m.id === 2, "error 2")).toEqual({
      type: "error",
      id: 2,
      code: "unknown-service",
      message: "no worker for nobody",
    });
    c.send({ id: 3, type: "request", service: "slow", body: ["x"] });
    expect(await c.next((m) => m.id === 3, "error 3")).toMatchObject({
      type: "error",
      code: "timeout",
    });
    c.send({ id: 4, type: "request", service: "slow", body: ["y"], timeout: 2000 });
    expect(await c.next((m) => m.id === 4, "reply 4")).toEqual({
      type: "reply",
      id: 4,
      body: ["y"],
    });

    c.send({ id: 5, type: "subscribe", topic: "weather." });
    await c.next((m) => m.id === 5 && m.type === "subscribed", "subscribed");
    await waitFor(
      async () => {
        await pub.send(["weather.paris", "21°C", Buffer.from([0xff])]);
        await pub.send(["traffic.a1", "jam"]);
        return c.got.some((m) => m.type === "message");
      },
      { what: "a published message through the bridge", interval: 50 },
    );
    const messages = c.got.filter((m) => m.type === "message");
    expect(messages[0]).toEqual({
      type: "message",
      topic: "weather.",
      frames: ["weather.paris", "21°C", { b64: "/w==" }],
    });
    expect(messages.every((m) => (m["frames"] as string[])[0] === "weather.paris")).toBe(true);
    c.send({ id: 6, type: "unsubscribe", topic: "weather." });
    await c.next((m) => m.id === 6, "unsubscribed");
    const count = c.got.length;
    await pub.send(["weather.rome", "25°C"]);
    c.send({ id: 7, type: "request", service: "echo", body: ["fence"] });
    await c.next((m) => m.id === 7, "reply 7");
    expect(c.got.slice(count).filter((m) => m.type === "message")).toEqual([]);
    expect(bridge.stats()).toMatchObject({ requests: 5, replies: 3, failed: 2, protocolErrors: 0 });
  });

  it("checks the origin and the token", async () => {
    const { bridge, url } = await system({
      token: "s3cret-token",
      allowedOrigins: ["https://app.example"],
    });
    await expect(open(url)).rejects.toThrow("HTTP 401");
    await expect(open(`${url}?token=wrong-token!`)).rejects.toThrow("HTTP 401");
    await expect(
      open(`${url}?token=s3cret-token`, { origin: "https://evil.example" }),
    ).rejects.toThrow("HTTP 403");
    const ok = await open(`${url}?token=s3cret-token`, { origin: "https://app.example" });
    const same = await open(url, {
      origin: `http://${new URL(url).host}`,
      headers: { authorization: "Bearer s3cret-token" },
    });
    ok.send({ id: 1, type: "request", service: "echo", body: ["a"] });
    same.send({ id: 1, type: "request", service: "echo", body: ["b"] });
    expect((await ok.next((m) => m.id === 1, "reply"))["body"]).toEqual(["a"]);
    expect((await same.next((m) => m.id === 1, "reply"))["body"]).toEqual(["b"]);
    expect(bridge.stats().refused).toBe(3);
  });

  it("enforces per-connection limits: message size (1009), requests in flight and subscriptions (1008)", async () => {
    const { bridge, url } = await system({
      maxMessageSize: 1024,
      maxInFlight: 2,
      maxSubscriptions: 2,
    });
    const big = await open(url);
    big.send({ id: 1, type: "request", service: "echo", body: ["x".repeat(2000)] });
    expect((await big.closed).code).toBe(1009);
    const eager = await open(url);
    for (let id = 1; id <= 3; id++)
      eager.send({ id, type: "request", service: "slow", body: ["x"] });
    expect(await eager.closed).toEqual({ code: 1008, reason: "more than 2 requests in flight" });
    const greedy = await open(url);
    for (let id = 1; id <= 3; id++) greedy.send({ id, type: "subscribe", topic: `t${id}` });
    expect(await greedy.closed).toEqual({ code: 1008, reason: "more than 2 subscriptions" });
    expect(bridge.stats().protocolErrors).toBe(3);
  });

  it("200 concurrent connections get their own replies while garbage on 200 more closes each of those with a reason (1007)", async () => {
    const { bridge, url } = await system();
    const good = await Promise.all(Array.from({ length: 200 }, () => open(url)));
    const bad = await Promise.all(Array.from({ length: 200 }, () => open(url)));
    const garbage = [
      "{",
      "[]",
      '{"id":1,"type":"launch"}',
      '{"id":-1}',
      '{"id":1,"type":"request","service":"echo","body":[{"b64":"%%%"}]}',
    ];
    const closes = bad.map(async (c, i) => {
      if (i % 6 === 5) c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      else c.send(garbage[i % garbage.length] ?? "{");
      return c.closed;
    });
    await Promise.all(
      good.map(async (c, i) => {
        for (let r = 0; r < 3; r++) {
          const id = r + 1;
          c.send({ id, type: "request", service: "echo", body: [`c${i}`, `r${r}`] });
          expect((await c.next((m) => m.id === id, `reply ${i}/${r}`))["body"]).toEqual([
            `c${i}`,
            `r${r}`,
          ]);
        }
      }),
    );
    const results = await Promise.all(closes);
    expect(results.every((r) => r.code === 1007 && r.reason.length > 0)).toBe(true);
    const s = bridge.stats();
    console.log(
      `ws bridge: ${s.replies} replies to 200 connections, ${s.protocolErrors} garbage connections closed (1007), clients left ${s.clients}`,
    );
    expect(s).toMatchObject({ replies: 600, protocolErrors: 200, failed: 0, clients: 200 });
  }, 60_000);

  it("a browser that does not read never makes the bridge buffer without bound: its pub-sub messages are dropped", async () => {
    const { bridge, url, pub } = await system({ maxBuffered: 64 * 1024 });
    const slow = await open(url);
    slow.send({ id: 1, type: "subscribe", topic: "" });
    await slow.next((m) => m.id === 1, "subscribed");
    const socket = (slow.ws as unknown as { _socket: { pause(): void } })._socket;
    socket.pause(); // stop reading: the kernel buffers fill, then the bridge's
    const payload = "x".repeat(4096);
    await waitFor(
      async () => {
        for (let i = 0; i < 200; i++) await pub.send(["t", payload]);
        return bridge.stats().dropped > 1000;
      },
      { what: "messages dropped for the slow connection", timeout: 20_000, interval: 1 },
    );
    const s = bridge.stats();
    console.log(`ws bridge slow consumer: delivered ${s.delivered}, dropped ${s.dropped}`);
    expect(s.clients).toBe(1);
  }, 30_000);
});
