import { describe, expect, onTestFinished, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, injectReceiveFault, ipcEndpoint, tcpEndpoint, tempDir } from "@zg/testing";
import {
  AsyncClient,
  AsyncMajordomoClient,
  AsyncServer,
  BinaryStar,
  BinaryStarClient,
  FreelanceClient,
  FreelanceServer,
  LazyPirateClient,
  LoadBalancingBroker,
  MajordomoBroker,
  MajordomoClient,
  MajordomoWorker,
  PirateQueue,
  PirateWorker,
  SimplePirateQueue,
  SimplePirateWorker,
  Titanic,
} from "../src/index.js";

// The fatal path by construction (Component owns/watches every loop and
// sub-component): a reader that dies under a running component fails it:
// `component:failed` fires once, `closed` resolves with the error, and its
// sockets and timers are released.

/** A bound peer to connect to; it never receives (the fault would break it too). */
async function peer(): Promise<string> {
  const socket = closeAfter(new zmq.Router({ linger: 0 }));
  await socket.bind(tcpEndpoint());
  return socket.lastEndpoint as string;
}

interface Failing {
  start(): Promise<unknown>;
  close(): Promise<void>;
  readonly closed: Promise<Error | undefined>;
  readonly state: string;
  on(type: "component:failed", fn: (e: { component: string; error: Error }) => void): () => void;
}

const echo = (m: Buffer[]): Buffer[] => m;
const components: Record<string, () => Promise<Failing>> = {
  LoadBalancingBroker: () =>
    Promise.resolve(new LoadBalancingBroker({ frontend: tcpEndpoint(), backend: tcpEndpoint() })),
  SimplePirateQueue: () =>
    Promise.resolve(new SimplePirateQueue({ frontend: tcpEndpoint(), backend: tcpEndpoint() })),
  PirateQueue: () =>
    Promise.resolve(new PirateQueue({ frontend: tcpEndpoint(), backend: tcpEndpoint() })),
  MajordomoBroker: () => Promise.resolve(new MajordomoBroker({ endpoints: tcpEndpoint() })),
  FreelanceServer: () => Promise.resolve(new FreelanceServer({ model: 2, handler: echo })),
  AsyncServer: () =>
    Promise.resolve(new AsyncServer({ handler: (req, ctx) => void ctx.reply(req) })),
  PirateWorker: async () => new PirateWorker({ queue: await peer(), handler: echo }),
  SimplePirateWorker: async () => new SimplePirateWorker({ queue: await peer(), handler: echo }),
  MajordomoWorker: async () =>
    new MajordomoWorker({ broker: await peer(), service: "echo", handler: echo }),
  LazyPirateClient: async () => new LazyPirateClient({ server: await peer() }),
  MajordomoClient: async () => new MajordomoClient({ broker: await peer() }),
  AsyncMajordomoClient: async () => new AsyncMajordomoClient({ broker: await peer() }),
  FreelanceClient: async () => new FreelanceClient({ model: 2, servers: [await peer()] }),
  AsyncClient: async () => new AsyncClient({ server: await peer() }),
  Titanic: async () => new Titanic({ broker: await peer(), directory: tempDir() }),
  BinaryStar: () =>
    Promise.resolve(
      new BinaryStar({
        role: "primary",
        state: tcpEndpoint(),
        peer: ipcEndpoint("bstar-peer"),
        frontend: { endpoints: tcpEndpoint(), handler: echo },
      }),
    ),
  BinaryStarClient: async () => new BinaryStarClient({ servers: [await peer(), await peer()] }),
};

describe.each(Object.entries(components))("%s whose socket's reader dies", (name, make) => {
  test("fails: component:failed once, closed carries the error, state closed", async () => {
    const fault = injectReceiveFault();
    onTestFinished(() => fault.restore());
    const component = await make();
    onTestFinished(() => component.close());
    const failed: { component: string; error: Error }[] = [];
    component.on("component:failed", (e) => failed.push(e));
    await component.start();
    const broken = fault.trigger();
    expect(broken, "precondition: the component has a pending receive").toBeGreaterThan(0);
    const error = await component.closed;
    expect(error).toMatchObject({ code: "ZG_SOCKET", message: "receive failed" });
    expect((error as Error).cause).toMatchObject({ code: "EFAULT" });
    expect(failed).toEqual([{ component: expect.any(String) as string, error }]);
    expect(component.state).toBe("closed");
    console.log(`${name}: 1 receive fault, ${broken} reader(s) broken, failed once`);
  });
});

describe("not running is ZG_STATE, thrown synchronously, in every client", () => {
  const clients = {
    LazyPirateClient: async () => {
      const c = new LazyPirateClient({ server: await peer() });
      return { c, call: () => c.request("x") };
    },
    MajordomoClient: async () => {
      const c = new MajordomoClient({ broker: await peer() });
      return { c, call: () => c.request("echo", ["x"]) };
    },
    AsyncMajordomoClient: async () => {
      const c = new AsyncMajordomoClient({ broker: await peer() });
      return { c, call: () => c.request("echo", ["x"]) };
    },
    FreelanceClient: async () => {
      const c = new FreelanceClient({ model: 2, servers: [await peer()] });
      return { c, call: () => c.request("x") };
    },
    AsyncClient: async () => {
      const c = new AsyncClient({ server: await peer() });
      return { c, call: () => c.send("x") };
    },
    BinaryStarClient: async () => {
      const c = new BinaryStarClient({ servers: [await peer(), await peer()] });
      return { c, call: () => c.request("x") };
    },
  };
  test.each(Object.entries(clients))("%s: before start() and after close()", async (_n, make) => {
    const { c, call } = await make();
    expect(call).toThrow(expect.objectContaining({ code: "ZG_STATE" }) as Error);
    await c.start();
    await c.close();
    expect(call).toThrow(
      expect.objectContaining({
        code: "ZG_STATE",
        details: expect.objectContaining({ state: "closed" }) as unknown,
      }) as Error,
    );
  });
});
