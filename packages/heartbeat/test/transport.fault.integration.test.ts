// Transport (ZMTP 3.1) heartbeats vs application heartbeats: battery A5, A6 and the logical-worker case.
import { describe, expect, test } from "vitest";
import { closeAfter, delay, spawnChild, tcpEndpoint, waitFor } from "@zg/testing";
import {
  HeartbeatRouter,
  transportHeartbeatOptions,
  TransportMonitor,
  MAX_TRANSPORT_HEARTBEAT_TTL,
} from "../src/index.js";
import { createDealer } from "@zg/core";

const I = 100;
const L = 3;
const ZMTP = { interval: 100, timeout: 300 };
const dealers = new URL("./fixtures/dealers.ts", import.meta.url);
const logicalWorker = new URL("./fixtures/logical-worker.ts", import.meta.url);

async function routerWithTransport() {
  const router = closeAfter(
    new HeartbeatRouter({
      endpoints: tcpEndpoint(),
      interval: I,
      liveness: L,
      socket: transportHeartbeatOptions(ZMTP),
    }),
  );
  const [endpoint] = (await router.start()).endpoints;
  const transport = router.monitorTransport();
  const lost: number[] = [];
  transport.on("connection:lost", () => lost.push(performance.now()));
  return { router, endpoint: endpoint as string, transport, lost };
}

describe("transportHeartbeatOptions", () => {
  test("maps to zeromq.js options and validates", () => {
    expect(transportHeartbeatOptions({ interval: 1000 })).toEqual({
      heartbeatInterval: 1000,
      heartbeatTimeout: 1000,
    });
    expect(transportHeartbeatOptions({ interval: 100, timeout: 300, timeToLive: 500 })).toEqual({
      heartbeatInterval: 100,
      heartbeatTimeout: 300,
      heartbeatTimeToLive: 500,
    });
    for (const bad of [
      { interval: 0 },
      { interval: -1 },
      { interval: 100, timeToLive: 50 },
      { interval: 100, timeToLive: MAX_TRANSPORT_HEARTBEAT_TTL + 1 },
      { interval: Number.NaN },
    ]) {
      expect(() => transportHeartbeatOptions(bad)).toThrow(
        expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
      );
    }
    const socket = closeAfter(
      createDealer({
        linger: 0,
        ...transportHeartbeatOptions({ interval: 100, timeout: 300, timeToLive: 500 }),
      }),
    );
    expect([socket.heartbeatInterval, socket.heartbeatTimeout, socket.heartbeatTimeToLive]).toEqual(
      [100, 300, 500],
    );
    expect(() => new TransportMonitor({} as never)).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
  });
});

describe("what ZMTP heartbeats catch", () => {
  test("a killed TCP peer: connection:lost at once (and the application model expires it after L·I)", async () => {
    const { router, endpoint, lost } = await routerWithTransport();
    const child = await spawnChild(dealers, {
      args: [JSON.stringify({ endpoint, count: 1, interval: I, prefix: "k", zmtp: ZMTP })],
    });
    await waitFor(() => router.tracker.has("k-0"));
    const killedAt = performance.now();
    const expired = router.next("peer:expired");
    await child.kill("SIGKILL");
    await waitFor(() => lost.length === 1, { what: "connection:lost" });
    await expired;
    process.stdout.write(
      `kill -9: transport lost after ${((lost[0] as number) - killedAt).toFixed(1)} ms, app expiry after ${(performance.now() - killedAt).toFixed(1)} ms\n`,
    );
    expect((lost[0] as number) - killedAt).toBeLessThan(200);
  });

  test("a SIGSTOPped peer (battery A6): ZMTP closes the connection within timeout … timeout + interval; the app model expires it too", async () => {
    const { router, endpoint, lost, transport } = await routerWithTransport();
    const child = await spawnChild(dealers, {
      args: [JSON.stringify({ endpoint, count: 1, interval: I, prefix: "p", zmtp: ZMTP })],
    });
    await waitFor(() => router.tracker.has("p-0"));
    await delay(300);
    const expired = router.next("peer:expired");
    const stoppedAt = performance.now();
    child.pause();
    await waitFor(() => lost.length === 1, { what: "connection:lost", timeout: 3000 });
    const lostAfter = (lost[0] as number) - stoppedAt;
    await expired;
    process.stdout.write(
      `SIGSTOP: ZMTP connection:lost after ${lostAfter.toFixed(1)} ms (timeout ${ZMTP.timeout}, interval ${ZMTP.interval})\n`,
    );
    // Detection is timeout … timeout + interval after the last traffic, which precedes the stop.
    expect(lostAfter).toBeGreaterThan(ZMTP.timeout - ZMTP.interval - 10);
    expect(lostAfter).toBeLessThanOrEqual(450);
    expect(transport.stats().lost).toBe(1);
    child.resume();
  });
});

describe("what only application heartbeats catch", () => {
  test("an event-loop stall of 5·I (battery A5): the app model expires the peer; ZMTP sees nothing (libzmq's I/O thread still answers)", async () => {
    const { router, endpoint, lost } = await routerWithTransport();
    const child = await spawnChild(dealers, {
      args: [JSON.stringify({ endpoint, count: 1, interval: I, prefix: "st", zmtp: ZMTP })],
    });
    await waitFor(() => router.tracker.has("st-0"));
    await delay(300);
    const expired = router.next("peer:expired");
    const returned = router.next("peer:returned");
    const stalledAt = performance.now();
    const stall = child.stall(5 * I);
    const e = await expired;
    const after = performance.now() - stalledAt;
    await stall;
    await returned;
    await delay(3 * ZMTP.timeout);
    process.stdout.write(
      `stall 5·I: app expiry after ${after.toFixed(1)} ms (silent ${e.silentFor.toFixed(1)}); ZMTP disconnects ${lost.length}\n`,
    );
    expect(e.silentFor).toBeGreaterThan((L - 1) * I);
    expect(e.silentFor).toBeLessThanOrEqual(L * I + 10 + 0.1 * L * I);
    expect(lost).toEqual([]); // expected and confirmed: the transport layer cannot see a stalled event loop
  });

  test("a logical worker behind a ROUTER dies while its process and connection live: only the app model notices", async () => {
    const { router, endpoint, lost } = await routerWithTransport();
    const child = await spawnChild(logicalWorker, { args: [endpoint, String(I), "logical"] });
    await waitFor(() => router.tracker.has("logical"));
    await delay(300);
    const expired = router.next("peer:expired");
    const mutedAt = performance.now();
    await child.call("mute");
    const e = await expired;
    await delay(3 * ZMTP.timeout);
    process.stdout.write(
      `logical worker muted: app expiry after ${(performance.now() - mutedAt).toFixed(0)} ms incl. wait; ZMTP disconnects ${lost.length}\n`,
    );
    expect(e.key).toBe("logical");
    expect(lost).toEqual([]);
    expect(child.alive).toBe(true);
  });
});
