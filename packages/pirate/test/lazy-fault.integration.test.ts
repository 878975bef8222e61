import { expect, test } from "vitest";
import { checkHistory, closeAfter, delay, History, spawnChild } from "@zg/testing";
import { isZgError } from "@zg/core";
import { LazyPirateClient } from "../src/index.js";

const REQUESTS = 2000;

test(`Lazy Pirate: server kill -9'd and restarted every 2 s while a client sends ${REQUESTS} requests (timeout 250 ms, 3 retries)`, async () => {
  const server = await spawnChild(new URL("./fixtures/echo-server-child.ts", import.meta.url));
  const endpoint = server.endpoints["endpoint"] as string;
  const client = closeAfter(new LazyPirateClient({ endpoint, timeout: 250, retries: 3 }));
  await client.start();
  const history = new History();
  let mismatched = 0;
  let untyped = 0;
  let kills = 0;
  let running = true;
  const chaos = (async () => {
    await delay(1000); // first kill 1 s in, then one kill every 2 s (each down ≥ 300 ms, plus the restart time)
    while (running) {
      if (!running) break;
      await server.kill("SIGKILL");
      kills++;
      await delay(300);
      await server.start([endpoint]); // same endpoint, as a restarted server would
      await delay(2000 - 300);
    }
  })();
  try {
    for (let i = 0; i < REQUESTS; i++) {
      const id = `r${i}`;
      await delay(2); // pace: the run spans several kill/restart cycles
      history.invoke(id);
      try {
        const [reply] = await client.request(id);
        const got = reply?.toString() ?? "";
        if (got !== id) mismatched++;
        history.ok(got);
      } catch (error) {
        if (isZgError(error, "ZG_RETRIES_EXHAUSTED"))
          history.fail(id, "client", "ZG_RETRIES_EXHAUSTED");
        else untyped++;
      }
    }
  } finally {
    running = false;
    await chaos;
  }
  const report = checkHistory(history, { delivered: "acks" });
  console.log(
    `lazy pirate chaos: ${kills} kills, ${report.acked} answered, ${report.failed} typed failures, p99 ${report.latency.p99.toFixed(1)} ms, stale discarded ${client.stats().staleReplies}`,
  );
  expect(kills).toBeGreaterThanOrEqual(2);
  expect(mismatched).toBe(0); // 0 replies matched to the wrong request
  expect(untyped).toBe(0);
  expect(report.unexpected).toEqual([]);
  expect(report.duplicateAcks).toEqual([]);
  expect(report.acked + report.failed).toBe(REQUESTS); // every request answered or rejected with the typed error
  expect(report.acked).toBeGreaterThan(REQUESTS / 2);
}, 60_000);
