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
    const [endpoint] = await router.start();
    const silent: string[] = [];
    router.on("peer:silent", (e) => silent.push(e.key));
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
    expect(end.peers).toBe(8);
    expect(childExpiries).toEqual([]);
    expect(childStats.every((s) => s.expired === 0)).toBe(true);
    // The links were idle, so heartbeats flowed (each side about once per interval per peer).
    expect(end.pongsSent - start.pongsSent).toBeGreaterThan(8 * ((SECONDS * 1000) / I) * 0.5);
  },
);
