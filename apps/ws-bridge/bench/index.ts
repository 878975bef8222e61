/**
 * zg-ws-bridge benchmark: WebSocket request/reply (JSON framing) through the bridge to an MDP echo service,
 * against a direct `AsyncMajordomoClient` to the same broker and worker in the same run.
 * One request at a time for 2 s per round (round trips/s, p50/p99 ms), 3 alternating rounds.
 */
import WebSocket from "ws";
import * as zmq from "zeromq";
import { AsyncMajordomoClient, MajordomoBroker, MajordomoWorker } from "@zg/pirate";
import { percentiles } from "@zg/testing";
import { BenchSuite } from "@zg/testing/bench";
import { WsBridge } from "../src/ws-bridge.js";

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
const bridge = new WsBridge({ listen: "127.0.0.1:0", broker: endpoint });
const { url } = await bridge.start();
const ws = new WebSocket(url);
await new Promise<void>((r) => ws.once("open", () => r()));
let waiting: (() => void) | undefined;
ws.on("message", () => waiting?.());
const payload = "x".repeat(64);
let id = 0;
const overWs = (): Promise<void> =>
  new Promise<void>((resolve) => {
    waiting = resolve;
    ws.send(JSON.stringify({ id: ++id, type: "request", service: "echo", body: [payload] }));
  });
const directly = async (): Promise<void> => {
  await direct.request("echo", [payload]);
};

const suite = new BenchSuite("@zg/app-ws-bridge");
let last = { ws: { p50: 0, p99: 0 }, direct: { p50: 0, p99: 0 } };
await suite.compare({
  name: "WebSocket req/rep via zg-ws-bridge vs direct AsyncMajordomoClient (64 B, 1 in flight)",
  unit: "rt/s",
  rounds: 5,
  baseline: async () => {
    const r = await timed(directly);
    last = { ...last, direct: r };
    return r.rate;
  },
  subject: async () => {
    const r = await timed(overWs);
    last = { ...last, ws: r };
    return r.rate;
  },
  extra: () => ({
    "ws p50 ms": Number(last.ws.p50.toFixed(3)),
    "ws p99 ms": Number(last.ws.p99.toFixed(3)),
    "direct p50 ms": Number(last.direct.p50.toFixed(3)),
    "direct p99 ms": Number(last.direct.p99.toFixed(3)),
  }),
});
suite.finish();
ws.close();
await bridge.close();
await direct.close();
await worker.close();
await broker.close();
