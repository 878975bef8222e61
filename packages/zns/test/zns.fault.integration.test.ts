import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { closeAfter, FaultPlan, spawnChild, tempDir, waitFor, within } from "@zg/testing";
import { expect, test } from "vitest";
import { ZnsAgent, ZnsClient, ZnsServer, type Resolution } from "../src/index.js";

const SERVER = fileURLToPath(new URL("./fixtures/zns-server-child.ts", import.meta.url));
const AGENT = fileURLToPath(new URL("./fixtures/zns-agent-child.ts", import.meta.url));
const NAMES = "name\n    echo\n        connect = tcp://127.0.0.1:6100\n";

/** Clients resolving `fresh` (through the agent every time) until the plan's load is done. */
async function drive(
  clients: ZnsClient[],
  plan: FaultPlan,
  seen: Resolution[],
  errors: string[],
): Promise<void> {
  await Promise.all(
    clients.map(async (c) => {
      while (!plan.loadDone) {
        try {
          const r = await within(c.resolve("echo", { fresh: true }), 10_000, "a lookup");
          seen.push(r);
          if (seen.length > 50) seen.shift();
          plan.ack();
        } catch (e) {
          errors.push((e as Error).message);
          plan.fail();
        }
      }
    }),
  );
}

test("central server kill -9: agents answer from cache with stale: true; restarted: they re-sync and clear the flag", async () => {
  const dir = tempDir("zns-fault-");
  const file = join(dir, "names.zpl");
  writeFileSync(file, NAMES);
  const server = await spawnChild(SERVER, { args: [file], bundle: true });
  const endpoint = server.endpoints["endpoint"] as string;
  const agents = [0, 1].map((i) =>
    closeAfter(
      new ZnsAgent({
        servers: endpoint,
        runtimeDir: join(dir, `a${i}`),
        serverTimeout: 500,
        feedOptions: { syncInterval: 100 },
      }),
    ),
  );
  const ends = await Promise.all(agents.map(async (a) => (await a.start()).endpoints[0]!));
  await waitFor(() => agents.every((a) => a.resolve("echo")?.stale === false), {
    what: "agents synced",
  });
  const clients = ends.map((agent) => closeAfter(new ZnsClient({ agent })));
  await Promise.all(clients.map((c) => c.start()));
  const plan = new FaultPlan({
    name: "ZNS central server kill -9",
    minRequests: 2000,
    minFaults: 3,
    maxDuration: 60_000,
  });
  const seen: Resolution[] = [];
  const errors: string[] = [];
  let staleSeen = 0;
  let resynced = 0;
  const faults = (async () => {
    while (plan.faults < 3 && !plan.loadDone) {
      await plan.untilAcks(plan.acks + 300);
      await server.kill("SIGKILL");
      // The load goes on until this kill's outage and re-sync are over (the fault counts then).
      await waitFor(() => seen.some((r) => r.stale && r.source === "cache"), {
        timeout: 10_000,
        what: "stale answers while the server is dead",
      });
      await waitFor(() => agents.every((a) => a.stale), {
        timeout: 10_000,
        what: "every agent stale",
      });
      staleSeen++;
      seen.length = 0;
      await server.restart([endpoint]); // same port
      await waitFor(() => agents.every((a) => !a.stale) && seen.slice(-4).every((r) => !r.stale), {
        timeout: 10_000,
        what: "agents re-synced after the restart",
      });
      resynced++;
      plan.requireAcks(plan.acks + 100);
      plan.fault();
    }
  })();
  await drive(clients, plan, seen, errors);
  await faults;
  console.log(
    plan.summary(`stale phases ${staleSeen}, re-syncs ${resynced}, lookup errors ${errors.length}`),
  );
  plan.check();
  expect(errors).toEqual([]);
  expect(resynced).toBe(plan.faults);
}, 90_000);

test("agent kill -9 while clients resolve: retries succeed against the restarted agent, nothing hangs", async () => {
  const dir = tempDir("zns-fault-");
  const file = join(dir, "names.zpl");
  writeFileSync(file, NAMES);
  const server = closeAfter(new ZnsServer({ names: file, feedOptions: { syncInterval: 100 } }));
  const [feed] = (await server.start()).endpoints;
  const runtimeDir = join(dir, "rt");
  const agent = await spawnChild(AGENT, { args: [runtimeDir, feed!], bundle: true });
  const endpoint = agent.endpoints["endpoint"] as string;
  const clients = [0, 1, 2].map(() => closeAfter(new ZnsClient({ agent: endpoint })));
  await Promise.all(clients.map((c) => c.start()));
  const plan = new FaultPlan({
    name: "ZNS agent kill -9",
    minRequests: 2000,
    minFaults: 4,
    maxDuration: 60_000,
  });
  const seen: Resolution[] = [];
  const errors: string[] = [];
  const faults = (async () => {
    while (plan.faults < 4 && !plan.loadDone) {
      await plan.untilAcks(plan.acks + 300);
      await agent.kill("SIGKILL");
      plan.fault();
      await agent.restart();
    }
  })();
  await drive(clients, plan, seen, errors);
  await faults;
  console.log(plan.summary(`lookup errors ${errors.length}`));
  plan.check();
  expect(errors).toEqual([]);
}, 90_000);
