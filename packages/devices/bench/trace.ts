import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { SocketLoop } from "@zg/core";
import { TraceProxy } from "../src/index.js";

const PAYLOAD = Buffer.alloc(64, 7);
const YIELD_EVERY = 1000;

/** Sends `n` messages from a PUSH connected to `to` and times until a PULL bound at `sink` has them all; msg/s. */
async function stream(n: number, connectTo: string, sink: zmq.Pull): Promise<number> {
  const push = new zmq.Push({ linger: 0 });
  push.connect(connectTo);
  const t0 = performance.now();
  const sending = (async () => {
    for (let i = 0; i < n; i++) {
      await push.send(PAYLOAD);
      if (i % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
    }
  })();
  let got = 0;
  for await (const _ of sink) if (++got === n) break;
  const rate = n / ((performance.now() - t0) / 1000);
  await sending;
  push.close();
  return rate;
}

async function sinkSocket(): Promise<zmq.Pull> {
  const pull = new zmq.Pull({ linger: 0 });
  await pull.bind("tcp://127.0.0.1:*");
  return pull;
}

/** Raw zeromq.js PUSH → PULL, no proxy. */
export async function direct(n: number): Promise<number> {
  const pull = await sinkSocket();
  const rate = await stream(n, pull.lastEndpoint ?? "", pull);
  pull.close();
  return rate;
}

/** PUSH → [PULL → SocketLoop → PUSH] → PULL: a bare socket-loop relay, nothing captured. */
export async function bareRelay(n: number): Promise<number> {
  const pull = await sinkSocket();
  const inbound = new zmq.Pull({ linger: 0 });
  await inbound.bind("tcp://127.0.0.1:*");
  const outbound = new zmq.Push({ linger: 0 });
  outbound.connect(pull.lastEndpoint ?? "");
  const out = new SocketLoop(outbound);
  let k = 0;
  // The same backpressure rule as TraceProxy: a full writer pauses the reader.
  const inLoop = new SocketLoop(inbound, {
    onMessage: (m) => {
      out.post(m);
      if ((++k & 63) === 0 && out.stats().queued >= 1000) return out.flush();
      return undefined;
    },
  }).start();
  out.start();
  const rate = await stream(n, inbound.lastEndpoint ?? "", pull);
  await inLoop.close();
  await out.close();
  pull.close();
  return rate;
}

/** The same through a pull-push `TraceProxy`, capture off or on (JSONL + dump to files). */
export async function traced(
  n: number,
  capture: boolean,
): Promise<{ rate: number; dropped: number }> {
  const pull = await sinkSocket();
  const dir = mkdtempSync(join(tmpdir(), "zg-trace-bench-"));
  const jsonl = capture ? createWriteStream(join(dir, "c.jsonl")) : undefined;
  const dump = capture ? createWriteStream(join(dir, "c.txt")) : undefined;
  const proxy = new TraceProxy({
    mode: "pull-push",
    frontend: "tcp://127.0.0.1:*",
    backend: pull.lastEndpoint ?? "",
    ...(jsonl === undefined ? {} : { jsonl }),
    ...(dump === undefined ? {} : { dump }),
  });
  const { frontend } = await proxy.start();
  const rate = await stream(n, frontend[0] ?? "", pull);
  const s = proxy.stats();
  await proxy.close();
  jsonl?.end();
  dump?.end();
  pull.close();
  rmSync(dir, { recursive: true, force: true });
  return { rate, dropped: (s.jsonl?.dropped ?? 0) + (s.dump?.dropped ?? 0) };
}
