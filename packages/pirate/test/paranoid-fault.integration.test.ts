import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isZgError } from "@zg/core";
import {
  checkHistory,
  closeAfter,
  delay,
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

async function runClients(
  n: number,
  total: number,
  endpoint: string,
  opts: { timeout: number; retries: number },
  pace = 0,
) {
  const history = new History();
  let mismatched = 0;
  let untyped = 0;
  const clients = await Promise.all(
    Array.from({ length: n }, async () => {
      const c = closeAfter(new LazyPirateClient({ endpoint, ...opts }));
      await c.start();
      return c;
    }),
  );
  let next = 0;
  await Promise.all(
    clients.map(async (c, ci) => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const id = `r${i}`;
        if (pace > 0) await delay(pace);
        history.invoke(id, `c${ci}`);
        try {
          const [reply] = await c.request(id);
          const got = reply?.toString() ?? "";
          if (got !== id) mismatched++;
          history.ok(got, `c${ci}`);
        } catch (error) {
          if (isZgError(error, "ZG_RETRIES_EXHAUSTED")) history.fail(id, `c${ci}`);
          else untyped++;
        }
      }
    }),
  );
  return { history, mismatched, untyped, clients };
}

describe("Paranoid Pirate under faults (real processes)", () => {
  test("4 workers, a random one kill -9'd every 500 ms and respawned, 4 clients, 5000 requests", async () => {
    const dir = tempDir("zg-ppp-");
    const queue = await spawnChild(queueModule, { args: [`interval=${I}`] });
    const frontend = (queue.endpoints["frontend"] as string[])[0] as string;
    const backend = (queue.endpoints["backend"] as string[])[0] as string;
    let logSeq = 0;
    const workers: ChildHandle[] = await Promise.all(
      Array.from({ length: 4 }, () =>
        // 2 ms of work per request: the 5000 requests then span several kill intervals
        // however fast the machine is (the fault schedule must overlap the workload).
        spawnChild(workerModule, {
          args: [backend, String(I), join(dir, `w${logSeq++}.log`), "2"],
        }),
      ),
    );
    await waitFor(
      async () => (await queue.call<{ idleWorkers: number }>("stats")).idleWorkers === 4,
      { timeout: 10_000, what: "4 workers" },
    );
    let kills = 0;
    let running = true;
    const respawns: Promise<unknown>[] = [];
    const ready = new Set<ChildHandle>(workers); // only registered workers are killed, so each kill must show up as a purge
    const chaos = (async () => {
      while (running) {
        await delay(500);
        if (!running) break;
        const candidates = [...ready];
        const victim = candidates[Math.floor(Math.random() * candidates.length)];
        if (victim === undefined) continue;
        ready.delete(victim);
        await victim.kill("SIGKILL");
        kills++;
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
      result = await runClients(4, 5000, frontend, { timeout: 500, retries: 6 });
    } finally {
      running = false;
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
    console.log(
      `ppp chaos: ${kills} kills, ${report.acked} answered, ${report.failed} failed, ${duplicateExecutions} duplicate executions, ` +
        `purges ${silences.length} (max silence ${Math.max(0, ...silences).toFixed(0)} ms), p50 ${report.latency.p50.toFixed(2)} p99 ${report.latency.p99.toFixed(1)} ms`,
    );
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(result.mismatched).toBe(0);
    expect(result.untyped).toBe(0);
    expect(report.failed).toBe(0); // 0 lost
    expect(report.acked).toBe(5000);
    expect(report.duplicateAcks).toEqual([]); // 0 duplicated (client view)
    expect(report.unexpected).toEqual([]);
    expect(duplicateExecutions).toBeLessThanOrEqual(kills);
    expect(silences.length).toBeGreaterThanOrEqual(kills); // every killed worker was purged (more = false expiries under load)…
    for (const s of silences) expect(s).toBeLessThanOrEqual(L * I + TICK + JITTER); // …within L·I + one tick (+10 % jitter)
    expect(live).toBe(workers.filter((w) => w.alive).length);
  }, 90_000);

  test("queue kill -9'd and restarted: workers re-register, clients carry on", async () => {
    const queue = await spawnChild(queueModule, { args: [`interval=${I}`] });
    const frontend = (queue.endpoints["frontend"] as string[])[0] as string;
    const backend = (queue.endpoints["backend"] as string[])[0] as string;
    const workers = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const w = closeAfter(
          new PirateWorker({
            endpoint: backend,
            heartbeatInterval: I,
            reconnectInitial: I,
            reconnectMax: 4 * I,
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
    let restartedAt = 0;
    let registeredAfter = Infinity;
    const chaos = (async () => {
      await delay(300);
      await queue.kill("SIGKILL");
      await queue.start([`frontend=${frontend}`, `backend=${backend}`]);
      restartedAt = performance.now();
      await waitFor(async () => (await queue.call<{ workers: number }>("stats")).workers === 3, {
        timeout: 5000,
        what: "3 workers re-registered",
      });
      registeredAfter = performance.now() - restartedAt;
    })();
    const result = await runClients(2, 1000, frontend, { timeout: 300, retries: 10 }, 5);
    await chaos;
    const report = checkHistory(result.history, { delivered: "acks" });
    expect(result.mismatched).toBe(0);
    expect(result.untyped).toBe(0);
    expect(report.acked + report.failed).toBe(1000);
    expect(restartedAt).toBeGreaterThan(0);
    expect(result.history.events.some((e) => e.kind === "ok" && e.at > restartedAt)).toBe(true); // clients carried on
    expect(report.failed).toBe(0);
    expect(report.duplicateAcks).toEqual([]);
    // All workers registered within L·I (detection) + the current back-off (≤ 4·I) after the restart, plus slack for a loaded host.
    console.log(
      `ppp queue restart: workers re-registered ${registeredAfter.toFixed(0)} ms after the new queue was ready`,
    );
    expect(registeredAfter).toBeLessThan(L * I + 4 * I + 500);
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
      new LazyPirateClient({ endpoint: frontend[0] as string, timeout: 400, retries: 3 }),
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
    expect(client.stats().retries).toBeGreaterThanOrEqual(1);
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
