import { describe, expect, onTestFinished, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, injectReceiveFault, tcpEndpoint } from "@zg/testing";
import { HeartbeatDealer, HeartbeatMonitor, HeartbeatRouter } from "../src/index.js";

// The fatal path by construction (Component owns/watches every loop): a reader
// that dies under a running component fails it: `component:failed` fires once,
// `closed` resolves with the error, and every socket and timer is released.

/** A bound peer socket to connect to (it never receives: the fault would break it too). */
async function peer(socket: zmq.Socket & { bind(e: string): Promise<void> }): Promise<string> {
  closeAfter(socket);
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

const components: Record<string, () => Promise<Failing>> = {
  HeartbeatRouter: () =>
    Promise.resolve(new HeartbeatRouter({ endpoints: tcpEndpoint(), interval: 100 })),
  HeartbeatDealer: async () =>
    new HeartbeatDealer({ router: await peer(new zmq.Router({ linger: 0 })), interval: 100 }),
  HeartbeatMonitor: async () =>
    new HeartbeatMonitor({
      publishers: await peer(new zmq.Publisher({ linger: 0 })),
      interval: 100,
    }),
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
    expect(failed).toEqual([{ component: name, error }]);
    expect(component.state).toBe("closed");
    console.log(`${name}: 1 receive fault, ${broken} reader(s) broken, failed once`);
  });
});
