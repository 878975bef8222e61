import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { FaultProxy } from "../src/fault-proxy.js";
import { delay, waitFor } from "../src/wait.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A TCP echo server on an ephemeral loopback port. */
async function echoServer(): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return { server, endpoint: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function proxyTo(target?: string): Promise<FaultProxy> {
  const proxy = new FaultProxy(target);
  await proxy.start();
  cleanups.push(() => proxy.close());
  return proxy;
}

function client(endpoint: string): {
  socket: Socket;
  received: () => string;
  error: () => Error | undefined;
} {
  const port = Number(endpoint.split(":").pop());
  const socket = connect(port, "127.0.0.1");
  let data = "";
  let err: Error | undefined;
  socket.on("data", (d: Buffer) => (data += d.toString()));
  socket.on("error", (e) => (err = e));
  cleanups.push(() => socket.destroy());
  return { socket, received: () => data, error: () => err };
}

describe("FaultProxy", () => {
  it("passes bytes both ways and counts them", async () => {
    const { endpoint } = await echoServer();
    const proxy = await proxyTo(endpoint);
    const c = client(proxy.endpoint);
    c.socket.write("hello");
    await waitFor(() => c.received() === "hello", { what: "echo through the proxy" });
    expect(proxy.stats()).toMatchObject({ accepted: 1, open: 1, bytesUp: 5, bytesDown: 5 });
  });

  it("holds connections until a target is set", async () => {
    const { endpoint } = await echoServer();
    const proxy = await proxyTo();
    const c = client(proxy.endpoint);
    c.socket.write("early");
    await delay(50);
    expect(c.received()).toBe("");
    proxy.setTarget(endpoint);
    await waitFor(() => c.received() === "early", { what: "held bytes after setTarget" });
  });

  it("blackholes one direction, then delivers the held bytes in order when healed", async () => {
    const { endpoint } = await echoServer();
    const proxy = await proxyTo(endpoint);
    const c = client(proxy.endpoint);
    c.socket.write("a");
    await waitFor(() => c.received() === "a");
    proxy.set("down", { mode: "blackhole" });
    c.socket.write("b");
    c.socket.write("c");
    await waitFor(() => proxy.stats().bytesUp === 3, { what: "up still flows" });
    await delay(100);
    expect(c.received()).toBe("a"); // the echo is held
    proxy.heal();
    await waitFor(() => c.received() === "abc", { what: "held bytes after heal" });
    expect(c.error()).toBeUndefined();
  });

  it("a FIN is passed on after the bytes ahead of it, even when they were held", async () => {
    // A server that writes, then closes at once.
    const server = createServer((s) => {
      s.on("error", () => {});
      s.end("bye");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const proxy = await proxyTo(`127.0.0.1:${(server.address() as AddressInfo).port}`);
    proxy.set("down", { mode: "blackhole" });
    const c = client(proxy.endpoint);
    let ended = false;
    c.socket.on("end", () => (ended = true));
    await delay(100);
    expect(c.received()).toBe("");
    proxy.heal();
    await waitFor(() => ended, { what: "FIN through the proxy" });
    expect(c.received()).toBe("bye");
    await waitFor(() => proxy.stats().open === 0, { what: "pipe released" });
  });

  it("partition blackholes both ways", async () => {
    const { endpoint } = await echoServer();
    const proxy = await proxyTo(endpoint);
    const c = client(proxy.endpoint);
    c.socket.write("x");
    await waitFor(() => c.received() === "x");
    proxy.partition();
    c.socket.write("y");
    await delay(100);
    expect(proxy.stats().bytesUp).toBe(1);
    expect(c.received()).toBe("x");
    proxy.heal();
    await waitFor(() => c.received() === "xy");
  });

  it("delays each direction by the given ms, keeping order", async () => {
    const { endpoint } = await echoServer();
    const proxy = await proxyTo(endpoint);
    const c = client(proxy.endpoint);
    c.socket.write("0");
    await waitFor(() => c.received() === "0");
    proxy.set("up", { mode: "delay", ms: 150 });
    const t0 = performance.now();
    for (const ch of "12345") c.socket.write(ch);
    await waitFor(() => c.received() === "012345", { what: "delayed echo" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(145);
  });

  it("resets open connections and, in reset mode, every new one", async () => {
    const { endpoint } = await echoServer();
    const proxy = await proxyTo(endpoint);
    const c = client(proxy.endpoint);
    c.socket.write("x");
    await waitFor(() => c.received() === "x");
    proxy.resetConnections();
    await waitFor(() => c.error() !== undefined, { what: "ECONNRESET on the client" });
    expect((c.error() as NodeJS.ErrnoException).code).toBe("ECONNRESET");
    proxy.set("both", { mode: "reset" });
    const c2 = client(proxy.endpoint);
    await waitFor(() => c2.error() !== undefined || c2.socket.destroyed, {
      what: "new connection reset",
    });
    proxy.heal();
    const c3 = client(proxy.endpoint);
    c3.socket.write("back");
    await waitFor(() => c3.received() === "back");
    expect(proxy.stats().resets).toBeGreaterThanOrEqual(2);
  });

  it("carries ZeroMQ traffic, and a partition stops it without breaking the connection", async () => {
    const pub = new zmq.Publisher({ linger: 0 });
    await pub.bind("tcp://127.0.0.1:*");
    const proxy = await proxyTo(pub.lastEndpoint ?? "");
    const sub = new zmq.Subscriber({ linger: 0, receiveTimeout: 200 });
    sub.subscribe();
    sub.connect(proxy.endpoint);
    cleanups.push(() => {
      sub.close();
      pub.close();
    });
    const receiveOne = async (): Promise<string | undefined> => {
      try {
        return String((await sub.receive())[0]);
      } catch {
        return undefined;
      }
    };
    await waitFor(
      async () => {
        await pub.send("1");
        return (await receiveOne()) === "1";
      },
      { what: "PUB → SUB through the proxy" },
    );
    proxy.partition();
    await delay(50);
    while ((await receiveOne()) !== undefined) {
      /* drain what was in flight */
    }
    await pub.send("2");
    expect(await receiveOne()).toBeUndefined();
    proxy.heal();
    await waitFor(async () => (await receiveOne()) === "2", { what: "held message after heal" });
    expect(proxy.stats().accepted).toBe(1);
  });
});
