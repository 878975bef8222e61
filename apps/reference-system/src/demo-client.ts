#!/usr/bin/env node
// The demo client of the reference system: light, steady traffic on four flows
// (MDP echo, MDP slow, PPP, Titanic), each a sequential loop with its own client.
import { parseArgs } from "node:util";
import * as zmq from "zeromq";
import { sleep } from "@zg/core";
import { LazyPirateClient, MajordomoClient, TitanicClient } from "@zg/pirate";
import { onStop, report, type FlowReport } from "./ipc.js";

zmq.context.blocky = false;

const { values } = parseArgs({
  options: {
    mdp: { type: "string" },
    ppp: { type: "string" },
    "echo-period": { type: "string", default: "100" },
    "slow-period": { type: "string", default: "500" },
    "ppp-period": { type: "string", default: "100" },
    "titanic-period": { type: "string", default: "3000" },
  },
});

const flows: Record<string, FlowReport> = {};
const stop = new AbortController();

async function loop(
  name: string,
  period: number,
  once: (n: number) => Promise<unknown>,
): Promise<void> {
  const flow: FlowReport = (flows[name] = {
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
    await sleep(Math.max(0, period - (performance.now() - t0)), stop.signal).catch(() => undefined);
  }
}

const closers: (() => Promise<void>)[] = [];
const loops: Promise<void>[] = [];
const opts = { signal: stop.signal };

if (values.mdp !== undefined) {
  const broker = values.mdp;
  const echo = new MajordomoClient({ broker });
  const slow = new MajordomoClient({ broker });
  const titanic = new TitanicClient({ broker });
  for (const c of [echo, slow, titanic]) {
    await c.start();
    closers.push(() => c.close());
  }
  loops.push(
    loop("mdp echo", Number(values["echo-period"]), (n) =>
      echo.request("echo", [`hello ${n}`], opts),
    ),
  );
  loops.push(
    loop("mdp slow", Number(values["slow-period"]), (n) =>
      slow.request("slow", [`slow ${n}`], opts),
    ),
  );
  loops.push(
    loop("titanic", Number(values["titanic-period"]), (n) =>
      titanic.request("echo", [`durable ${n}`], { ...opts, firstPoll: 100, maxPoll: 500 }),
    ),
  );
}
if (values.ppp !== undefined) {
  const ppp = new LazyPirateClient({ server: values.ppp });
  await ppp.start();
  closers.push(() => ppp.close());
  loops.push(loop("ppp", Number(values["ppp-period"]), (n) => ppp.request([`ppp ${n}`], opts)));
}

setInterval(() => {
  report({ type: "client", flows });
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
