/**
 * @zg/core benchmark: the SocketLoop's overhead against a bare zeromq.js
 * send/receive loop, 16-byte messages, DEALER → DEALER over tcp loopback,
 * measured in the same run. Target: ≥ 0.95 of raw throughput.
 *
 * Run: pnpm --filter @zg/core bench
 */
import type * as zmq from "zeromq";
import { BenchSuite } from "@zg/testing/bench";
import { bindAll, createDealer, SocketLoop } from "../src/index.js";

const N = Number(process.env["ZG_BENCH_MESSAGES"] ?? 200_000);
const PAYLOAD = Buffer.alloc(16, 7);

async function pair(): Promise<[zmq.Dealer, zmq.Dealer]> {
  const a = createDealer({ linger: 0 });
  const b = createDealer({ linger: 0 });
  const [ep] = await bindAll(b, ["tcp://127.0.0.1:*"]);
  a.connect(ep as string);
  return [a, b];
}

async function raw(): Promise<number> {
  const [a, b] = await pair();
  const t0 = performance.now();
  const recv = (async () => {
    for (let i = 0; i < N; i++) await b.receive();
  })();
  for (let i = 0; i < N; i++) await a.send(PAYLOAD);
  await recv;
  const rate = N / ((performance.now() - t0) / 1000);
  a.close();
  b.close();
  return rate;
}

async function loop(mode: "send" | "post"): Promise<number> {
  const [a, b] = await pair();
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const rx = new SocketLoop(b, {
    onMessage: () => {
      if (++got === N) done();
    },
  }).start();
  const tx = new SocketLoop(a).start();
  const t0 = performance.now();
  const msg = [PAYLOAD];
  if (mode === "send") {
    for (let i = 0; i < N; i++) await tx.send(msg);
  } else {
    // A broker's pattern: post() without awaiting, flushing every 1000 so the bounded queue never overflows.
    for (let i = 0; i < N; i++) {
      tx.post(msg);
      if (i % 1000 === 999) await tx.flush();
    }
  }
  await finished;
  const rate = N / ((performance.now() - t0) / 1000);
  await tx.close();
  await rx.close();
  return rate;
}

const suite = new BenchSuite("@zg/core");
await suite.compare({
  name: `SocketLoop.send (awaited) vs bare send/receive, 16 B, tcp, ${N} msgs`,
  unit: "msg/s",
  baseline: raw,
  subject: () => loop("send"),
  target: 0.95,
  rounds: 9,
});
await suite.compare({
  name: `SocketLoop.post (broker style) vs bare send/receive, 16 B, tcp, ${N} msgs`,
  unit: "msg/s",
  baseline: raw,
  subject: () => loop("post"),
  target: 0.95,
  rounds: 9,
});
suite.finish();
