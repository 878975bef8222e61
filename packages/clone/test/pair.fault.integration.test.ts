// The Clone HA pair under kill -9 (reliability-battery.md): writers publish updates through
// CloneClients; the active server is killed, restarted (it comes back passive and copies the new
// active), then the other one is killed, by progress (acknowledged updates), never by the clock.
// The verdict comes from the writers' own histories: every acknowledged update (it came back from a
// server with a sequence number) is in the surviving server's map and in a fresh client's snapshot,
// with and without a ttl on the update.
import { expect, test } from "vitest";
import {
  checkHistory,
  closeAfter,
  FaultPlan,
  History,
  ipcEndpoint,
  spawnChild,
  waitFor,
  type ChildHandle,
} from "@zg/testing";
import { CloneClient, type CloneEndpoints } from "../src/index.js";

const child = new URL("./fixtures/clone-server-child.ts", import.meta.url);
const WRITERS = 2;
const IN_FLIGHT = 8;
const ACKS_BETWEEN_FAULTS = 300;

function endpoints(): CloneEndpoints {
  return { snapshot: ipcEndpoint("s"), publisher: ipcEndpoint("p"), collector: ipcEndpoint("c") };
}
const flat = (e: CloneEndpoints): string[] => [e.snapshot, e.publisher, e.collector];

const last = (c: ChildHandle, names: string[]): string | undefined =>
  c.events.filter((e) => names.includes(e.name)).at(-1)?.name;

test("kill -9 of the active server, restart, kill -9 of the other: 0 acknowledged updates lost (with and without ttl)", async () => {
  const p = endpoints();
  const b = endpoints();
  const st = { p: ipcEndpoint("ps"), b: ipcEndpoint("bs") };
  const primary = await spawnChild(child, {
    args: ["primary", ...flat(p), st.p, st.b, ...flat(b), "100"],
    bundle: true,
  });
  const backup = await spawnChild(child, {
    args: ["backup", ...flat(b), st.b, st.p, ...flat(p), "100"],
    bundle: true,
  });
  await waitFor(
    () =>
      last(primary, ["active", "passive"]) === "active" &&
      last(backup, ["peer-synced"]) !== undefined,
    {
      timeout: 15_000,
      what: "precondition: primary active, backup synced from it",
    },
  );

  const plan = new FaultPlan({
    name: "Clone pair failover",
    minRequests: 4 * ACKS_BETWEEN_FAULTS,
    minFaults: 3,
    faultNoun: "fault",
    maxDuration: 100_000,
  });
  const histories: History[] = [];
  const acked = new Map<string, { value: string; ttl: boolean }>();
  const ackTimes: number[] = [];
  const writers = Array.from({ length: WRITERS }, async (_, w) => {
    const history = new History();
    histories.push(history);
    const client = closeAfter(
      new CloneClient({ servers: [p, b], serverTtl: 1000, subscribeWait: 300, setTimeout: 30_000 }),
    );
    await client.start();
    await client.waitSynced({ timeout: 10_000 });
    const inflight = new Set<Promise<void>>();
    for (let i = 0; !plan.loadDone; i++) {
      const key = `/w${w}/${i}`;
      const value = `v${i}`;
      const ttl = i % 2 === 1;
      history.invoke(key, `writer${w}`);
      const op = client
        .set(key, value, ttl ? { ttl: 600_000 } : {})
        .then(
          (seq) => {
            history.ok(key, `writer${w}`, String(seq));
            acked.set(key, { value, ttl });
            ackTimes.push(performance.now());
            plan.ack();
          },
          (error: Error) => {
            history.fail(key, `writer${w}`, error.message);
            plan.fail();
          },
        )
        .finally(() => inflight.delete(op));
      inflight.add(op);
      if (inflight.size >= IN_FLIGHT) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  });

  const resumes: number[] = [];
  const faults = (async () => {
    let active = primary;
    let passive = backup;
    let kills = 0;
    while (!plan.loadDone) {
      await plan.untilAcks(plan.acks + ACKS_BETWEEN_FAULTS);
      if (plan.loadDone) break;
      await active.kill("SIGKILL");
      kills++;
      const killedAt = performance.now();
      plan.fault();
      const acksAtKill = plan.acks;
      await waitFor(() => last(passive, ["active", "passive"]) === "active", {
        timeout: 20_000,
        what: "the survivor takes over",
      });
      await plan.untilAcks(acksAtKill + 1);
      resumes.push((ackTimes.find((t) => t > killedAt) ?? performance.now()) - killedAt);
      if (plan.loadDone) break;
      // Restart the killed server: it must come back passive and copy the survivor.
      active.events.length = 0;
      await active.start();
      await waitFor(() => last(active, ["peer-synced"]) !== undefined, {
        timeout: 20_000,
        what: "the restarted server copies the active one",
      });
      plan.fault();
      [active, passive] = [passive, active];
    }
    return kills;
  })();

  await Promise.all(writers);
  plan.stop();
  const kills = await faults;
  console.log(
    `clone pair kill -9: ${plan.summary()} (${kills} kills -9, the rest restarts); time to resume ${resumes.map(Math.round).join(", ")} ms`,
  );
  plan.check();

  const survivor = [primary, backup].find(
    (c) => c.alive && last(c, ["active", "passive"]) === "active",
  );
  expect(survivor, "an active server survives").toBeDefined();
  const report = checkHistory(History.merge(...histories), { delivered: "acks" });
  expect(report.duplicateAcks).toEqual([]);
  // A fresh client's snapshot from the pair.
  const reader = closeAfter(
    new CloneClient({ servers: [p, b], serverTtl: 1000, subscribeWait: 300 }),
  );
  await reader.start();
  await reader.waitSynced({ timeout: 15_000 });
  const dump = new Map(await survivor!.call<[string, string][]>("dump"));
  const lost = { plain: 0, ttl: 0 };
  for (const [key, { value, ttl }] of acked) {
    if (dump.get(key) !== value || reader.getString(key) !== value) lost[ttl ? "ttl" : "plain"]++;
  }
  const total = {
    plain: [...acked.values()].filter((a) => !a.ttl).length,
    ttl: [...acked.values()].filter((a) => a.ttl).length,
  };
  console.log(
    `clone pair kill -9: acknowledged ${acked.size} (no ttl ${total.plain}, ttl ${total.ttl}), lost no-ttl ${lost.plain}, lost ttl ${lost.ttl}, set failures ${report.failed}`,
  );
  expect(lost).toEqual({ plain: 0, ttl: 0 });
}, 150_000);
