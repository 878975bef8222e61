import { describe, expect, test, vi } from "vitest";
import { ManualClock, systemClock } from "@zg/core";
import { LinkHeartbeat, type LinkHeartbeatOptions } from "../src/index.js";

function link(over: Partial<LinkHeartbeatOptions> = {}) {
  const clock = new ManualClock(1000);
  const log: string[] = [];
  const hb = new LinkHeartbeat({
    interval: 100,
    liveness: 3,
    clock,
    sendHeartbeat: () => log.push(`hb@${clock.now()}`),
    onSilent: (f) => log.push(`silent@${clock.now()}:${f}`),
    onDead: (f) => log.push(`dead@${clock.now()}:${f}`),
    ...over,
  });
  return { clock, log, hb };
}

describe("LinkHeartbeat", () => {
  test("sends a heartbeat only after one idle interval, reports silent at I and dead at L·I, then stops", () => {
    const { clock, log, hb } = link();
    hb.start();
    expect(hb.running).toBe(true);
    clock.advance(99);
    expect(log).toEqual([]);
    clock.advance(1);
    expect(log).toEqual(["silent@1100:100", "hb@1100"]);
    clock.advance(200);
    expect(log).toEqual(["silent@1100:100", "hb@1100", "hb@1200", "dead@1300:300"]);
    expect(hb.running).toBe(false);
    expect(hb.heartbeatsSent).toBe(2);
    clock.advance(10_000);
    expect(log).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });

  test("outgoing traffic postpones heartbeats; incoming traffic keeps the peer alive", () => {
    const { clock, log, hb } = link();
    hb.start();
    for (let i = 0; i < 50; i++) {
      clock.advance(60);
      hb.sent();
      hb.received();
    }
    expect(log).toEqual([]);
    expect(hb.silent).toBe(false);
    expect(hb.lastHeard).toBe(clock.now());
    // Only incoming: heartbeats flow, no silence.
    for (let i = 0; i < 10; i++) {
      clock.advance(50);
      hb.received();
    }
    expect(log.every((l) => l.startsWith("hb@"))).toBe(true);
    expect(log).toHaveLength(5);
    hb.stop();
    expect(clock.pending).toBe(0);
  });

  test("the peer is never declared dead before L·I of silence, whatever the phase of the last message", () => {
    for (let phase = 0; phase < 100; phase += 7) {
      const { clock, log, hb } = link();
      hb.start();
      clock.advance(phase);
      hb.received();
      const t0 = clock.now();
      let deadAt = -1;
      for (let i = 0; i < 400 && deadAt < 0; i++) {
        clock.advance(1);
        if (log.some((l) => l.startsWith("dead@"))) deadAt = clock.now();
      }
      expect(deadAt - t0).toBe(300);
    }
  });

  test("pauseWhenSilent: no heartbeats while the peer is silent; they resume as soon as it is heard again", () => {
    const { clock, log, hb } = link({ pauseWhenSilent: true, liveness: 5 });
    hb.start();
    clock.advance(100); // silent, and one heartbeat: the probe
    expect(log).toEqual(["silent@1100:100", "hb@1100"]);
    clock.advance(250);
    expect(log).toEqual(["silent@1100:100", "hb@1100"]);
    expect(hb.heartbeatsSent).toBe(1);
    hb.received(); // the peer is back: the schedule resumes at once
    expect(hb.silent).toBe(false);
    clock.advance(0);
    expect(log).toEqual(["silent@1100:100", "hb@1100", "hb@1350"]);
    clock.advance(100); // silent again: hb@1350 was the probe, nothing more
    expect(log.slice(3)).toEqual(["silent@1450:100"]);
    clock.advance(199);
    expect(log).toHaveLength(4);
  });

  test("silentAfter reports silence after that many intervals; heartbeats and death are unchanged", () => {
    const { clock, log, hb } = link({ silentAfter: 1.5 });
    hb.start();
    clock.advance(149);
    expect(log).toEqual(["hb@1100"]);
    clock.advance(1);
    expect(log).toEqual(["hb@1100", "silent@1150:150"]);
    clock.advance(150);
    expect(log).toEqual(["hb@1100", "silent@1150:150", "hb@1200", "dead@1300:300"]);
    expect(() => link({ silentAfter: 0.9 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => link({ silentAfter: 3.5 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
  });

  test("start() restarts after death; stop() is idempotent and leaves no timer", () => {
    const { clock, log, hb } = link();
    hb.start();
    clock.advance(300);
    expect(log.at(-1)).toBe("dead@1300:300");
    hb.start();
    expect(hb.running).toBe(true);
    clock.advance(100);
    expect(hb.silent).toBe(true);
    hb.stop();
    hb.stop();
    expect(clock.pending).toBe(0);
    clock.advance(10_000);
    expect(log.filter((l) => l.startsWith("dead@"))).toHaveLength(1);
  });

  test("a throwing callback is logged and never stops the schedule", () => {
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) };
    const { clock, log, hb } = link({
      logger,
      sendHeartbeat: () => {
        throw new Error("boom");
      },
      onSilent: () => {
        throw new Error("boom");
      },
    });
    hb.start();
    clock.advance(300);
    expect(errors).toEqual([
      "LinkHeartbeat onSilent callback threw",
      "LinkHeartbeat sendHeartbeat callback threw",
      "LinkHeartbeat sendHeartbeat callback threw",
    ]);
    expect(log).toEqual(["dead@1300:300"]);
  });

  test("absurd intervals and liveness are refused at construction", () => {
    const base = { sendHeartbeat: () => {}, onDead: () => {} };
    for (const interval of [0, -1, 5, Number.NaN, Infinity, 3_600_001]) {
      expect(() => new LinkHeartbeat({ ...base, interval })).toThrow(
        expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
      );
    }
    for (const liveness of [0, 1.5, -3, 1001]) {
      expect(() => new LinkHeartbeat({ ...base, interval: 100, liveness })).toThrow(
        expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
      );
    }
    expect(new LinkHeartbeat({ ...base, interval: 10 }).liveness).toBe(3);
  });

  test("a wall-clock jump of ±1 h expires nothing (liveness uses monotonic time)", () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "performance"] });
    try {
      const events: string[] = [];
      const hb = new LinkHeartbeat({
        interval: 100,
        clock: systemClock,
        sendHeartbeat: () => events.push("hb"),
        onDead: () => events.push("dead"),
      });
      hb.start();
      for (let i = 0; i < 20; i++) {
        vi.setSystemTime(Date.now() + (i % 2 === 0 ? 3_600_000 : -3_600_000));
        vi.advanceTimersByTime(50);
        hb.received();
      }
      expect(events).not.toContain("dead");
      hb.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
