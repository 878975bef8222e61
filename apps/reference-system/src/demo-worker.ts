#!/usr/bin/env node
// A demo worker of the reference system: `--kind mdp|ppp`, `--service echo|slow`.
// The echo service answers at once; the slow one after `--delay` ms.
import { parseArgs } from "node:util";
import * as zmq from "zeromq";
import { sleep, type Frame } from "@zg/core";
import { HeartbeatDealer } from "@zg/heartbeat";
import { MajordomoWorker, PirateWorker } from "@zg/pirate";
import { onStop, report } from "./ipc.js";

zmq.context.blocky = false;

const { values } = parseArgs({
  options: {
    kind: { type: "string", default: "mdp" },
    service: { type: "string", default: "echo" },
    endpoint: { type: "string" },
    "heartbeat-interval": { type: "string", default: "1000" },
    delay: { type: "string", default: "200" },
    presence: { type: "string" },
    "presence-interval": { type: "string", default: "300" },
    name: { type: "string" },
  },
});
const endpoint = values.endpoint ?? "tcp://127.0.0.1:5555";
const heartbeatInterval = Number(values["heartbeat-interval"]);
const delay = values.service === "slow" ? Number(values.delay) : 0;
const handle = async (request: Frame[]): Promise<Frame[]> => {
  if (delay > 0) await sleep(delay);
  return request;
};

// Presence ("robots come and go"): the console's HeartbeatRouter sees this
// process join, expire when it is killed, and return (same routing id) when
// restarted. Its interval (300 ms × liveness 3) is short enough that a worker
// killed and restarted 1.5 s later is seen to expire first.
const presence =
  values.presence === undefined
    ? undefined
    : new HeartbeatDealer({
        router: values.presence,
        interval: Number(values["presence-interval"]),
        ...(values.name === undefined ? {} : { routingId: values.name }),
      });
await presence?.start();
const closePresence = async (): Promise<void> => {
  await presence?.close();
};

if (values.kind === "ppp") {
  const worker = new PirateWorker({
    queue: endpoint,
    heartbeatInterval,
    handler: (m) => handle(m),
  });
  let connects = 0;
  worker.on("queue:connected", () => {
    connects += 1;
  });
  await worker.start();
  onStop(async () => {
    await worker.close();
    await closePresence();
  });
  setInterval(() => {
    const s = worker.stats();
    report({ type: "worker", handled: s.replies, heartbeatsSent: s.heartbeatsSent, connects });
  }, 1000).unref();
} else {
  const worker = new MajordomoWorker({
    broker: endpoint,
    service: values.service ?? "echo",
    heartbeatInterval,
    handler: (m) => handle(m),
  });
  await worker.start();
  onStop(async () => {
    await worker.close();
    await closePresence();
  });
  setInterval(() => {
    const s = worker.stats();
    report({
      type: "worker",
      handled: s.handled,
      heartbeatsSent: s.heartbeatsSent,
      connects: s.connects,
    });
  }, 1000).unref();
}
report({ type: "ready" });
