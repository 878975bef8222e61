/**
 * zg-tcp-bridge benchmark: TCP line request/reply through the bridge to an MDP echo service,
 * against a direct `AsyncMajordomoClient` to the same broker and worker in the same run.
 * One request at a time for 2 s per round (round trips/s, p50/p99 ms), 3 alternating rounds.
 */
import { connect, createServer, type Socket } from "node:net";
import * as zmq from "zeromq";
import { AsyncMajordomoClient, MajordomoBroker, MajordomoWorker } from "@zg/pirate";
import { percentiles } from "@zg/testing";
import { BenchSuite } from "@zg/testing/bench";
import { TcpBridge } from "../src/tcp-bridge.js";

zmq.context.blocky = false;
const ROUND_MS = 2000;

async function timed(
  roundTrip: () => Promise<void>,
): Promise<{ rate: number; p50: number; p99: number }> {
  const samples: number[] = [];
  const end = performance.now() + ROUND_MS;
  while (performance.now() < end) {
    const t0 = performance.now();
    await roundTrip();
    samples.push(performance.now() - t0);
  }
  const p = percentiles(samples);
  return { rate: samples.length / (ROUND_MS / 1000), p50: p.p50, p99: p.p99 };
}

const broker = new MajordomoBroker({ endpoints: "tcp://127.0.0.1:*" });
const endpoint = (await broker.start()).endpoints[0] ?? "";
const worker = new MajordomoWorker({ broker: endpoint, service: "echo", handler: (b) => b });
await worker.start();
const direct = new AsyncMajordomoClient({ broker: endpoint });
await direct.start();
const bridge = new TcpBridge({ listen: "127.0.0.1:0", broker: endpoint, service: "echo" });
const { address } = await bridge.start();
const socket: Socket = connect(Number(address.split(":").pop()), "127.0.0.1");
socket.setNoDelay(true);
await new Promise<void>((r) => socket.once("connect", () => r()));
let waiting: (() => void) | undefined;
let partial = "";
socket.on("data", (d: Buffer) => {
  partial += d.toString();
  if (partial.endsWith("\n")) {
    partial = "";
    waiting?.();
  }
});
const payload = "x".repeat(64);
const overTcp = (): Promise<void> =>
  new Promise<void>((resolve) => {
    waiting = resolve;
    socket.write(`${payload}\n`);
  });
const directly = async (): Promise<void> => {
  await direct.request("echo", [payload]);
};

const suite = new BenchSuite("@zg/app-tcp-bridge");
let last = { tcp: { p50: 0, p99: 0 }, direct: { p50: 0, p99: 0 } };
await suite.compare({
  name: "TCP line req/rep via zg-tcp-bridge vs direct AsyncMajordomoClient (64 B, 1 in flight)",
  unit: "rt/s",
  rounds: 5,
  baseline: async () => {
    const r = await timed(directly);
    last = { ...last, direct: r };
    return r.rate;
  },
  subject: async () => {
    const r = await timed(overTcp);
    last = { ...last, tcp: r };
    return r.rate;
  },
  extra: () => ({
    "tcp p50 ms": Number(last.tcp.p50.toFixed(3)),
    "tcp p99 ms": Number(last.tcp.p99.toFixed(3)),
    "direct p50 ms": Number(last.direct.p50.toFixed(3)),
    "direct p99 ms": Number(last.direct.p99.toFixed(3)),
  }),
});

// Why node:net and not a zeromq.js Stream socket: the same line echo (no Majordomo) served by
// each, one node:net client, 1 in flight.
async function lineClient(port: number): Promise<{ rt: () => Promise<void>; close: () => void }> {
  const s = connect(port, "127.0.0.1");
  s.setNoDelay(true);
  await new Promise<void>((r) => s.once("connect", () => r()));
  let done: (() => void) | undefined;
  let buf = "";
  s.on("data", (d: Buffer) => {
    buf += d.toString();
    if (buf.endsWith("\n")) {
      buf = "";
      done?.();
    }
  });
  return {
    rt: () =>
      new Promise<void>((r) => {
        done = r;
        s.write(`${payload}\n`);
      }),
    close: () => s.destroy(),
  };
}
const netServer = createServer((c) => {
  c.setNoDelay(true);
  c.on("data", (d: Buffer) => c.write(d));
});
await new Promise<void>((r) => netServer.listen(0, "127.0.0.1", () => r()));
const stream = new zmq.Stream({ linger: 0 });
await stream.bind("tcp://127.0.0.1:*");
void (async () => {
  try {
    for await (const [id, data] of stream)
      if (id && data && data.length > 0) await stream.send([id, data]);
  } catch {
    // closed
  }
})();
const viaNet = await lineClient((netServer.address() as { port: number }).port);
const viaStream = await lineClient(Number(stream.lastEndpoint?.split(":").pop()));
await suite.compare({
  name: "raw line echo: zeromq.js Stream socket (subject) vs node:net server (baseline)",
  unit: "rt/s",
  rounds: 3,
  baseline: async () => (await timed(viaNet.rt)).rate,
  subject: async () => (await timed(viaStream.rt)).rate,
});
viaNet.close();
viaStream.close();
stream.close();
netServer.close();
suite.finish();
socket.destroy();
await bridge.close();
await direct.close();
await worker.close();
await broker.close();
