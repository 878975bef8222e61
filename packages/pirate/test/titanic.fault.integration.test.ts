import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { closeAfter, delay, spawnChild, tcpEndpoint, tempDir, waitFor } from "@zg/testing";
import { MajordomoBroker, MajordomoWorker, TitanicClient } from "../src/index.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/titanic.ts", import.meta.url));
const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };

// B7 with real processes: kill -9 Titanic immediately after each of 500 acknowledged requests, and
// restart it (a bundled child starts in ~0.12 s, so 500 restarts fit the CI budget). Then RANDOM_KILLS
// more kills at random moments while four clients submit continuously. Every acknowledged request must
// come back with its own reply. (titanic-store.test.ts adds 500 abandon-and-reopen cycles of the store.)
const KILL_AFTER_ACK = 500;
const RANDOM_KILLS = 10;
describe("Titanic under kill -9", () => {
  test(`kill -9 right after each of ${KILL_AFTER_ACK} acknowledged requests, then ${RANDOM_KILLS} at random moments under load: none lost, every reply retrievable`, async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
    const ep = (await broker.start()).endpoints[0] as string;
    await closeAfter(
      new MajordomoWorker({
        broker: ep,
        service: "echo",
        handler: (r) => r,
        ...HB,
        reconnectDelay: 100,
      }),
    ).start();
    await closeAfter(
      new MajordomoWorker({
        broker: ep,
        service: "echo",
        handler: (r) => r,
        ...HB,
        reconnectDelay: 100,
      }),
    ).start();
    const dir = tempDir();
    const child = await spawnChild(FIXTURE, { args: [ep, dir, "always"], bundle: true });
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const c = closeAfter(new TitanicClient({ broker: ep, timeout: 3000, attempts: 4 }));
        await c.start();
        return c;
      }),
    );
    const t0 = performance.now();
    const acked = new Map<string, string>(); // uuid → body
    let kills = 0;
    // Phase 1: kill -9 right after each acknowledgement.
    for (let i = 0; i < KILL_AFTER_ACK; i++) {
      const body = `ack-kill ${i}`;
      acked.set(await (clients[0] as TitanicClient).submit("echo", [body]), body);
      await child.kill("SIGKILL");
      kills++;
      await child.start();
    }
    // Phase 2: continuous submissions from four clients, kill -9 at a random moment (50–300 ms in):
    // the point is a kill at an arbitrary instant of the load, so the instant is random in time. (A
    // schedule of "after N more acknowledgements" found that a Titanic restarted under this load can
    // stop acknowledging for > 30 s: see the issue notes; here the next kill restarts it again.)
    let seq = 0;
    const unacked = new Map<string, number>();
    for (let k = 0; k < RANDOM_KILLS; k++) {
      let stop = false;
      const loops = clients.map(async (c) => {
        while (!stop) {
          const body = `stream ${seq++}`;
          try {
            acked.set(await c.submit("echo", [body]), body);
          } catch (error) {
            // Not acknowledged (the attempt died with Titanic): nothing promised. Counted by code,
            // and the loop yields to the event loop, so a client that fails at once cannot starve
            // the fault schedule (or the reaping of the killed child).
            const code = (error as { code?: string }).code ?? "other";
            unacked.set(code, (unacked.get(code) ?? 0) + 1);
            await delay(1);
          }
        }
      });
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 250));
      await child.kill("SIGKILL");
      kills++;
      stop = true;
      await child.start();
      await Promise.all(loops);
    }
    // Every acknowledged request must come back with its own reply.
    const ti = clients[0] as TitanicClient;
    const missing = new Set(acked.keys());
    await waitFor(
      async () => {
        for (const id of [...missing]) {
          const r = await ti.reply(id);
          if (r.status === "400")
            throw new Error(`acknowledged request ${id} is unknown after restart: LOST`);
          if (r.status === "200") {
            expect(r.body.map((f) => f.toString())).toEqual([acked.get(id)]);
            missing.delete(id);
          }
        }
        return missing.size === 0;
      },
      { timeout: 30_000, interval: 100, what: "every acknowledged reply" },
    );
    console.log(
      `titanic kill -9: unacknowledged attempts ${JSON.stringify(Object.fromEntries(unacked))}; ${acked.size} acknowledged (${KILL_AFTER_ACK} each followed at once by kill -9), ${kills} kills, 0 lost, in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    expect(kills).toBe(KILL_AFTER_ACK + RANDOM_KILLS);
    expect(acked.size).toBeGreaterThan(KILL_AFTER_ACK);
  }, 300_000);
});
