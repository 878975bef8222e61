import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  checkHistory,
  closeAfter,
  FaultPlan,
  History,
  ipcEndpoint,
  spawnChild,
  tcpEndpoint,
  waitFor,
  type ChildHandle,
} from "@zg/testing";
import {
  AsyncMajordomoClient,
  MajordomoBroker,
  MajordomoClient,
  MajordomoWorker,
  type MajordomoBrokerStats,
} from "../src/index.js";

const WORKER = fileURLToPath(new URL("./fixtures/majordomo-worker.ts", import.meta.url));
const BROKER = fileURLToPath(new URL("./fixtures/majordomo-broker.ts", import.meta.url));
const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };

/**
 * Runs requests from `clients` sync clients (ids `c<k>-<n>`), recording a History and the
 * plan's progress, until the plan says the load is done.
 */
async function drive(
  ep: string,
  clients: number,
  history: History,
  plan: FaultPlan,
): Promise<void> {
  await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      const c = closeAfter(new MajordomoClient({ broker: ep, timeout: 600, attempts: 50 }));
      await c.start();
      for (let n = 0; !plan.loadDone; n++) {
        const id = `c${k}-${n}`;
        history.invoke(id, `client${k}`);
        try {
          const reply = await c.request("echo", [id]);
          const got = reply.map((f) => f.toString());
          if (got.length === 1 && got[0] === id) {
            history.ok(id, `client${k}`);
            plan.ack();
          } else history.info(id, `client${k}`, `wrong reply ${JSON.stringify(got)}`);
        } catch (error) {
          history.fail(id, `client${k}`, (error as { code?: string }).code);
          plan.fail();
        }
      }
    }),
  );
}

describe("Majordomo faults (real processes)", () => {
  // B2: 4 workers, one kill -9'd every 500 ms and respawned; 8 clients. The beat is the point of
  // the test, so the load runs until it has seen both 10 000 answered requests (the figure)
  // and 5 kills, however fast the machine answers.
  test("worker churn (a kill every 500 ms): ≥ 10 000 requests across ≥ 5 kills, 0 lost, 0 duplicated", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
    const ep = (await broker.start()).endpoints[0] as string;
    const workers: ChildHandle[] = await Promise.all(
      Array.from({ length: 4 }, () => spawnChild(WORKER, { args: [ep, "echo"] })),
    );
    await waitFor(() => broker.stats().perService["echo"]?.workers === 4, { what: "4 workers" });
    const history = new History();
    const plan = new FaultPlan({
      name: "Majordomo worker churn",
      minRequests: 10_000,
      minFaults: 5,
      maxDuration: 70_000,
    });
    const respawns: Promise<unknown>[] = [];
    const ready = new Set(workers);
    const churn = (async () => {
      while (!plan.loadDone) {
        await new Promise((r) => setTimeout(r, 500));
        if (plan.loadDone) break;
        // Kill on a fixed 500 ms beat; the respawn (about 0.4 s) runs in the background.
        const up = workers.filter((w) => ready.has(w));
        const victim = up[Math.floor(Math.random() * up.length)];
        if (victim === undefined) continue;
        ready.delete(victim);
        await victim.kill("SIGKILL");
        plan.fault();
        respawns.push(victim.start().then(() => ready.add(victim)));
      }
    })();
    await drive(ep, 8, history, plan);
    await churn;
    await Promise.all(respawns);
    const report = checkHistory(history, { delivered: "acks" });
    const stats: MajordomoBrokerStats = broker.stats();
    console.log(
      plan.summary(
        `requeued ${stats.requeued}, expired workers ${stats.workersExpired}, p99 ${report.latency.p99.toFixed(1)} ms`,
      ),
    );
    plan.check();
    expect(report.attempted).toBeGreaterThanOrEqual(10_000);
    expect(report.failed).toBe(0);
    expect(report.acked).toBe(report.attempted);
    expect(report.lost.total).toBe(0);
    expect(report.duplicateAcks).toEqual([]);
    expect(history.events.filter((e) => e.kind === "info")).toEqual([]); // no reply ever went to the wrong request
    // No dead worker stays registered: 4 live ones once the churn stops.
    await waitFor(() => broker.stats().perService["echo"]?.workers === 4, {
      timeout: 2000,
      what: "4 live workers after churn",
    });
  }, 90_000);

  // B6/A4: a worker frozen mid-request (SIGSTOP) is expired, its request re-queued to
  // another worker; after SIGCONT its late reply is refused (DISCONNECT) and never
  // reaches the client; the worker then registers again.
  test("a frozen worker's late reply is dropped after reassignment; it re-registers on resume", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
    const ep = (await broker.start()).endpoints[0] as string;
    const frozen = await spawnChild(WORKER, {
      args: [ep, "echo", "MDP/0.1", "100", "500", "late"],
    });
    await waitFor(() => broker.stats().perService["echo"]?.workers === 1);
    await closeAfter(
      new MajordomoWorker({
        broker: ep,
        service: "echo",
        handler: (r) => [Buffer.from("fresh"), ...r],
        ...HB,
      }),
    ).start();
    await waitFor(() => broker.stats().perService["echo"]?.workers === 2);
    const client = closeAfter(new AsyncMajordomoClient({ broker: ep, timeout: 5000 }));
    await client.start();
    const reply = client.request("echo", ["job"]); // the frozen worker has waited longest: it gets the job
    await frozen.waitForEvent("request");
    frozen.pause();
    expect((await reply).map(String)).toEqual(["fresh", "job"]);
    expect(broker.stats()).toMatchObject({ requeued: 1 });
    frozen.resume();
    await waitFor(() => broker.stats().disconnects >= 1, {
      timeout: 3000,
      what: "late reply refused with DISCONNECT",
    });
    await waitFor(() => broker.stats().perService["echo"]?.workers === 2, {
      timeout: 3000,
      what: "frozen worker registered again",
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(client.stats()).toMatchObject({ replies: 1, unmatched: 0 });
    expect(broker.stats().perService["echo"]?.served).toBe(1);
  });

  // B3: the broker is kill -9'd and restarted on the same endpoint; clients retry, workers re-register.
  test("broker killed and restarted: clients retry, workers re-register in time, 0 lost", async () => {
    const ep = ipcEndpoint("mdp-broker");
    const broker = await spawnChild(BROKER, { args: [ep, "100"] });
    const workers = await Promise.all(
      [0, 1].map(async () => {
        const w = closeAfter(
          new MajordomoWorker({
            broker: ep,
            service: "echo",
            handler: (r) => r,
            ...HB,
            reconnectDelay: 100,
            reconnectMaxDelay: 800,
          }),
        );
        await w.start();
        return w;
      }),
    );
    const registered = async (): Promise<boolean> =>
      (await broker.call<MajordomoBrokerStats>("stats")).perService["echo"]?.workers === 2;
    await waitFor(registered, { what: "workers registered" });
    // Four kill -9 + restarts, each after another 300 answered requests (progress, not time); the
    // load then runs until 300 more are answered after the last restart, whatever the machine's speed.
    const RESTARTS = 4;
    const EVERY = 300;
    const history = new History();
    const plan = new FaultPlan({
      name: "Majordomo broker restarts",
      minRequests: EVERY,
      minFaults: RESTARTS,
      faultNoun: "restart",
      maxDuration: 45_000,
    });
    const traffic = drive(ep, 4, history, plan);
    const reRegister: number[] = [];
    for (let i = 0; i < RESTARTS && !plan.loadDone; i++) {
      await plan.untilAcks(plan.acks + EVERY);
      if (plan.loadDone) break;
      await broker.kill("SIGKILL");
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 100)); // restart within 200 ms
      await broker.start();
      plan.requireAcks(plan.acks + EVERY);
      plan.fault();
      const t0 = performance.now();
      await waitFor(registered, { timeout: 5000, interval: 20, what: "workers re-registered" });
      reRegister.push(performance.now() - t0);
    }
    await traffic;
    const report = checkHistory(history, { delivered: "acks" });
    console.log(
      plan.summary(
        `re-registration ms ${reRegister.map((x) => x.toFixed(0)).join(", ")}, p99 ${report.latency.p99.toFixed(0)} ms`,
      ),
    );
    plan.check();
    expect(report.failed).toBe(0);
    expect(report.acked).toBe(report.attempted);
    expect(report.lost.total).toBe(0);
    expect(report.duplicateAcks).toEqual([]);
    expect(history.events.filter((e) => e.kind === "info")).toEqual([]);
    // L·I (300 ms) + the largest back-off step (800 ms), plus 400 ms for a noisy shared machine.
    for (const t of reRegister) expect(t).toBeLessThan(300 + 800 + 400);
    expect(workers.every((w) => w.stats().connects >= 2)).toBe(true);
  }, 60_000);
});
