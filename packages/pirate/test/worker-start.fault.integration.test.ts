import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  checkHistory,
  closeAfter,
  FaultPlan,
  History,
  spawnChild,
  tcpEndpoint,
  waitFor,
} from "@zg/testing";
import { MajordomoBroker, MajordomoClient } from "../src/index.js";

const WORKER = fileURLToPath(new URL("./fixtures/majordomo-worker.ts", import.meta.url));
const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };

describe("a Majordomo worker registering while requests wait", () => {
  // The broker hands a queued request to a worker as soon as its READY arrives, which can be
  // before the worker's start() has resolved (READY goes out in onStart). A worker that dropped
  // such a request stayed "busy" at the broker for good: every later request for the service
  // waited, then expired (this is what stalled a restarted Titanic). Here a worker process is
  // kill -9'd and restarted while four requests wait for it, RESTARTS times: the new process
  // must answer every one of them (one attempt each, so no retry can hide a dropped request).
  const RESTARTS = 20;
  const WAITING = 4;
  test(`${RESTARTS} restarts with ${WAITING} requests waiting: the new worker answers them all`, async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
    const ep = (await broker.start()).endpoints[0] as string;
    const clients = await Promise.all(
      Array.from({ length: WAITING }, async () => {
        const c = closeAfter(new MajordomoClient({ broker: ep, timeout: 10_000, attempts: 1 }));
        await c.start();
        return c;
      }),
    );
    const child = await spawnChild(WORKER, { args: [ep, "early"], bundle: true });
    const history = new History();
    const plan = new FaultPlan({
      name: "Majordomo worker start with requests waiting",
      minRequests: RESTARTS * WAITING,
      minFaults: RESTARTS,
      faultNoun: "restart",
      maxDuration: 120_000,
    });
    const waitedFor: number[] = [];
    for (let round = 0; !plan.loadDone; round++) {
      await child.kill("SIGKILL");
      await waitFor(() => (broker.stats().perService["early"]?.workers ?? 0) === 0, {
        timeout: 5000,
        what: "the killed worker removed by the broker",
      });
      const replies = clients.map(async (c, k) => {
        const id = `r${round}-${k}`;
        history.invoke(id, `client${k}`);
        try {
          const got = (await c.request("early", [id])).map(String);
          if (got.length === 1 && got[0] === id) {
            history.ok(id, `client${k}`);
            plan.ack();
          } else history.info(id, `client${k}`, `wrong reply ${JSON.stringify(got)}`);
        } catch (error) {
          history.fail(id, `client${k}`, (error as { code?: string }).code);
          plan.fail();
        }
      });
      // Progress, not time: every request is queued at the broker before the worker restarts.
      await waitFor(() => (broker.stats().perService["early"]?.queued ?? 0) >= WAITING, {
        timeout: 5000,
        what: `${WAITING} requests queued for the absent worker`,
      });
      const t = performance.now();
      await child.start();
      plan.fault();
      await Promise.all(replies);
      waitedFor.push(performance.now() - t);
    }
    const report = checkHistory(history, { delivered: "acks" });
    waitedFor.sort((a, b) => a - b);
    console.log(
      plan.summary(
        `restart-to-last-reply p50 ${waitedFor[waitedFor.length >> 1]?.toFixed(0)} ms, max ${waitedFor.at(-1)?.toFixed(0)} ms`,
      ),
    );
    plan.check();
    expect(report.failed).toBe(0);
    expect(report.acked).toBe(report.attempted);
    expect(report.duplicateAcks).toEqual([]);
    expect(history.events.filter((e) => e.kind === "info")).toEqual([]);
  }, 150_000);
});
