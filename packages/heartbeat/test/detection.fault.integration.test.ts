// Battery A1: detection window after kill -9, at the CI tier I = 100 ms, L = 3, G = 10 ms.
import { expect, test } from "vitest";
import {
  closeAfter,
  percentiles,
  spawnChild,
  tcpEndpoint,
  waitFor,
  watchStalls,
} from "@zg/testing";
import { HeartbeatRouter } from "../src/index.js";

const I = 100;
const L = 3;
const G = 10;
const CHILDREN = 5;
const PEERS_PER_CHILD = 10; // 5 kills × 10 independent peers (staggered phases) = 50 trials (battery A1)
const fixture = new URL("./fixtures/dealers.ts", import.meta.url);

test(`a peer killed with -9 is declared dead at (L−1)·I < t − t₀ ≤ L·I + G + 10% (${CHILDREN * PEERS_PER_CHILD} trials)`, async () => {
  const router = closeAfter(
    new HeartbeatRouter({ endpoints: tcpEndpoint(), interval: I, liveness: L, granularity: G }),
  );
  const [endpoint] = (await router.start()).endpoints;
  const detected = new Map<string, { at: number; lastSeen: number }>();
  router.on("peer:expired", (e) =>
    detected.set(e.key, { at: performance.now(), lastSeen: e.lastSeen }),
  );
  const sinceLast: number[] = [];
  const stalls = watchStalls(); // reported with the figures: the longest this process could not run a timer
  const sinceKill: number[] = [];
  // One child at a time, so the measuring process carries only the peers under test.
  for (let c = 0; c < CHILDREN; c++) {
    const child = await spawnChild(fixture, {
      args: [
        JSON.stringify({
          endpoint,
          count: PEERS_PER_CHILD,
          interval: I,
          liveness: L,
          prefix: `c${c}`,
          stagger: true,
        }),
      ],
    });
    const keys = Array.from({ length: PEERS_PER_CHILD }, (_, i) => `c${c}-${i}`);
    await waitFor(() => keys.every((k) => router.tracker.has(k)), {
      what: `peers of child ${c} tracked`,
      timeout: 10_000,
    });
    // A random phase relative to the heartbeats, from the test's own clock.
    await new Promise((r) => setTimeout(r, 2 * I + Math.random() * I));
    const killedAt = performance.now();
    await child.kill("SIGKILL");
    const exitedAt = performance.now();
    await waitFor(() => keys.every((k) => detected.has(k)), {
      what: `expiry of child ${c}`,
      timeout: 3000,
    });
    for (const k of keys) {
      const d = detected.get(k) as { at: number; lastSeen: number };
      // t₀ is when the router last heard the peer: a heartbeat already in flight when the signal was sent
      // may be read a moment after it, but nothing can be heard from the peer an interval after its exit.
      expect(d.lastSeen).toBeLessThan(exitedAt + I);
      sinceLast.push(d.at - d.lastSeen);
      sinceKill.push(d.at - killedAt);
    }
  }
  process.stdout.write(`t−t0 per trial: ${sinceLast.map((x) => x.toFixed(0)).join(" ")}\n`);
  stalls.stop();
  const a = percentiles(sinceLast);
  const k = percentiles(sinceKill);
  process.stdout.write(
    `detection (I=${I} L=${L} G=${G}, ${a.count} trials): t−t0 p50 ${a.p50.toFixed(1)} p99 ${a.p99.toFixed(1)} max ${a.max.toFixed(1)} min ${a.min.toFixed(1)} ms; ` +
      `from kill p50 ${k.p50.toFixed(1)} p99 ${k.p99.toFixed(1)} max ${k.max.toFixed(1)} ms; longest event-loop stall ${stalls.max.toFixed(1)} ms\n`,
  );
  expect(a.count).toBeGreaterThanOrEqual(20);
  expect(a.min).toBeGreaterThan((L - 1) * I);
  expect(a.max).toBeLessThanOrEqual(L * I + G + 0.1 * L * I);
  expect(router.stats().expired).toBe(CHILDREN * PEERS_PER_CHILD); // no other expiry happened
});
