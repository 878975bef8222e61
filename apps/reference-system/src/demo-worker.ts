#!/usr/bin/env node
// A demo worker of the reference system: `--kind mdp|ppp`, `--service echo|slow`.
// The echo service answers at once; the slow one after `--delay` ms. It finds its
// broker (`--broker NAME`) and the console's presence router (`--presence NAME`)
// by name through the ZNS agent (`--agent`), again on every restart.
import { parseArgs } from "node:util";
import * as zmq from "zeromq";
import { sleep, type Frame } from "@zg/core";
import { HeartbeatDealer } from "@zg/heartbeat";
import { CloneClient } from "@zg/clone";
import { MajordomoWorker, PirateWorker } from "@zg/pirate";
import { resolveNames } from "./by-name.js";
import { CONFIG_PREFIX, MAX_PERIOD, parseMs } from "./demo-config.js";
import { onStop, report } from "./ipc.js";

zmq.context.blocky = false;

const { values } = parseArgs({
  options: {
    kind: { type: "string", default: "mdp" },
    service: { type: "string", default: "echo" },
    agent: { type: "string" },
    broker: { type: "string", default: "majordomo" },
    "heartbeat-interval": { type: "string", default: "1000" },
    delay: { type: "string", default: "200" },
    presence: { type: "string" },
    "presence-interval": { type: "string", default: "300" },
    name: { type: "string" },
    config: { type: "string" },
  },
});
if (values.agent === undefined) throw new Error("--agent: the ZNS agent's endpoint is required");
const names = await resolveNames(values.agent, [
  values.broker,
  ...(values.presence === undefined ? [] : [values.presence]),
]);
const endpoint = names[values.broker]?.[0] ?? "";
const presenceEndpoints = values.presence === undefined ? undefined : names[values.presence];
const heartbeatInterval = Number(values["heartbeat-interval"]);
let delay = values.service === "slow" ? Number(values.delay) : 0;

// Live configuration (Clone, Guide ch. 5): the slow service's delay follows
// config/demo/slow-delay (a bad value is reported and ignored, never applied).
const SLOW_DELAY_KEY = `${CONFIG_PREFIX}slow-delay`;
let config: CloneClient | undefined;
if (values.config !== undefined && values.service === "slow") {
  const [snapshot = "", publisher = "", collector = ""] = values.config.split(",");
  const live = (config = new CloneClient({
    servers: { snapshot, publisher, collector },
    subtree: CONFIG_PREFIX,
  }));
  const apply = (value: Buffer | undefined): void => {
    if (value === undefined) return;
    const text = value.toString("utf8");
    const previous = delay;
    const parsed = parseMs(text, 0, MAX_PERIOD);
    if (parsed.ok) delay = parsed.value;
    report({
      type: "config",
      key: SLOW_DELAY_KEY,
      value: text,
      applied: parsed.ok ? parsed.value : undefined,
      previous,
      rejected: parsed.ok ? undefined : parsed.reason,
    });
  };
  live.on("update:applied", (c) => {
    if (c.key === SLOW_DELAY_KEY) apply(c.value);
  });
  live.on("snapshot:applied", () => apply(live.get(SLOW_DELAY_KEY)));
  await live.start();
}
const closeConfig = async (): Promise<void> => {
  await config?.close();
};
const handle = async (request: Frame[]): Promise<Frame[]> => {
  if (delay > 0) await sleep(delay);
  return request;
};

// Presence ("robots come and go"): the console's HeartbeatRouter sees this
// process join, expire when it is killed, and return (same routing id) when
// restarted. Its interval (300 ms × liveness 3) is short enough that a worker
// killed and restarted 1.5 s later is seen to expire first.
const presence =
  presenceEndpoints === undefined
    ? undefined
    : new HeartbeatDealer({
        router: presenceEndpoints,
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
    await closeConfig();
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
    await closeConfig();
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
