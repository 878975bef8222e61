// A Clone server with a data directory, kill -9'd and restarted over and over (by progress: after
// every N acknowledged updates) while a writer publishes. From the writer's own records: every
// acknowledged update is in the final map, and no sequence number was given to two updates.
// ZG_CLONE_RESTARTS sets the number of kill-and-restart cycles (default 25; the 500 by hand).
import { expect, test } from "vitest";
import { closeAfter, FaultPlan, ipcEndpoint, spawnChild, tempDir } from "@zg/testing";
import { CloneClient, type CloneEndpoints } from "../src/index.js";

const RESTARTS = Number(process.env["ZG_CLONE_RESTARTS"] ?? 25);
const ACKS_BETWEEN = 20;
const child = new URL("./fixtures/clone-single-child.ts", import.meta.url);

test(
  `${RESTARTS} kill -9 and restart cycles of a server with a data directory: 0 acknowledged updates lost, no sequence reused`,
  async () => {
    const e: CloneEndpoints = {
      snapshot: ipcEndpoint("s"),
      publisher: ipcEndpoint("p"),
      collector: ipcEndpoint("c"),
    };
    const dir = tempDir("zg-clone-restart-");
    const server = await spawnChild(child, {
      args: [e.snapshot, e.publisher, e.collector, dir, "interval"],
      bundle: true,
    });
    const plan = new FaultPlan({
      name: "Clone server restarts",
      minRequests: ACKS_BETWEEN * RESTARTS,
      minFaults: RESTARTS,
      faultNoun: "kill -9 + restart",
      maxDuration: 30_000 + RESTARTS * 3000,
    });
    const writer = closeAfter(
      new CloneClient({
        servers: e,
        serverTtl: 400,
        subscribeWait: 200,
        setTimeout: 60_000,
        resendInterval: 200,
      }),
    );
    await writer.start();
    await writer.waitSynced({ timeout: 10_000 });
    const acked = new Map<string, bigint>();
    const load = (async () => {
      const inflight = new Set<Promise<void>>();
      for (let i = 0; !plan.loadDone; i++) {
        const key = `/k/${i}`;
        const op = writer
          .set(key, `v${i}`)
          .then(
            (seq) => {
              acked.set(key, seq);
              plan.ack();
            },
            () => plan.fail(),
          )
          .finally(() => inflight.delete(op));
        inflight.add(op);
        if (inflight.size >= 4) await Promise.race(inflight);
      }
      await Promise.all(inflight);
    })();
    // A restart that fails (the child exits before ready) ends the run at once with its error:
    // the writer is closed, so the load's pending sets end instead of waiting out setTimeout.
    let restartError: unknown;
    const faults = (async () => {
      while (!plan.loadDone) {
        await plan.untilAcks(plan.acks + ACKS_BETWEEN);
        if (plan.loadDone) break;
        await server.kill("SIGKILL");
        await server.start();
        plan.fault();
      }
    })().catch(async (error: unknown) => {
      restartError = error;
      plan.stop();
      await writer.close();
    });
    await load;
    plan.stop();
    await faults;
    if (restartError !== undefined) throw restartError as Error;
    console.log(`clone restarts: ${plan.summary()}`);
    plan.check();

    const seqs = [...acked.values()];
    expect(new Set(seqs).size, "a sequence number acknowledged for two updates").toBe(seqs.length);
    const dump = new Map(await server.call<[string, string][]>("dump"));
    const lost = [...acked.keys()].filter((k) => dump.get(k) !== `v${k.slice(3)}`);
    console.log(
      `clone restarts: acknowledged ${acked.size}, lost ${lost.length}, final sequence ${await server.call<string>("sequence")}`,
    );
    expect(lost).toEqual([]);
    expect(BigInt(await server.call<string>("sequence"))).toBeGreaterThanOrEqual(
      seqs.reduce((a, b) => (a > b ? a : b), 0n),
    );
  },
  30_000 + RESTARTS * 3000 + 20_000,
);
