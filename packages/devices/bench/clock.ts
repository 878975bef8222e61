import * as zmq from "zeromq";
import { ClockClient, ClockDevice } from "../src/index.js";

/** What one clock run measured from the subscriber's side. */
export interface ClockRun {
  /** |receipt − (origin + n·P)| of the last tick, ms: the accumulated schedule error. */
  endError: number;
  /** 99th percentile of the per-tick schedule error, ms. */
  p99: number;
  ticks: number;
}

function summarize(errors: number[]): ClockRun {
  const s = [...errors].sort((a, b) => a - b);
  return {
    endError: Math.abs(errors.at(-1) ?? 0),
    p99: s[Math.floor(s.length * 0.99)] ?? 0,
    ticks: errors.length,
  };
}

/**
 * Raw zeromq.js: a PUB that sends a tick from `setInterval(P)` (the "now + P"
 * schedule) to a SUB in the same process; the subscriber computes each tick's
 * error against origin + n·P (wall clock, as the device's `scheduled`).
 */
export async function rawIntervalClock(period: number, count: number): Promise<ClockRun> {
  const pub = new zmq.Publisher({ linger: 0 });
  await pub.bind("tcp://127.0.0.1:*");
  const sub = new zmq.Subscriber({ linger: 0 });
  sub.connect(pub.lastEndpoint ?? "");
  sub.subscribe("t");
  await new Promise((r) => setTimeout(r, 100)); // the subscription reaches the PUB
  const origin = Date.now();
  let n = 0;
  const timer = setInterval(() => {
    void pub.send(["t", String(n++)]).catch(() => {});
  }, period);
  const errors: number[] = [];
  for await (const [, body] of sub) {
    errors.push(Date.now() - (origin + (Number(String(body)) + 1) * period));
    if (errors.length >= count) break;
  }
  clearInterval(timer);
  sub.close();
  pub.close();
  return summarize(errors);
}

/** ClockDevice → ClockClient, same process, same period and count. */
export async function zgClock(period: number, count: number): Promise<ClockRun> {
  const device = new ClockDevice({ endpoints: "tcp://127.0.0.1:*", resolutions: [period] });
  const {
    endpoints: [endpoint],
  } = await device.start();
  const client = new ClockClient({ device: endpoint ?? "" });
  await client.start();
  const errors: number[] = [];
  for await (const t of client.ticks(period)) {
    errors.push(t.receivedWall - t.scheduled); // scheduled = the device's wall origin + n·P
    if (errors.length >= count) break;
  }
  await client.close();
  await device.close();
  return summarize(errors);
}
