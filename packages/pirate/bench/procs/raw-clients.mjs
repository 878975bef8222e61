// <inFlight> raw zeromq.js MDP/0.1 DEALER clients, one request each at a time, for <ms> after a
// 300 ms warm-up; prints one JSON line { count, latencies } and exits.
// Usage: raw-clients.mjs <endpoint> <inFlight> <ms>
import * as zmq from "zeromq";

const [endpoint, inFlight, ms] = process.argv.slice(2);
const request = [Buffer.alloc(0), Buffer.from("MDPC01"), Buffer.from("echo"), Buffer.alloc(64, 7)];
const sockets = Array.from({ length: Number(inFlight) }, () => {
  const d = new zmq.Dealer({ linger: 0 });
  d.connect(endpoint);
  return d;
});
const latencies = [];
let count = 0;
const start = performance.now() + 300;
const end = start + Number(ms);
let marked = false;
await Promise.all(
  sockets.map(async (s) => {
    for (;;) {
      const t = performance.now();
      if (t >= end) return;
      if (t >= start && !marked) {
        marked = true;
        process.stdout.write("start\n");
      }
      await s.send(request);
      await s.receive();
      if (t >= start) {
        count++;
        latencies.push(performance.now() - t);
      }
    }
  }),
);
for (const s of sockets) s.close();
// Exit only once the (large) line is written: stdout is a pipe, so writes are asynchronous.
process.stdout.write(`${JSON.stringify({ count, latencies })}\n`, () => process.exit(0));
