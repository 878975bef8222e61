import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { LogBroker, LogPublisher, LogTail } from "../src/index.js";

const FIELDS = { order: 123456, user: "u-42", path: "/api/v1/checkout", ms: 12.5 };

/** A record of the same size as the publisher's, for the raw baseline. */
function sampleRecord(i: number): string {
  return JSON.stringify({
    src: "0123456789abcdef",
    seq: i + 1,
    level: "info",
    time: Date.now(),
    mono: performance.now(),
    app: "bench",
    host: "localhost",
    pid: process.pid,
    msg: `request ${i} served`,
    fields: FIELDS,
  });
}

/** Raw zeromq.js PUB → SUB, the same JSON records, records/s until the SUB has them all. */
export async function rawPubSub(n: number): Promise<number> {
  const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 0 });
  await pub.bind("tcp://127.0.0.1:*");
  const sub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 0 });
  sub.connect(pub.lastEndpoint ?? "");
  sub.subscribe("");
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  const sending = (async () => {
    for (let i = 0; i < n; i++) {
      await pub.send(["ZGLOG01/I/bench/", sampleRecord(i)]);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
  })();
  let got = 0;
  for await (const _ of sub) if (++got === n) break;
  const rate = n / ((performance.now() - t0) / 1000);
  await sending;
  sub.close();
  pub.close();
  return rate;
}

/** What the last {@link zgLog} run saw at the tail. */
export let lastRun = { delivered: 0, gaps: 0 };

/** LogPublisher → LogBroker (writing its files) → LogTail, records/s until the tail has them all. */
export async function zgLog(n: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "zg-log-bench-"));
  const broker = new LogBroker({ dir, endpoints: "tcp://127.0.0.1:*" });
  const {
    endpoints: [endpoint],
  } = await broker.start();
  const tail = new LogTail({ broker: endpoint ?? "" });
  await tail.start();
  await new Promise((r) => setTimeout(r, 200));
  const pub = new LogPublisher({ broker: endpoint ?? "", app: "bench", buffer: n + 1 });
  await pub.start();
  const t0 = performance.now();
  const logging = (async () => {
    for (let i = 0; i < n; i++) {
      pub.log("info", `request ${i} served`, FIELDS);
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
  })();
  let got = 0;
  for await (const { record } of tail.records()) {
    got++;
    if (record.bseq === n) break; // the last one (a slow tail would have gaps: counted below)
  }
  const rate = n / ((performance.now() - t0) / 1000);
  lastRun = { delivered: got / n, gaps: tail.stats().gaps };
  await logging;
  await pub.close();
  await tail.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}
