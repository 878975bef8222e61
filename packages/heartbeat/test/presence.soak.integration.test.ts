// Battery A2 (CI tier): 8 healthy peers for 30 s at I = 250 ms: zero false expiries, on either side.
import { expect, test } from "vitest";
import { closeAfter, delay, spawnChild, tcpEndpoint, waitFor } from "@zg/testing";
import { HeartbeatRouter } from "../src/index.js";

const I = 250;
const SECONDS = 30;
const fixture = new URL("./fixtures/dealers.ts", import.meta.url);

test(
  `8 healthy peers (2 processes × 4) for ${SECONDS} s at I = ${I} ms: no false expiry`,
  { timeout: (SECONDS + 30) * 1000 },
  async () => {
    const router = closeAfter(
      new HeartbeatRouter({ endpoints: tcpEndpoint(), interval: I, liveness: 3 }),
    );
    const [endpoint] = (await router.start()).endpoints;
    const joined = new Set<string>();
    router.on("peer:joined", (e) => joined.add(e.key));
    const silent: { key: string; silentFor: number }[] = [];
    router.on("peer:silent", (e) => silent.push({ key: e.key, silentFor: e.silentFor }));
    const children = await Promise.all(
      [0, 1].map((c) =>
        spawnChild(fixture, {
          args: [
            JSON.stringify({ endpoint, count: 4, interval: I, prefix: `s${c}`, stagger: true }),
          ],
        }),
      ),
    );
    await waitFor(() => router.stats().peers === 8, { what: "8 peers", timeout: 10_000 });
    const start = router.stats();
    await delay(SECONDS * 1000);
    const end = router.stats();
    const childExpiries = children.flatMap((c) => c.events.filter((e) => e.name === "expired"));
    const childStats = (
      await Promise.all(
        children.map((c) => c.call<{ pingsSent: number; expired: number }[]>("stats")),
      )
    ).flat();
    process.stdout.write(
      `soak ${SECONDS} s, 8 peers, I=${I}: router expired ${end.expired}, silent reports ${silent.length}, ` +
        `router pings ${end.pingsSent - start.pingsSent}, pongs ${end.pongsSent - start.pongsSent}; dealer expiries ${childExpiries.length}\n`,
    );
    expect(end.expired).toBe(0);
    // A silent report on a healthy link is a late heartbeat (a stall of this or a child
    // process), never a lost peer: it names one of the 8 peers, comes no earlier than
    // silentAfter (1.5) intervals of silence, and the peer talked again before liveness ran out.
    for (const s of silent) {
      expect(joined.has(s.key), `silent report for unknown peer ${s.key}`).toBe(true);
      expect(s.silentFor).toBeGreaterThanOrEqual(1.5 * I - 1);
      expect(s.silentFor).toBeLessThan(3 * I);
    }
    // Late heartbeats are the exception: at most 1 in 20 of the peers' heartbeat intervals.
    expect(silent.length).toBeLessThan((8 * ((SECONDS * 1000) / I)) / 20);
    expect(end.peers).toBe(8);
    expect(childExpiries).toEqual([]);
    expect(childStats.every((s) => s.expired === 0)).toBe(true);
    // The links were idle, so heartbeats flowed (each side about once per interval per peer).
    expect(end.pongsSent - start.pongsSent).toBeGreaterThan(8 * ((SECONDS * 1000) / I) * 0.5);
  },
);
