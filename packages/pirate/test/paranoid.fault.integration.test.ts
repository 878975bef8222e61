import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isZgError } from "@zg/core";
import {
  checkHistory,
  closeAfter,
  delay,
  FaultPlan,
  History,
  spawnChild,
  tempDir,
  waitFor,
  type ChildHandle,
} from "@zg/testing";
import { LazyPirateClient, PirateQueue, PirateWorker } from "../src/index.js";

const I = 100;
const L = 3;
const TICK = 10;
const JITTER = 0.1 * L * I; // reliability-battery.md §2.2 allowance
const queueModule = new URL("./fixtures/pirate-queue-child.ts", import.meta.url);
const workerModule = new URL("./fixtures/pirate-worker-child.ts", import.meta.url);

/** `n` Lazy Pirate clients send `r<i>` requests until the plan's load is done. */
async function runClients(
  n: number,
  plan: FaultPlan,
  endpoint: string,
  opts: { timeout: number; attempts: number },
  pace = 0,
) {
  const history = new History();
  let mismatched = 0;
  let untyped = 0;
  const clients = await Promise.all(
    Array.from({ length: n }, async () => {
      const c = closeAfter(new LazyPirateClient({ server: endpoint, ...opts }));
      await c.start();
      return c;
    }),
  );
  let next = 0;
  await Promise.all(
    clients.map(async (c, ci) => {
      while (!plan.loadDone) {
        const id = `r${next++}`;
        if (pace > 0) await delay(pace);
        history.invoke(id, `c${ci}`);
        try {
          const [reply] = await c.request(id);
          const got = reply?.toString() ?? "";
          if (got !== id) mismatched++;
          history.ok(got, `c${ci}`);
          plan.ack();
        } catch (error) {
          if (isZgError(error, "ZG_RETRIES_EXHAUSTED")) history.fail(id, `c${ci}`);
          else untyped++;
          plan.fail();
        }
      }
    }),
  );
  return { history, mismatched, untyped, clients };
}

describe("Paranoid Pirate under faults (real processes)", () => {
  // The 500 ms beat is the point of the test: the load runs until it has seen both 5000 answered
  // requests and 3 kills, however fast the machine answers.
  test("4 workers, a random one (never the last live one) kill -9'd every 500 ms and respawned, 4 clients: ≥ 5000 requests across ≥ 3 kills", async () => {
    const dir = tempDir("zg-ppp-");
    const queue = await spawnChild(queueModule, { args: [`interval=${I}`] });
    const frontend = (queue.endpoints["frontend"] as string[])[0] as string;
    const backend = (queue.endpoints["backend"] as string[])[0] as string;
    let logSeq = 0;
    const workers: ChildHandle[] = await Promise.all(
      Array.from({ length: 4 }, () =>
        // 2 ms of work per request, so requests are in flight when a worker dies.
        spawnChild(workerModule, {
          args: [backend, String(I), join(dir, `w${logSeq++}.log`), "2"],
        }),
      ),
    );
    await waitFor(
      async () => (await queue.call<{ idleWorkers: number }>("stats")).idleWorkers === 4,
      { timeout: 10_000, what: "4 workers" },
    );
    const plan = new FaultPlan({
      name: "Paranoid Pirate worker churn",
      minRequests: 5000,
      minFaults: 3,
      maxDuration: 60_000,
    });
    const respawns: Promise<unknown>[] = [];
    let sparedBeats = 0;
    const ready = new Set<ChildHandle>(workers); // only registered workers are killed, so each kill must show up as a purge
    const chaos = (async () => {
      while (!plan.loadDone) {
        await delay(500);
        if (plan.loadDone) break;
        const candidates = [...ready];
        // Never the last live worker: with none left, a request outlives any finite retry budget
        // (on a slow machine respawns take longer than the beat). Such beats are counted.
        if (candidates.length < 2) {
          sparedBeats++;
          continue;
        }
        const victim = candidates[Math.floor(Math.random() * candidates.length)];
        if (victim === undefined) continue;
        ready.delete(victim);
        await victim.kill("SIGKILL");
        plan.fault();
        // Respawn with a fresh execution log (the old one keeps what the dead process executed).
        respawns.push(
          victim.start([]).then(
            () => void ready.add(victim),
            () => undefined,
          ),
        );
      }
    })();
    let result;
    try {
      result = await runClients(4, plan, frontend, { timeout: 500, attempts: 6 });
    } finally {
      plan.stop();
      await chaos;
      await Promise.all(respawns);
    }
    const report = checkHistory(result.history, { delivered: "acks" });
    // Executions, from the workers' own logs (every process, dead or alive, appended before replying).
    const executed: string[] = [];
    for (let i = 0; i < logSeq; i++) {
      const f = join(dir, `w${i}.log`);
      if (existsSync(f))
        executed.push(
          ...readFileSync(f, "utf8")
            .split("\n")
            .filter((x) => x.length > 0),
        );
    }
    const duplicateExecutions = executed.length - new Set(executed).size;
    // After the chaos no dead worker remains in the table (every purge has had time to happen).
    await delay(L * I + TICK + JITTER);
    const live = (await queue.call<{ workers: number }>("stats")).workers;
    // How long dead workers stayed in the queue's table (from the queue's own expiry events).
    const silences = [...queue.events]
      .filter((e) => e.name === "expired" || e.name === "gone")
      .map((e) => (e.data as { silentFor: number }).silentFor);
    const kills = plan.faults;
    console.log(
      plan.summary(
        `${sparedBeats} beats spared the last live worker, ${duplicateExecutions} duplicate executions, purges ${silences.length} (max silence ${Math.max(0, ...silences).toFixed(0)} ms), ` +
          `p50 ${report.latency.p50.toFixed(2)} p99 ${report.latency.p99.toFixed(1)} ms`,
      ),
    );
    plan.check();
    expect(result.mismatched).toBe(0);
    expect(result.untyped).toBe(0);
    expect(report.failed).toBe(0); // 0 lost
    expect(report.acked).toBe(report.attempted);
    expect(report.acked).toBeGreaterThanOrEqual(5000);
    expect(report.duplicateAcks).toEqual([]); // 0 duplicated (client view)
    expect(report.unexpected).toEqual([]);
    expect(duplicateExecutions).toBeLessThanOrEqual(kills);
    expect(silences.length).toBeGreaterThanOrEqual(kills); // every killed worker was purged (more = false expiries under load)…
    for (const s of silences) expect(s).toBeLessThanOrEqual(L * I + TICK + JITTER); // …within L·I + one tick (+10 % jitter)
    expect(live).toBe(workers.filter((w) => w.alive).length);
  }, 90_000);

  /**
   * Queue restart with in-process workers (`PirateWorker`s) and two Lazy Pirate clients. The
   * queue is kill -9'd after `before` answered requests; it is restarted at once, or, with
   * `downUntilReconnect`, only once every worker's liveness has run out and the worker has taken
   * its reconnect path (progress, not a guessed downtime). The load runs until `after` more
   * requests are answered by the new queue.
   */
  async function queueRestart(downUntilReconnect: boolean) {
    const queue = await spawnChild(queueModule, { args: [`interval=${I}`] });
    const frontend = (queue.endpoints["frontend"] as string[])[0] as string;
    const backend = (queue.endpoints["backend"] as string[])[0] as string;
    const workers = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const w = closeAfter(
          new PirateWorker({
            queue: backend,
            heartbeatInterval: I,
            reconnectDelay: I,
            reconnectMaxDelay: 4 * I,
            handler: (b) => b,
          }),
        );
        await w.start();
        return w;
      }),
    );
    await waitFor(
      async () => (await queue.call<{ idleWorkers: number }>("stats")).idleWorkers === 3,
      { timeout: 5000 },
    );
    const plan = new FaultPlan({
      name: downUntilReconnect ? "PPP queue restart after liveness ran out" : "PPP queue restart",
      minRequests: 200,
      minFaults: 1,
      faultNoun: "restart",
      maxDuration: 30_000,
    });
    let restartedAt = 0;
    let registeredAfter = Infinity;
    const chaos = (async () => {
      await plan.untilAcks(200);
      if (plan.loadDone) return;
      await queue.kill("SIGKILL");
      if (downUntilReconnect)
        await waitFor(() => workers.every((w) => w.stats().reconnects >= 1), {
          timeout: 10 * L * I,
          what: "every worker's liveness ran out and it reconnected",
        });
      await queue.start([`frontend=${frontend}`, `backend=${backend}`]);
      restartedAt = performance.now();
      plan.requireAcks(plan.acks + 200); // the load goes on until the new queue has answered 200 more
      plan.fault();
      await waitFor(async () => (await queue.call<{ workers: number }>("stats")).workers === 3, {
        timeout: 5000,
        what: "3 workers registered with the new queue",
      });
      registeredAfter = performance.now() - restartedAt;
    })();
    const result = await runClients(2, plan, frontend, { timeout: 300, attempts: 10 }, 5);
    await chaos;
    const report = checkHistory(result.history, { delivered: "acks" });
    console.log(
      plan.summary(
        `workers registered ${registeredAfter.toFixed(0)} ms after the new queue was ready, ` +
          `reconnects ${workers.map((w) => w.stats().reconnects).join("/")}`,
      ),
    );
    plan.check();
    expect(result.mismatched).toBe(0);
    expect(result.untyped).toBe(0);
    expect(report.failed).toBe(0);
    expect(report.acked).toBe(report.attempted);
    expect(report.duplicateAcks).toEqual([]);
    const afterRestart = result.history.events.filter((e) => e.kind === "ok" && e.at > restartedAt);
    expect(afterRestart.length).toBeGreaterThanOrEqual(200); // clients carried on with the new queue
    // Every worker registered within L·I (detection) + the largest back-off step (4·I) after the
    // restart, plus slack for a loaded host.
    expect(registeredAfter).toBeLessThan(L * I + 4 * I + 500);
    return workers;
  }

  // The promise: clients carry on and every worker is registered with the new queue within the
  // bound. Whether a worker noticed the outage (and reconnected) or was re-registered by its next
  // heartbeat depends on how fast the restart was; both are fine.
  test("queue kill -9'd and restarted at once: clients carry on, every worker registered with the new queue in time", async () => {
    await queueRestart(false);
  }, 60_000);

  // The reconnect path, forced: the queue stays down until every worker's liveness has run out.
  test("queue down longer than the liveness window: workers reconnect, re-register, clients carry on", async () => {
    const workers = await queueRestart(true);
    expect(workers.every((w) => w.stats().reconnects >= 1)).toBe(true);
  }, 60_000);

  test("SIGSTOPped worker holding a request: the retry is served by another worker; the stale reply after SIGCONT is never delivered", async () => {
    const queue = closeAfter(new PirateQueue({ heartbeatInterval: I }));
    const { frontend, backend } = await queue.start();
    const a = await spawnChild(workerModule, { args: [backend[0] as string, String(I)] });
    await waitFor(() => queue.stats().idleWorkers === 1);
    const b = await spawnChild(workerModule, { args: [backend[0] as string, String(I)] });
    await waitFor(() => queue.stats().idleWorkers === 2);
    // Both hold their next request; whichever gets job-1 (LRU, normally a) is frozen, the other released.
    await a.call("hold");
    await b.call("hold");
    const client = closeAfter(
      new LazyPirateClient({ server: frontend[0] as string, timeout: 400, attempts: 3 }),
    );
    await client.start();
    const p = client.request("job-1");
    const holder = await Promise.race(
      [a, b].map((w) =>
        w.waitForEvent("held", { timeout: 5000 }).then(
          () => w,
          () => new Promise<never>(() => {}),
        ),
      ),
    );
    const other = holder === a ? b : a;
    holder.pause(); // SIGSTOP while holding job-1
    await other.call("release");
    const [reply] = await p;
    expect(reply?.toString()).toBe("job-1");
    expect(client.stats().resends).toBeGreaterThanOrEqual(1);
    holder.resume(); // SIGCONT: the holder finishes job-1 late (or finds its link dead)
    await holder.call("release");
    await delay(5 * I);
    // Later requests get their own replies, never job-1's stale one.
    for (let i = 2; i <= 10; i++)
      expect((await client.request(`job-${i}`))[0]?.toString()).toBe(`job-${i}`);
    expect(client.stats().replies).toBe(10);
    const staleAtWorker = await holder.call<{ staleReplies: number; replies: number }>("stats");
    const queueStats = queue.stats();
    // The late reply was either never sent (the worker's link had been replaced) or unroutable at the queue.
    expect(staleAtWorker.staleReplies + queueStats.repliesDropped).toBeGreaterThanOrEqual(1);
    expect((await other.call<{ replies: number }>("stats")).replies).toBeGreaterThanOrEqual(1);
  }, 30_000);
});
