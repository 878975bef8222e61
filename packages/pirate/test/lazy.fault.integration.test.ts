import { expect, test } from "vitest";
import { checkHistory, closeAfter, delay, FaultPlan, History, spawnChild } from "@zg/testing";
import { isZgError } from "@zg/core";
import { LazyPirateClient } from "../src/index.js";

const EVERY = 400; // answered requests between two kills
const KILLS = 3;

// The schedule follows the client's progress, not the clock: the server is kill -9'd after every
// EVERY answered requests, stays down 300 ms (longer than one request timeout) and is restarted on
// the same endpoint; the load runs until KILLS kills have happened and EVERY more requests were
// answered after the last one, however fast the machine is.
test(`Lazy Pirate: server kill -9'd and restarted after every ${EVERY} answered requests (${KILLS} times; timeout 250 ms, 3 attempts)`, async () => {
  const server = await spawnChild(new URL("./fixtures/echo-server-child.ts", import.meta.url));
  const endpoint = server.endpoints["endpoint"] as string;
  const client = closeAfter(new LazyPirateClient({ server: endpoint, timeout: 250, attempts: 3 }));
  await client.start();
  const history = new History();
  const plan = new FaultPlan({
    name: "Lazy Pirate server restarts",
    minRequests: EVERY,
    minFaults: KILLS,
    maxDuration: 45_000,
  });
  let mismatched = 0;
  let untyped = 0;
  const chaos = (async () => {
    for (let k = 0; k < KILLS; k++) {
      await plan.untilAcks(plan.acks + EVERY);
      if (plan.loadDone) return;
      await server.kill("SIGKILL");
      await delay(300);
      await server.start([endpoint]); // same endpoint, as a restarted server would
      plan.requireAcks(plan.acks + EVERY);
      plan.fault();
    }
  })();
  try {
    for (let i = 0; !plan.loadDone; i++) {
      const id = `r${i}`;
      history.invoke(id);
      try {
        const [reply] = await client.request(id);
        const got = reply?.toString() ?? "";
        if (got !== id) mismatched++;
        history.ok(got);
        plan.ack();
      } catch (error) {
        if (isZgError(error, "ZG_RETRIES_EXHAUSTED"))
          history.fail(id, "client", "ZG_RETRIES_EXHAUSTED");
        else untyped++;
        plan.fail();
      }
    }
  } finally {
    plan.stop();
    await chaos;
  }
  const report = checkHistory(history, { delivered: "acks" });
  console.log(
    plan.summary(
      `p99 ${report.latency.p99.toFixed(1)} ms, stale discarded ${client.stats().staleReplies}`,
    ),
  );
  plan.check();
  expect(mismatched).toBe(0); // 0 replies matched to the wrong request
  expect(untyped).toBe(0);
  expect(report.unexpected).toEqual([]);
  expect(report.duplicateAcks).toEqual([]);
  expect(report.acked + report.failed).toBe(report.attempted); // every request answered or rejected with the typed error
  expect(report.acked).toBeGreaterThan(report.attempted / 2);
}, 60_000);
