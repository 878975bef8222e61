import { describe, expect, test } from "vitest";
import { ManualClock } from "@zg/core";
import {
  decodeHeartbeat,
  encodeHeartbeat,
  HEARTBEAT_HEADER,
  HeartbeatSender,
  isHeartbeatHeader,
} from "../src/index.js";

const b = (...bytes: number[]) => Buffer.from(bytes);
const s = (text: string) => Buffer.from(text);

describe("heartbeat wire form (README 'Wire format')", () => {
  test("golden frames", () => {
    expect(HEARTBEAT_HEADER).toEqual(s("ZGHB01"));
    expect(encodeHeartbeat("heartbeat", 1000)).toEqual([
      s("ZGHB01"),
      b(0x01),
      s("interval=1000\n"),
    ]);
    expect(encodeHeartbeat("ping", 250)).toEqual([s("ZGHB01"), b(0x02), s("interval=250\n")]);
    expect(encodeHeartbeat("pong")).toEqual([s("ZGHB01"), b(0x03)]);
  });

  test("round trips and classification", () => {
    expect(decodeHeartbeat(encodeHeartbeat("ping", 100))).toEqual({
      kind: "command",
      frame: { command: "ping", interval: 100 },
    });
    expect(decodeHeartbeat(encodeHeartbeat("pong"))).toEqual({
      kind: "command",
      frame: { command: "pong" },
    });
    expect(decodeHeartbeat([s("ZGHB01"), b(0x01), s("")])).toEqual({
      kind: "command",
      frame: { command: "heartbeat" },
    });
    expect(decodeHeartbeat([s("ZGHB01"), b(0x01), s("other=1\n")])).toEqual({
      kind: "command",
      frame: { command: "heartbeat" },
    });
    // Application data: anything whose first frame is not a 6-byte ZGHB header.
    expect(decodeHeartbeat([s("hello")])).toEqual({ kind: "data" });
    expect(decodeHeartbeat([s("ZGHB0"), b(0x02)])).toEqual({ kind: "data" });
    expect(decodeHeartbeat([s("ZGHB011"), b(0x02)])).toEqual({ kind: "data" });
    expect(decodeHeartbeat([])).toEqual({ kind: "data" });
    expect(isHeartbeatHeader(s("ZGHB99"))).toBe(true);
    // Unknown command code: reported, for the caller to count and drop.
    expect(decodeHeartbeat([s("ZGHB01"), b(0x7f)])).toEqual({ kind: "unknown", code: 0x7f });
  });

  test("malformed heartbeat frames throw ProtocolError (callers count, log, drop)", () => {
    const bad = [
      [s("ZGHB02"), b(0x02)], // unknown version
      [s("ZGHB01")], // no command frame
      [s("ZGHB01"), b(0x02, 0x02)], // command frame not 1 byte
      [s("ZGHB01"), s("")],
      [s("ZGHB01"), b(0x02), s("interval=abc\n")],
      [s("ZGHB01"), b(0x02), s("interval=1.5\n")],
      [s("ZGHB01"), b(0x02), s("interval=99999999999999999\n")],
      [s("ZGHB01"), b(0x02), s("no-equals-sign\n")],
      [s("ZGHB01"), b(0x02), s("interval=10\n"), s("extra")],
      [s("ZGHB01"), b(0x02), Buffer.alloc(2000, 0x61)],
    ];
    for (const frames of bad) {
      expect(() => decodeHeartbeat(frames)).toThrow(
        expect.objectContaining({ code: "ZG_PROTOCOL" }),
      );
    }
    // Absurd but well-formed intervals decode; the tracker clamps them.
    expect(decodeHeartbeat([s("ZGHB01"), b(0x02), s("interval=-5\n")])).toEqual({
      kind: "command",
      frame: { command: "ping", interval: -5 },
    });
    expect(decodeHeartbeat([s("ZGHB01"), b(0x02), s("interval=0\n")])).toEqual({
      kind: "command",
      frame: { command: "ping", interval: 0 },
    });
  });
});

describe("HeartbeatSender (one-way)", () => {
  test("a heartbeat only after one interval with nothing else sent", () => {
    const clock = new ManualClock();
    const beats: number[] = [];
    const sender = new HeartbeatSender({
      interval: 100,
      clock,
      sendHeartbeat: () => beats.push(clock.now()),
    });
    sender.start();
    for (let i = 0; i < 10; i++) {
      clock.advance(60);
      sender.sent();
    }
    expect(beats).toEqual([]);
    clock.advance(350);
    expect(beats).toEqual([700, 800, 900]);
    expect(sender.heartbeatsSent).toBe(3);
    sender.stop();
    sender.stop();
    expect(clock.pending).toBe(0);
  });

  test("refuses absurd intervals; a throwing callback does not stop it", () => {
    for (const interval of [0, 9, -1, Number.NaN, 3_600_001]) {
      expect(() => new HeartbeatSender({ interval, sendHeartbeat: () => {} })).toThrow(
        expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
      );
    }
    const clock = new ManualClock();
    let calls = 0;
    const sender = new HeartbeatSender({
      interval: 10,
      clock,
      sendHeartbeat: () => {
        calls++;
        throw new Error("boom");
      },
    });
    sender.start();
    clock.advance(50);
    expect(calls).toBe(5);
    sender.stop();
  });
});
