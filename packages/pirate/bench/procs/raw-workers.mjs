// N raw zeromq.js MDP/0.1 echo workers in one process (READY, then echo every request; they answer
// the broker's HEARTBEATs so a heartbeating broker keeps them). Usage: raw-workers.mjs <endpoint> <n>
import * as zmq from "zeromq";

const [endpoint, n] = process.argv.slice(2);
const E = Buffer.alloc(0);
const W01 = Buffer.from("MDPW01");
const FINAL = Buffer.from([3]);
const HEARTBEAT = Buffer.from([4]);
for (let i = 0; i < Number(n); i++) {
  const d = new zmq.Dealer({ linger: 0 });
  d.connect(endpoint);
  void (async () => {
    await d.send([E, W01, Buffer.from([1]), Buffer.from("echo")]);
    const beat = setInterval(() => void d.send([E, W01, HEARTBEAT]).catch(() => {}), 2500);
    try {
      for await (const m of d) {
        if (m[2]?.[0] === 2) await d.send([E, W01, FINAL, m[3], E, ...m.slice(5)]);
      }
    } finally {
      clearInterval(beat);
    }
  })();
}
process.stdout.write("ready\n");
