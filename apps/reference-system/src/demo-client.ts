#!/usr/bin/env node
// The demo client of the reference system: light, steady traffic on four flows
// (MDP echo, MDP slow, PPP, Titanic), each a sequential loop with its own client.
// It finds the brokers by name through the ZNS agent (`--agent`), and takes its
// request periods from the Clone server (subtree config/demo/), applied live.
import { parseArgs } from "node:util";
import * as zmq from "zeromq";
import { sleep } from "@zg/core";
import { CloneClient } from "@zg/clone";
import { LazyPirateClient, MajordomoClient, TitanicClient } from "@zg/pirate";
import { cloneAddress, resolveNames } from "./by-name.js";
import {
  CLIENT_DEFAULTS,
  CLIENT_SETTINGS,
  CONFIG_PREFIX,
  MAX_PERIOD,
  MIN_PERIOD,
  isClientSetting,
  parseMs,
  type ClientSetting,
} from "./demo-config.js";
import { onStop, report, type FlowReport } from "./ipc.js";

zmq.context.blocky = false;

const { values } = parseArgs({
  options: {
    agent: { type: "string" },
    mdp: { type: "string", default: "majordomo" },
    titanic: { type: "string", default: "titanic" },
    ppp: { type: "string", default: "ppqueue-frontend" },
    clone: { type: "string", default: "clone" },
  },
});
if (values.agent === undefined) throw new Error("--agent: the ZNS agent's endpoint is required");

// The launcher seeds Clone with the same defaults; the snapshot then changes nothing.
const config: Record<ClientSetting, number> = { ...CLIENT_DEFAULTS };
const flows: Record<string, FlowReport> = {};
const stop = new AbortController();

async function loop(setting: ClientSetting, once: (n: number) => Promise<unknown>): Promise<void> {
  const flow: FlowReport = (flows[CLIENT_SETTINGS[setting]] = {
    ok: 0,
    failed: 0,
    latencies: [],
    lastError: undefined,
  });
  for (let n = 1; !stop.signal.aborted; n++) {
    const t0 = performance.now();
    try {
      await once(n);
      flow.ok += 1;
      flow.latencies.push(performance.now() - t0);
    } catch (error) {
      if (stop.signal.aborted) return;
      flow.failed += 1;
      flow.lastError = (error as Error).message;
    }
    // The period is read each turn: a change through Clone applies from the next request.
    await sleep(Math.max(0, config[setting] - (performance.now() - t0)), stop.signal).catch(
      () => undefined,
    );
  }
}

const names = await resolveNames(values.agent, [
  values.mdp,
  values.titanic,
  values.ppp,
  values.clone,
]);
const at = (name: string): string => names[name]?.[0] ?? "";

// Live configuration: every change under config/demo/ (and the snapshot's entries) is applied if valid.
const settings = new CloneClient({
  servers: cloneAddress(names[values.clone] ?? []),
  subtree: CONFIG_PREFIX,
});
settings.on("update:applied", ({ key, value }) => {
  const name = key.slice(CONFIG_PREFIX.length);
  if (!isClientSetting(name)) return;
  const text = value?.toString("utf8");
  const previous = config[name];
  const parsed = parseMs(text, MIN_PERIOD, MAX_PERIOD);
  if (!parsed.ok) {
    report({
      type: "config",
      key,
      value: text,
      applied: undefined,
      previous,
      rejected: parsed.reason,
    });
    return;
  }
  if (parsed.value === previous) return;
  config[name] = parsed.value;
  report({
    type: "config",
    key,
    value: text,
    applied: parsed.value,
    previous,
    rejected: undefined,
  });
});
await settings.start();

const closers: (() => Promise<void>)[] = [() => settings.close()];
const loops: Promise<void>[] = [];
const opts = { signal: stop.signal };

const echo = new MajordomoClient({ broker: at(values.mdp) });
const slow = new MajordomoClient({ broker: at(values.mdp) });
const titanic = new TitanicClient({ broker: at(values.titanic) });
const ppp = new LazyPirateClient({ server: at(values.ppp) });
for (const c of [echo, slow, titanic, ppp]) {
  await c.start();
  closers.push(() => c.close());
}
loops.push(loop("echo-period", (n) => echo.request("echo", [`hello ${n}`], opts)));
loops.push(loop("slow-period", (n) => slow.request("slow", [`slow ${n}`], opts)));
loops.push(
  loop("titanic-period", (n) =>
    titanic.request("echo", [`durable ${n}`], { ...opts, firstPoll: 100, maxPoll: 500 }),
  ),
);
loops.push(loop("ppp-period", (n) => ppp.request([`ppp ${n}`], opts)));

setInterval(() => {
  report({ type: "client", flows, config: { ...config } });
  for (const f of Object.values(flows)) {
    f.latencies = [];
    f.lastError = undefined;
  }
}, 1000).unref();

onStop(async () => {
  stop.abort();
  await Promise.allSettled(loops);
  for (const close of closers) await close();
});
report({ type: "ready" });
