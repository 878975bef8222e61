import { describe, expect, test, vi } from "vitest";
import { ManualClock, systemClock } from "@zg/core";
import {
  MAX_HEARTBEAT_INTERVAL,
  MIN_HEARTBEAT_INTERVAL,
  PresenceTracker,
  type PresenceTrackerOptions,
} from "../src/index.js";

function tracker(over: Partial<PresenceTrackerOptions<string>> = {}) {
  const clock = new ManualClock(5000);
  const log: string[] = [];
  const beats: string[] = [];
  const t = new PresenceTracker<string>({
    interval: 100,
    liveness: 3,
    granularity: 1,
    clock,
    sendHeartbeat: (k) => beats.push(`${k}@${clock.now()}`),
    ...over,
  });
  t.on("peer:joined", (e) => log.push(`joined ${e.key} ${e.interval}@${clock.now()}`));
  t.on("peer:silent", (e) => log.push(`silent ${e.key}@${clock.now()}`));
  t.on("peer:expired", (e) => log.push(`expired ${e.key}@${clock.now()} silentFor=${e.silentFor}`));
  t.on("peer:returned", (e) => log.push(`returned ${e.key}@${clock.now()} downFor=${e.downFor}`));
  return { clock, log, beats, t };
}

describe("PresenceTracker", () => {
  test("joined → silent after I → expired and purged after L·I → returned when seen again", () => {
    const { clock, log, t } = tracker();
    expect(t.seen("a")).toBe("joined");
    expect(t.get("a")).toEqual({ state: "alive", interval: 100, lastSeen: 5000 });
    clock.advance(100);
    expect(log).toEqual(["joined a 100@5000", "silent a@5100"]);
    expect(t.get("a")?.state).toBe("silent");
    expect(t.stats().silent).toBe(1);
    clock.advance(200);
    expect(log.at(-1)).toBe("expired a@5300 silentFor=300");
    expect(t.has("a")).toBe(false);
    expect(t.size).toBe(0);
    expect(t.stats()).toMatchObject({ peers: 0, silent: 0, joined: 1, expired: 1 });
    clock.advance(700);
    expect(t.seen("a")).toBe("returned");
    expect(log.at(-1)).toBe("returned a@6000 downFor=700");
    expect(t.seen("a")).toBe("alive");
    expect(t.stats()).toMatchObject({ peers: 1, returned: 1 });
    t.close();
    expect(clock.pending).toBe(0);
  });

  test("any message keeps a peer alive; a silent peer seen again is alive and its silence is re-armed", () => {
    const { clock, log, t } = tracker();
    t.seen("a");
    for (let i = 0; i < 100; i++) {
      clock.advance(90);
      t.seen("a");
    }
    expect(log).toEqual(["joined a 100@5000"]);
    clock.advance(150);
    t.seen("a");
    expect(t.get("a")?.state).toBe("alive");
    expect(t.stats().silent).toBe(0);
    clock.advance(100);
    expect(log.filter((l) => l.startsWith("silent"))).toHaveLength(2);
    t.close();
  });

  test("expiry happens exactly L·I after the last message (granularity 1), never before, for any phase", () => {
    const { clock, log, t } = tracker();
    for (let i = 0; i < 30; i++) {
      t.seen(`p${i}`);
      clock.advance(7);
    }
    const lastSeen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      t.seen(`p${i}`);
      lastSeen.set(`p${i}`, clock.now());
      clock.advance(3);
    }
    clock.advance(1000);
    const expired = log.filter((l) => l.startsWith("expired"));
    expect(expired).toHaveLength(30);
    for (const line of expired) {
      const [, key, at] = /expired (\S+)@(\d+)/.exec(line) ?? [];
      expect(Number(at) - (lastSeen.get(key as string) as number)).toBe(300);
    }
  });

  test("heartbeats go only to peers nothing was sent to for their interval", () => {
    const { clock, beats, t } = tracker();
    t.seen("busy");
    t.seen("idle");
    for (let i = 0; i < 5; i++) {
      clock.advance(50);
      t.sent("busy");
      t.seen("busy");
      t.seen("idle");
    }
    expect(beats).toEqual(["idle@5100", "idle@5200"]);
    expect(t.stats().heartbeatsSent).toBe(2);
    t.close();
  });

  test("pauseWhenSilent: one probe after the peer was last seen, then none until it is seen again", () => {
    const { clock, beats, t } = tracker({ pauseWhenSilent: true, liveness: 50 });
    t.seen("a");
    clock.advance(1000);
    expect(beats).toEqual(["a@5100"]);
    t.seen("a");
    clock.advance(150);
    expect(beats).toEqual(["a@5100", "a@6100"]);
    // Without the option the tracker keeps beating a silent peer.
    const plain = tracker({ liveness: 50 });
    plain.t.seen("a");
    plain.clock.advance(1000);
    expect(plain.beats).toHaveLength(10);
    t.close();
    plain.t.close();
  });

  test("per-peer intervals: an aggressive 100 ms peer and a relaxed 30 s peer each keep their own deadline", () => {
    const { clock, log, beats, t } = tracker({ interval: 1000 });
    t.seen("fast", 100);
    t.seen("slow", 30_000);
    t.seen("default");
    expect(t.get("fast")?.interval).toBe(100);
    expect(t.get("slow")?.interval).toBe(30_000);
    expect(t.get("default")?.interval).toBe(1000);
    clock.advance(300);
    expect(log).toContain("expired fast@5300 silentFor=300");
    expect(t.has("slow")).toBe(true);
    clock.advance(2700);
    expect(log).toContain("expired default@8000 silentFor=3000");
    clock.advance(86_999);
    expect(t.has("slow")).toBe(true);
    clock.advance(1);
    expect(log.at(-1)).toBe("expired slow@95000 silentFor=90000");
    expect(beats.filter((b) => b.startsWith("slow"))).toEqual(["slow@35000", "slow@65000"]);
    // A peer may change its interval; the new one applies from that message.
    t.seen("x", 100);
    t.seen("x", 5000);
    clock.advance(14_999);
    expect(t.has("x")).toBe(true);
    clock.advance(1);
    expect(t.has("x")).toBe(false);
    // A shorter interval takes effect at once (the deadline moves earlier).
    t.seen("y", 5000);
    clock.advance(1000);
    t.seen("y", 100);
    clock.advance(299);
    expect(t.has("y")).toBe(true);
    clock.advance(1);
    expect(t.has("y")).toBe(false);
  });

  test("absurd announced intervals are clamped, counted and logged; no stuck or runaway timer", () => {
    const warnings: unknown[] = [];
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn: (_m: string, f?: unknown) => warnings.push(f),
    };
    const { clock, t } = tracker({ logger, interval: 1000 });
    t.seen("zero", 0);
    t.seen("negative", -5);
    t.seen("nan", Number.NaN);
    t.seen("inf", Infinity);
    t.seen("huge", 1e12);
    expect(t.get("zero")?.interval).toBe(MIN_HEARTBEAT_INTERVAL);
    expect(t.get("negative")?.interval).toBe(MIN_HEARTBEAT_INTERVAL);
    expect(t.get("nan")?.interval).toBe(1000);
    expect(t.get("inf")?.interval).toBe(1000);
    expect(t.get("huge")?.interval).toBe(MAX_HEARTBEAT_INTERVAL);
    expect(t.stats().clampedIntervals).toBe(5);
    expect(warnings).toHaveLength(5);
    // The same bad announcement on every message is counted each time but re-arms nothing.
    t.seen("zero", 0);
    expect(t.stats().clampedIntervals).toBe(6);
    expect(clock.pending).toBeLessThanOrEqual(1);
    clock.advance(30);
    expect(t.has("zero")).toBe(false);
    expect(t.has("negative")).toBe(false);
    clock.advance(3000);
    expect(t.has("nan")).toBe(false);
    expect(t.has("huge")).toBe(true);
    clock.advance(3 * MAX_HEARTBEAT_INTERVAL);
    expect(t.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  test("silentAfter: silence is reported after that many intervals; expiry is unchanged", () => {
    const { clock, log, t } = tracker({ silentAfter: 1.5 });
    t.seen("a");
    clock.advance(149);
    expect(log).toEqual(["joined a 100@5000"]);
    clock.advance(1);
    expect(log.at(-1)).toBe("silent a@5150");
    clock.advance(150);
    expect(log.at(-1)).toBe("expired a@5300 silentFor=300");
    expect(() => tracker({ silentAfter: 0.5 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => tracker({ silentAfter: 4 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
  });

  test("maxPeers refuses new keys; rememberExpired bounds the memory of expired keys", () => {
    const { clock, t } = tracker({ maxPeers: 2, rememberExpired: 1 });
    expect(t.seen("a")).toBe("joined");
    expect(t.seen("b")).toBe("joined");
    expect(t.seen("c")).toBe("refused");
    expect(t.stats().refused).toBe(1);
    clock.advance(300);
    expect(t.size).toBe(0);
    expect(t.seen("a")).toBe("joined"); // forgotten: only the newest expired key is remembered
    expect(t.seen("b")).toBe("returned");
  });

  test("remove() forgets a peer without an expiry; close() is idempotent and seen() after close is refused", () => {
    const { clock, log, t } = tracker();
    t.seen("a");
    expect(t.remove("a")).toBe(true);
    expect(t.remove("a")).toBe(false);
    clock.advance(1000);
    expect(log).toEqual(["joined a 100@5000"]);
    t.close();
    t.close();
    expect(t.seen("a")).toBe("refused");
    expect(clock.pending).toBe(0);
  });

  test("a throwing sendHeartbeat or listener never stops the table", () => {
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) };
    const { clock, log, t } = tracker({
      logger,
      sendHeartbeat: () => {
        throw new Error("boom");
      },
    });
    t.on("peer:silent", () => {
      throw new Error("listener boom");
    });
    t.seen("a");
    clock.advance(300);
    expect(log.at(-1)).toBe("expired a@5300 silentFor=300");
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });

  test("one timer for 100k peers, all expired on time, and cheap", () => {
    const { clock, t } = tracker({ interval: 1000, sendHeartbeat: () => {} });
    let expired = 0;
    t.on("peer:expired", () => expired++);
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) t.seen(`peer-${i}`);
    expect(clock.pending).toBeLessThanOrEqual(1);
    // Keep every other peer alive for a while: 8 rounds of 50k touches.
    for (let round = 0; round < 8; round++) {
      clock.advance(500);
      for (let i = 0; i < 100_000; i += 2) t.seen(`peer-${i}`);
      expect(clock.pending).toBeLessThanOrEqual(1);
    }
    expect(expired).toBe(50_000);
    expect(t.size).toBe(50_000);
    clock.advance(3000);
    expect(expired).toBe(100_000);
    expect(t.size).toBe(0);
    const took = performance.now() - started;
    expect(took).toBeLessThan(10_000);
    t.close();
    expect(clock.pending).toBe(0);
  });

  test("a wall-clock jump of ±1 h expires nobody (monotonic time only)", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "performance"] });
    try {
      const t = new PresenceTracker<string>({ interval: 100, clock: systemClock });
      let expired = 0;
      t.on("peer:expired", () => expired++);
      t.seen("a");
      for (let i = 0; i < 20; i++) {
        vi.setSystemTime(Date.now() + (i % 2 === 0 ? 3_600_000 : -3_600_000));
        vi.advanceTimersByTime(50);
        t.seen("a");
      }
      expect(expired).toBe(0);
      vi.advanceTimersByTime(310);
      expect(expired).toBe(1);
      t.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
