import { describe, expect, it } from "vitest";
import { isZgError, ManualClock } from "@zg/core";
import { closeAfter } from "@zg/testing";
import {
  ClockDevice,
  clockTopic,
  decodeTick,
  encodeTick,
  parseResolution,
  resolutionName,
  TickSchedule,
  type ClockDeviceEvents,
} from "../src/index.js";

describe("resolutions", () => {
  it("parses ms numbers and unit strings, and names them canonically", () => {
    expect(parseResolution(100)).toBe(100);
    expect(parseResolution("100ms")).toBe(100);
    expect(parseResolution("250")).toBe(250);
    expect(parseResolution("1s")).toBe(1000);
    expect(parseResolution("2.5s")).toBe(2500);
    expect(parseResolution("1m")).toBe(60_000);
    expect(parseResolution("1h")).toBe(3_600_000);
    expect([100, 1000, 2500, 60_000, 90_000, 3_600_000].map(resolutionName)).toEqual([
      "100ms",
      "1s",
      "2500ms",
      "1m",
      "90s",
      "1h",
    ]);
  });

  it("refuses junk, sub-10 ms and fractional-ms periods with ZG_INVALID_ARGUMENT", () => {
    for (const bad of ["", "fast", "1 parsec", "-1s", 5, "1.5ms", 0.5, Number.NaN, "2d"]) {
      expect(() => parseResolution(bad), String(bad)).toThrow(
        expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }) as Error,
      );
    }
  });

  it("topics never prefix-match each other (1m vs 1ms)", () => {
    expect(clockTopic(60_000)).toBe("ZGCLK01/1m/");
    expect(clockTopic(1)).toBe("ZGCLK01/1ms/");
    expect(clockTopic(1).startsWith(clockTopic(60_000))).toBe(false);
    expect(clockTopic(10_000).startsWith(clockTopic(1000))).toBe(false);
  });
});

describe("wire", () => {
  const tick = {
    period: 1000,
    seq: 42,
    instance: 0x0123456789abcdefn,
    scheduled: 1_700_000_042_000,
    sentWall: 1_700_000_042_001.5,
    sentMono: 42_000.75,
  };

  it("round-trips a tick", () => {
    const [topic, body] = encodeTick(tick);
    expect(topic).toBe("ZGCLK01/1s/");
    expect(body.length).toBe(48);
    expect(decodeTick([Buffer.from(topic), body])).toEqual(tick);
  });

  it("rejects every malformed message with ZG_PROTOCOL, never another error", () => {
    const [topic, body] = encodeTick(tick);
    const t = Buffer.from(topic);
    const cases: Buffer[][] = [
      [],
      [t],
      [t, body, body],
      [Buffer.from("ZGCLK02/1s/"), body],
      [Buffer.from("ZGCLK01/1s"), body],
      [Buffer.from("ZGCLK01/soon/"), body],
      [Buffer.from("ZGCLK01/1m/"), body],
      [t, body.subarray(0, 47)],
      [t, Buffer.concat([body, Buffer.alloc(1)])],
      [t, Buffer.alloc(48, 0xff)],
    ];
    const nan = Buffer.from(body);
    nan.writeDoubleBE(Number.NaN, 32);
    cases.push([t, nan]);
    for (const c of cases) {
      let error: unknown;
      try {
        decodeTick(c);
      } catch (e) {
        error = e;
      }
      expect(isZgError(error, "ZG_PROTOCOL"), String(error)).toBe(true);
    }
  });
});

describe("TickSchedule (drift-free, pure)", () => {
  it("schedules tick n at origin + n·period whatever the lateness of earlier ticks", () => {
    const s = new TickSchedule(100, 1000);
    expect(s.delay(1000)).toBe(0);
    expect(s.fire(1000)).toEqual({ seq: 0, skipped: 0, lateness: 0 });
    expect(s.fire(1050)).toBeUndefined(); // early: nothing due
    expect(s.delay(1050)).toBe(50);
    expect(s.fire(1137)).toEqual({ seq: 1, skipped: 0, lateness: 37 }); // late
    expect(s.delay(1137)).toBe(63); // the next one is still due at 1200, not 1237
    expect(s.fire(1200)).toEqual({ seq: 2, skipped: 0, lateness: 0 });
  });

  it("after a stall publishes only the latest due tick and counts the skipped ones", () => {
    const s = new TickSchedule(100, 0);
    s.fire(0);
    const due = s.fire(1250); // ticks 1..12 fell due; 12 is the latest
    expect(due).toEqual({ seq: 12, skipped: 11, lateness: 50 });
    expect(s.skipped).toBe(11);
    expect(s.nextDue).toBe(1300);
  });

  it("never moves backwards on floating-point rounding", () => {
    const s = new TickSchedule(10, 0.1);
    for (let n = 0; n < 1000; n++) {
      const due = s.fire(s.nextDue);
      expect(due?.seq).toBe(n);
      expect(due?.skipped).toBe(0);
    }
  });
});

describe("ClockDevice on a ManualClock", () => {
  it("publishes on schedule and reports skipped ticks after a stall", async () => {
    const manual = new ManualClock(5000);
    const stall = { extra: 0 };
    // The device's clock: ManualClock timers, plus time that passed while "stalled".
    const clock = {
      now: () => manual.now() + stall.extra,
      setTimeout: (fn: () => void, ms: number) => manual.setTimeout(fn, ms),
      clearTimeout: (h: unknown) => manual.clearTimeout(h),
      advance: (ms: number) => manual.advance(ms),
      get pending() {
        return manual.pending;
      },
    };
    let wall = 1_700_000_000_000;
    const device = closeAfter(
      new ClockDevice({
        endpoints: "inproc://clock-unit",
        resolutions: ["100ms", "1s"],
        clock,
        wallClock: () => wall,
      }),
    );
    const skips: ClockDeviceEvents["tick:skipped"][] = [];
    device.on("tick:skipped", (e) => skips.push(e));
    expect(await device.start()).toEqual({ endpoints: ["inproc://clock-unit"] });
    clock.advance(1000);
    let s = device.stats().resolutions;
    expect(s.map((r) => [r.name, r.published, r.skipped])).toEqual([
      ["100ms", 11, 0],
      ["1s", 2, 0],
    ]);
    // A stall: 950 ms pass while no timer can run (a blocked event loop); then the 100 ms timer,
    // due 100 ms later, fires 950 ms late: at 2050 ms since the origin.
    stall.extra += 950;
    wall += 950;
    clock.advance(100);
    s = device.stats().resolutions;
    expect(s.map((r) => [r.name, r.published, r.skipped, r.maxLateness])).toEqual([
      ["100ms", 12, 9, 50], // ticks 11..19 skipped; 20 (due 2000) published 50 ms late
      ["1s", 2, 0, 0],
    ]);
    expect(skips).toEqual([{ name: "100ms", period: 100, skipped: 9, seq: 20 }]);
    await device.close();
    expect(device.state).toBe("closed");
    expect(clock.pending).toBe(0);
  });

  it("validates options in the constructor", () => {
    expect(() => new ClockDevice({ endpoints: "tcp://127.0.0.1:*", resolutions: [] })).toThrow(
      /at least one/,
    );
    expect(() => new ClockDevice({ endpoints: "tcp://127.0.0.1:*", resolutions: ["5ms"] })).toThrow(
      /between 10/,
    );
    expect(() => new ClockDevice({ endpoints: "nowhere" })).toThrow(/not a ZeroMQ endpoint/);
  });
});
