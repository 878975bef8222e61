// The thinnest possible zeromq.js MDP/0.1 relay, as its own process: one ROUTER, MDP frames both
// ways, one request per worker at a time, no heartbeats, no validation, no stats. Prints its
// endpoint on stdout, runs until killed.
import * as zmq from "zeromq";

const router = new zmq.Router({ linger: 0 });
await router.bind("tcp://127.0.0.1:*");
process.stdout.write(`${router.lastEndpoint}\n`);
const E = Buffer.alloc(0);
const W01 = Buffer.from("MDPW01");
const C01 = Buffer.from("MDPC01");
const REQUEST = Buffer.from([2]);
const SERVICE = Buffer.from("echo");
const idle = [];
const waiting = [];
for await (const m of router) {
  const id = m[0];
  if (m[2].equals(C01)) waiting.push([id, ...m.slice(4)]);
  else if (m[3][0] === 1) idle.push(id);
  else {
    await router.send([m[4], E, C01, SERVICE, ...m.slice(6)]);
    idle.push(id);
  }
  while (idle.length > 0 && waiting.length > 0) {
    const w = idle.shift();
    const [client, ...body] = waiting.shift();
    await router.send([w, E, W01, REQUEST, client, E, ...body]);
  }
}
