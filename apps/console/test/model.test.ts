import { describe, expect, it } from "vitest";
import { ConsoleModel, MAX_CONSOLE_POINTS, serviceRowsOf } from "../src/model.js";

const majordomo = (served: number, workers = 2): unknown => ({
  components: {
    majordomo_broker: {
      workers,
      replies: served,
      perService: {
        echo: {
          workers,
          idleWorkers: 1,
          queued: 0,
          served,
          expired: 1,
          requeued: 2,
          p50: 0.8,
          p99: 4,
        },
        "mmi.service": { workers: 0, queued: 0, served: 3, p50: 0, p99: 0 },
      },
    },
    majordomo_workers_removed: {
      perService: { echo: { expired: 1, unreachable: 1, violation: 0 } },
    },
  },
});
const ppqueue = (served: number): unknown => ({
  components: {
    ppqueue: {
      workers: 3,
      idleWorkers: 3,
      queued: 1,
      repliesForwarded: served,
      redispatched: 1,
      workersPurged: 2,
      latency: { p50: 1, p99: 9 },
    },
  },
});

describe("serviceRowsOf", () => {
  it("reads Majordomo services (MMI left out) with their purges, and a queue as one pool", () => {
    expect(serviceRowsOf(majordomo(10))).toEqual([
      {
        component: "majordomo_broker",
        service: "echo",
        workers: 2,
        idle: 1,
        queued: 0,
        served: 10,
        p50: 0.8,
        p99: 4,
        expired: 1,
        purged: 2,
        requeued: 2,
      },
    ]);
    expect(serviceRowsOf(ppqueue(5))).toMatchObject([
      {
        component: "ppqueue",
        service: "ppqueue",
        workers: 3,
        served: 5,
        p99: 9,
        purged: 2,
        requeued: 1,
        expired: undefined,
      },
    ]);
  });

  it("gives no rows for shapes it does not know, never throws", () => {
    for (const junk of [
      undefined,
      null,
      42,
      "x",
      [],
      { components: 3 },
      { components: { a: [1] } },
      { components: { a: { perService: "no" } } },
    ])
      expect(serviceRowsOf(junk)).toEqual([]);
  });
});

describe("ConsoleModel", () => {
  it("computes rates between polls and keeps the series", () => {
    const m = new ConsoleModel();
    m.addTarget("md", "http://x/stats", 0);
    m.poll("md", { stats: majordomo(0) }, 1000);
    m.poll("md", { stats: majordomo(20) }, 3000);
    const [row] = m.snapshot(3000).services;
    expect(row).toMatchObject({ key: "md/majordomo_broker/echo", rate: 10, up: true, served: 20 });
    expect(row?.series.map((p) => p.rate)).toEqual([0, 10]);
    expect(m.snapshot(3000).totals).toMatchObject({
      workers: 2,
      rate: 10,
      services: 1,
      targetsUp: 1,
    });
  });

  it("shows a target that stops answering as down (rows greyed, kept), then up again, with one line each", () => {
    const m = new ConsoleModel();
    m.addTarget("md", "http://x/stats", 0);
    m.poll("md", { stats: majordomo(5) }, 1000);
    m.poll("md", { error: "ECONNREFUSED" }, 2000);
    m.poll("md", { error: "ECONNREFUSED" }, 3000);
    let s = m.snapshot(3000);
    expect(s.targets[0]).toMatchObject({
      up: false,
      since: 2000,
      lastError: "ECONNREFUSED",
      failures: 2,
    });
    expect(s.services[0]?.up).toBe(false);
    expect(s.totals.workers).toBe(0);
    m.poll("md", { stats: majordomo(9) }, 4000);
    s = m.snapshot(4000);
    expect(s.targets[0]).toMatchObject({ up: true, since: 4000 });
    expect(s.services[0]?.up).toBe(true);
    expect(s.logs.map((l) => [l.level, l.msg])).toEqual([
      ["error", "md is down: ECONNREFUSED"],
      ["info", "md is up again"],
    ]);
  });

  it("logs worker count changes and presence transitions", () => {
    const m = new ConsoleModel();
    m.addTarget("md", "u", 0);
    m.poll("md", { stats: majordomo(1, 2) }, 1000);
    m.poll("md", { stats: majordomo(2, 1) }, 2000);
    m.presence({ type: "peer:joined", key: "robot-1" }, 2100);
    m.presence({ type: "peer:expired", key: "robot-1" }, 2200);
    m.presence({ type: "peer:returned", key: "robot-1" }, 2300);
    const s = m.snapshot(2300);
    expect(s.presence).toEqual([
      { key: "robot-1", state: "alive", since: 2300, joined: 1, returned: 1 },
    ]);
    expect(s.logs.map((l) => l.msg)).toEqual([
      "md echo: workers 2 → 1",
      "presence: robot-1 joined",
      "presence: robot-1 expired",
      "presence: robot-1 returned",
    ]);
    expect(s.logs[0]?.level).toBe("warn");
    m.presence({ type: "peer:silent", key: "robot-1" }, 2400);
    expect(m.presentPeers()).toEqual(["robot-1"]);
    m.refreshPresence("robot-1", "alive", 2500); // heard again: no event, no log line
    expect(m.snapshot(2500).presence[0]).toMatchObject({ state: "alive", since: 2500 });
    m.presence({ type: "peer:expired", key: "robot-1" }, 2600);
    m.refreshPresence("robot-1", "alive", 2700); // expired stays expired until peer:returned
    expect(m.snapshot(2700).presence[0]?.state).toBe("expired");
    expect(m.presentPeers()).toEqual([]);
    expect(m.snapshot(2700).logs).toHaveLength(6);
  });

  it("is bounded: series to the window (and MAX_CONSOLE_POINTS), logs to maxLogs", () => {
    const m = new ConsoleModel({ window: 10_000, maxLogs: 3 });
    m.addTarget("md", "u", 0);
    for (let t = 0; t <= 60_000; t += 1000) m.poll("md", { stats: majordomo(t) }, t);
    const series = m.snapshot(60_000).services[0]?.series ?? [];
    expect(series[0]?.t).toBe(50_000);
    expect(series.length).toBe(11);
    for (let i = 0; i < 10; i++) m.log({ time: i, level: "warn", app: "a", msg: String(i) });
    expect(m.snapshot(60_000).logs.map((l) => l.msg)).toEqual(["7", "8", "9"]);
    const dense = new ConsoleModel({ window: 86_400_000 });
    dense.addTarget("md", "u", 0);
    for (let t = 0; t < MAX_CONSOLE_POINTS + 50; t++) dense.poll("md", { stats: majordomo(t) }, t);
    expect(dense.snapshot(MAX_CONSOLE_POINTS + 50).services[0]?.series.length).toBe(
      MAX_CONSOLE_POINTS,
    );
  });

  it("validates its options", () => {
    expect(() => new ConsoleModel({ window: 0 })).toThrow(/window/);
    expect(() => new ConsoleModel({ maxLogs: 0 })).toThrow(/maxLogs/);
  });
});
