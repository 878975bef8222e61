import { describe, expect, test } from "vitest";
import { createDealer, identityKey } from "@zg/core";
import { closeAfter, delay, tcpEndpoint, transports, waitFor } from "@zg/testing";
import { encodeHeartbeat, HeartbeatDealer, HeartbeatRouter } from "../src/index.js";

async function router(
  extra: Partial<ConstructorParameters<typeof HeartbeatRouter>[0]> = {},
  endpoint = tcpEndpoint(),
) {
  const r = closeAfter(
    new HeartbeatRouter({ endpoints: endpoint, interval: 100, liveness: 3, ...extra }),
  );
  const [ep] = (await r.start()).endpoints;
  return { r, ep: ep as string };
}

describe.each(Object.entries(transports))("ping-pong over %s", (_name, endpoint) => {
  test("data flows both ways; heartbeats never reach the application; pings only on an idle line", async () => {
    const got: string[] = [];
    const { r, ep } = await router(
      { onMessage: (id, body) => r.send(id, [`echo:${body[0]?.toString() ?? ""}`]) },
      endpoint(),
    );
    const d = closeAfter(
      new HeartbeatDealer({
        router: ep,
        interval: 100,
        routingId: "d1",
        onMessage: (m) => got.push(m[0]?.toString() ?? ""),
      }),
    );
    const joined = r.next("peer:joined");
    let last = performance.now();
    await d.start();
    expect((await joined).key).toBe("d1");
    // A busy line: data every 20 ms for 600 ms, so no pings either way after the hello. A gap of a
    // whole interval between two posts (a stalled scheduler on a loaded machine) makes the line idle
    // for real, and then one ping per such gap is the correct behaviour: count them from our records.
    let idleGaps = 0;
    for (let i = 0; i < 30; i++) {
      d.post([`m${i}`]);
      await delay(20);
      const now = performance.now();
      if (now - last >= 100) idleGaps++;
      last = now;
    }
    await waitFor(() => got.length === 30);
    expect(got[0]).toBe("echo:m0");
    const busy = { d: d.stats(), r: r.stats() };
    if (performance.now() - last >= 100) idleGaps++;
    expect(busy.d.pingsSent).toBeLessThanOrEqual(1 + idleGaps); // the hello
    expect(busy.r.pingsSent).toBeLessThanOrEqual(1 + idleGaps);
    // An idle line: both sides ping about once per interval, and answer pongs.
    await delay(600);
    const idle = { d: d.stats(), r: r.stats() };
    expect(idle.d.pingsSent - busy.d.pingsSent).toBeGreaterThanOrEqual(3);
    expect(idle.r.pongsSent).toBeGreaterThanOrEqual(3);
    expect(idle.d.pongsReceived).toBeGreaterThanOrEqual(3);
    expect(got).toHaveLength(30);
    expect(r.stats()).toMatchObject({ peers: 1, expired: 0, protocolErrors: 0 });
    expect(r.peer(Buffer.from("d1"))?.interval).toBe(100);
  });
});

describe("ping-pong", () => {
  test("per-peer intervals: an aggressive 100 ms peer and a relaxed 30 s peer on one socket, each judged by its own", async () => {
    const { r, ep } = await router({ interval: 1000 });
    const fast = closeAfter(new HeartbeatDealer({ router: ep, interval: 100, routingId: "fast" }));
    const slow = closeAfter(
      new HeartbeatDealer({ router: ep, interval: 30_000, routingId: "slow" }),
    );
    await fast.start();
    await slow.start();
    await waitFor(() => r.stats().peers === 2);
    expect(r.peer(Buffer.from("fast"))?.interval).toBe(100);
    expect(r.peer(Buffer.from("slow"))?.interval).toBe(30_000);
    const t0 = performance.now();
    const expired = r.next("peer:expired");
    await fast.close();
    await slow.close();
    const e = await expired;
    expect(e.key).toBe("fast");
    expect(performance.now() - t0).toBeLessThan(1000);
    await delay(300);
    expect(r.peer(Buffer.from("slow"))?.state).toBe("alive"); // 30 s peer: nowhere near its deadline
  });

  test("bad frames, unknown commands and absurd intervals from a peer are counted, logged, clamped or dropped", async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) };
    const { r, ep } = await router({ logger });
    const raw = closeAfter(createDealer({ linger: 0, routingId: "rogue" }));
    raw.connect(ep);
    const H = Buffer.from("ZGHB01");
    await raw.send([H, Buffer.from([0x02]), Buffer.from("interval=0\n")]); // absurd: clamped to 10 ms
    await raw.send([Buffer.from("ZGHB07"), Buffer.from([0x02])]); // unknown version
    await raw.send([H]); // no command
    await raw.send([H, Buffer.from([0x02]), Buffer.from("interval=nope\n")]); // bad interval
    await raw.send([H, Buffer.from([0x99])]); // unknown command
    await raw.send([H, Buffer.from([0x02]), Buffer.from("interval=86400000\n")]); // > 1 h: clamped
    await waitFor(() => r.stats().unknownCommands === 1 && r.stats().protocolErrors === 3);
    const pongs: Buffer[][] = [];
    for (let i = 0; i < 2; i++) pongs.push(await raw.receive());
    expect(pongs[0]).toEqual(encodeHeartbeat("pong"));
    expect(r.stats()).toMatchObject({ clampedIntervals: 2, pingsReceived: 2, peers: 1 });
    expect(r.peer(Buffer.from("rogue"))?.interval).toBe(3_600_000);
    expect(warnings.filter((w) => w.includes("bad heartbeat frame"))).toHaveLength(3);
    expect(warnings.some((w) => w.includes("out-of-range"))).toBe(true);
    // The router is still serving.
    await raw.send([H, Buffer.from([0x02]), Buffer.from("interval=50\n")]);
    expect(await raw.receive()).toEqual(encodeHeartbeat("pong"));
    expect(r.peer(Buffer.from("rogue"))?.interval).toBe(50);
  });

  test("dealer: the router's death is detected after L·I; a new socket reconnects and the router sees the peer return", async () => {
    const ep = tcpEndpoint();
    const first = await router({}, ep);
    const d = closeAfter(new HeartbeatDealer({ router: first.ep, interval: 100, routingId: "w" }));
    expect(() => d.monitorTransport()).toThrow(expect.objectContaining({ code: "ZG_STATE" }));
    await d.start();
    await waitFor(() => d.alive);
    const lost = d.monitorTransport().next("connection:lost");
    const dead = d.next("peer:expired");
    await first.r.close();
    await lost; // the transport sees the closed connection at once; the application model waits L·I
    const t0 = performance.now();
    const reconnected = d.next("link:reconnected");
    const { silentFor } = await dead;
    expect(silentFor).toBeGreaterThanOrEqual(300);
    expect(performance.now() - t0).toBeLessThan(700);
    await reconnected; // a fresh socket (linger 0: nothing stale survives), then the router comes back
    const second = closeAfter(new HeartbeatRouter({ endpoints: first.ep, interval: 100 }));
    const joined = second.next("peer:joined");
    const back = d.next("peer:returned");
    await second.start();
    expect((await joined).key).toBe("w");
    await back;
    expect(d.stats().reconnects).toBeGreaterThanOrEqual(1);
    expect(d.alive).toBe(true);
  });

  test("the router purges a vanished dealer and reports it returned when it comes back with the same routing id", async () => {
    const { r, ep } = await router();
    const a = new HeartbeatDealer({ router: ep, interval: 100, routingId: "again" });
    await a.start();
    await waitFor(() => r.stats().peers === 1);
    await a.close();
    const e = await r.next("peer:expired");
    expect(identityKey(Buffer.from("again"))).toBe(e.key);
    expect(r.stats().peers).toBe(0);
    const b = closeAfter(new HeartbeatDealer({ router: ep, interval: 100, routingId: "again" }));
    const back = r.next("peer:returned");
    await b.start();
    expect((await back).key).toBe("again");
  });
});
