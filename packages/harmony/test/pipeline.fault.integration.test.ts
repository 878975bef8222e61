import { describe, expect, test } from "vitest";
import {
  checkHistory,
  closeAfter,
  FaultPlan,
  History,
  spawnChild,
  waitFor,
  type ChildHandle,
} from "@zg/testing";
import { HarmonyClient, HarmonyCollector, TASK_OVERHEAD } from "../src/index.js";

const workerModule = new URL("./fixtures/worker-child.ts", import.meta.url);
const collectorModule = new URL("./fixtures/collector-child.ts", import.meta.url);
const clientModule = new URL("./fixtures/client-child.ts", import.meta.url);
const HB = 100; // heartbeat interval of every link, ms (liveness 3: a dead worker is seen within 300 ms)
const CREDIT = 2048;

/** A batch of `size` tasks whose payload is the task's own id; the workers answer "r:" + id. */
function makeBatch(tag: string, size: number): Buffer[] {
  return Array.from({ length: size }, (_, i) => Buffer.from(`${tag}/${i}`));
}

/**
 * Runs one batch on `client` and writes the client's own record of it: `invoke` per task at
 * submit, `ok` per task number answered, `deliver` per task id found in a result. A result for
 * the wrong task shows up as unexpected/duplicated, a missing one as lost.
 */
async function runBatch(
  client: HarmonyClient,
  tag: string,
  size: number,
  history: History,
  plan?: FaultPlan,
) {
  const tasks = makeBatch(tag, size);
  for (const t of tasks) history.invoke(t.toString(), tag);
  try {
    const results = await client.submit(tasks, { timeout: 120_000 }).done;
    results.forEach((r, i) => {
      history.ok(`${tag}/${i}`, tag);
      const s = r.toString();
      history.deliver(s.startsWith("r:") ? s.slice(2) : `garbage:${s}`, tag);
    });
    return true;
  } catch (error) {
    plan?.fail();
    for (const t of tasks) history.fail(t.toString(), tag, String(error));
    return false;
  }
}

function verdict(history: History, expectedTasks: number) {
  const report = checkHistory(history);
  expect(report.lost.total, "results lost").toBe(0);
  expect(report.duplicated, "results duplicated").toEqual([]);
  expect(report.duplicateAcks, "tasks answered twice").toEqual([]);
  expect(report.unexpected, "results for tasks never submitted").toEqual([]);
  expect(report.acked).toBe(expectedTasks);
  return report;
}

describe("reliable pipeline under process faults", () => {
  test("4 workers, one kill -9'd and respawned after every 600 results, 3 clients × batches of 2000 tasks of 1 ms: every batch confirmed, 0 lost, 0 duplicated", async () => {
    const collector = closeAfter(new HarmonyCollector({ missingAfter: 300 }));
    const [sink] = (await collector.start()).endpoints;
    const clients = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const c = closeAfter(
          new HarmonyClient({ collector: sink!, clientId: `c${i}`, heartbeatInterval: HB }),
        );
        return { client: c, endpoints: (await c.start()).endpoints };
      }),
    );
    const clientEps = clients.flatMap((c) => c.endpoints).join(",");
    const workers: ChildHandle[] = [];
    for (let i = 0; i < 4; i++)
      workers.push(
        await spawnChild(workerModule, {
          args: [sink!, clientEps, "1", String(CREDIT), String(HB)],
          bundle: true,
        }),
      );
    const plan = new FaultPlan({
      name: "worker churn",
      minRequests: 12_000,
      minFaults: 8,
      maxDuration: 90_000,
    });
    const resultsSeen = () => clients.reduce((n, c) => n + c.client.stats().results, 0);
    const poll = setInterval(() => {
      for (let n = resultsSeen(); plan.acks < n;) plan.ack();
    }, 10);
    const history = new History();
    let batches = 0;
    const load = Promise.all(
      clients.map(async ({ client }, i) => {
        for (let b = 0; !plan.loadDone; b++)
          if (await runBatch(client, `c${i}-${b}`, 2000, history, plan)) batches++;
      }),
    );
    const faults = (async () => {
      while (!plan.loadDone) {
        await plan.untilAcks(plan.acks + 600);
        if (plan.loadDone) break;
        const victim = workers[plan.faults % workers.length]!;
        await victim.kill("SIGKILL");
        plan.fault();
        await victim.restart();
      }
    })();
    await Promise.all([load, faults]);
    clearInterval(poll);
    const report = verdict(history, batches * 2000);
    const lost = clients.reduce((n, c) => n + c.client.stats().workersLost, 0);
    const s = collector.stats();
    const tasks = batches * 2000;
    const executions = s.delivered + s.duplicates + s.orphans;
    const atRiskPerKill = 3 * Math.floor(CREDIT / (TASK_OVERHEAD + "c0-0/0".length));
    console.log(
      plan.summary(
        `${batches} batches confirmed, ${report.delivered} results, workers declared lost ${lost}, duplicate executions ${executions - tasks} (bound ${plan.faults} × ${atRiskPerKill})`,
      ),
    );
    plan.check();
    expect(plan.failures).toBe(0);
    expect(executions - tasks).toBeLessThanOrEqual(plan.faults * atRiskPerKill);
    for (const w of workers) await w.kill("SIGKILL");
  }, 120_000);

  test("SIGSTOP a worker holding tasks: they are done elsewhere within the liveness window; its late results are discarded", async () => {
    const collector = closeAfter(new HarmonyCollector({ missingAfter: 300 }));
    const [sink] = (await collector.start()).endpoints;
    const client = closeAfter(new HarmonyClient({ collector: sink!, heartbeatInterval: HB }));
    const { endpoints } = await client.start();
    const slow = await spawnChild(workerModule, {
      args: [sink!, endpoints.join(","), "20", "4096", String(HB)],
      bundle: true,
    });
    const other = await spawnChild(workerModule, {
      args: [sink!, endpoints.join(","), "20", "4096", String(HB)],
      bundle: true,
    });
    const lostAt: number[] = [];
    client.on("worker:lost", (e) => {
      lostAt.push(performance.now());
      expect(e.requeued).toBeGreaterThan(0);
    });
    const history = new History();
    const run = runBatch(client, "s", 400, history);
    await waitFor(() => client.stats().results >= 40, {
      timeout: 20_000,
      what: "40 results before the freeze",
    });
    const held = (await slow.call<{ held: number }>("stats")).held;
    expect(held, "precondition: the worker to freeze holds tasks").toBeGreaterThan(0);
    const stoppedAt = performance.now();
    slow.pause();
    expect(await run).toBe(true);
    verdict(history, 400);
    expect(lostAt.length).toBe(1);
    const detectedIn = lostAt[0]! - stoppedAt;
    // Liveness window: 3 × 100 ms, plus the sweep and a loaded machine's scheduling.
    expect(detectedIn).toBeLessThan(3 * HB * 4);
    const before = collector.stats();
    slow.resume();
    await waitFor(async () => (await slow.call<{ held: number }>("stats")).held === 0, {
      timeout: 20_000,
      what: "the thawed worker to run what it held",
    });
    await waitFor(
      () =>
        collector.stats().orphans + collector.stats().duplicates >
        before.orphans + before.duplicates,
      {
        timeout: 5000,
        what: "late results to reach the collector",
      },
    );
    console.log(
      `SIGSTOP: 1 freeze, ${held} tasks held, detected in ${Math.round(detectedIn)} ms, late results discarded ${collector.stats().orphans + collector.stats().duplicates - before.orphans - before.duplicates}`,
    );
    await slow.kill("SIGKILL");
    await other.kill("SIGKILL");
  }, 60_000);

  test("kill -9 the collector mid-batch and restart it, twice: batches still complete exactly once", async () => {
    const col = await spawnChild(collectorModule, { bundle: true });
    const sink = col.endpoints.collector as string;
    const client = closeAfter(
      new HarmonyClient({ collector: sink, heartbeatInterval: HB, resendTimeout: 2000 }),
    );
    const { endpoints } = await client.start();
    const workers = await Promise.all(
      [0, 1].map(() =>
        spawnChild(workerModule, {
          args: [sink, endpoints.join(","), "1", String(CREDIT), String(HB)],
          bundle: true,
        }),
      ),
    );
    const plan = new FaultPlan({
      name: "collector restart",
      faultNoun: "restart",
      minRequests: 6000,
      minFaults: 2,
      maxDuration: 90_000,
    });
    const poll = setInterval(() => {
      for (let n = client.stats().results; plan.acks < n;) plan.ack();
    }, 10);
    const history = new History();
    let batches = 0;
    const load = (async () => {
      for (let b = 0; !plan.loadDone; b++)
        if (await runBatch(client, `k${b}`, 2000, history, plan)) batches++;
    })();
    const faults = (async () => {
      while (plan.faults < 2 && !plan.loadDone) {
        await plan.untilAcks(plan.acks + 1000);
        if (plan.loadDone) break;
        await col.kill("SIGKILL");
        plan.fault();
        await col.restart([sink]); // same endpoint
      }
    })();
    await Promise.all([load, faults]);
    clearInterval(poll);
    const report = verdict(history, batches * 2000);
    const s = client.stats();
    console.log(
      plan.summary(
        `${batches} batches confirmed, ${report.delivered} results, collector restarts seen ${s.collectorRestarts}, tasks resent ${s.tasksResent}`,
      ),
    );
    plan.check();
    expect(plan.failures).toBe(0);
    expect(s.collectorRestarts).toBeGreaterThanOrEqual(1);
    for (const w of workers) await w.kill("SIGKILL");
    await col.kill("SIGKILL");
  }, 120_000);

  test("a client killed mid-batch: the collector frees that batch after its TTL", async () => {
    const collector = closeAfter(new HarmonyCollector({ batchTtl: 500 }));
    const [sink] = (await collector.start()).endpoints;
    const freed: string[] = [];
    collector.on("batch:freed", (e) => freed.push(e.reason));
    const child = await spawnChild(clientModule, { args: [sink!, "100000"], bundle: true });
    await waitFor(() => collector.stats().batches === 1, {
      timeout: 10_000,
      what: "the child's batch at the collector",
    });
    const held = collector.stats().stateBytes;
    expect(held).toBe(12_500); // one bit per task
    const killedAt = performance.now();
    await child.kill("SIGKILL");
    await waitFor(() => collector.stats().batches === 0, {
      timeout: 10_000,
      what: "the batch to be freed",
    });
    const after = collector.stats();
    console.log(
      `client kill: 1 kill, ${held} bytes of batch state freed ${Math.round(performance.now() - killedAt)} ms later (ttl 500 ms)`,
    );
    expect(after).toMatchObject({ stateBytes: 0, clients: 0, expired: 1 });
    expect(freed).toEqual(["expired"]);
  }, 30_000);
});
