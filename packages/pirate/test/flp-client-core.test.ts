import { describe, expect, test } from "vitest";
import { isZgError, ManualClock, type Message } from "@zg/core";
import { FlpClientCore } from "../src/freelance/flp-client-core.js";
import {
  decodeFlpClientInbound,
  decodeShotgunReply,
  encodeFlpPing,
  encodeFlpRequest,
  encodeShotgunRequest,
} from "../src/freelance/protocol.js";

const F = (s: string): Buffer => Buffer.from(s);
const show = (ms: Message[]): string[] => ms.splice(0).map((m) => m.map(String).join("|"));

function core(endpoints = ["a", "b"]) {
  const clock = new ManualClock();
  const sent: Message[] = [];
  const events: string[] = [];
  const c = new FlpClientCore({
    endpoints,
    pingInterval: 100,
    serverTtl: 300,
    resendInterval: 50,
    connectPing: 20,
    clock,
    send: (m) => void sent.push(m),
    onServerAlive: (e) => events.push(`alive ${e}`),
    onServerExpired: (e, reason) => events.push(`expired ${e} ${reason}`),
  });
  return { c, clock, sent, events };
}

describe("Freelance codecs (10/FLP and the shotgun model)", () => {
  test("golden frames", () => {
    expect(encodeFlpPing(F("tcp://s:1")).map(String)).toEqual(["tcp://s:1", "PING"]);
    expect(encodeFlpRequest(F("s"), F("7"), [F("x")]).map(String)).toEqual(["s", "7", "x"]);
    expect(decodeFlpClientInbound([F("s"), F("PONG")])).toEqual({ type: "pong", server: F("s") });
    const r = decodeFlpClientInbound([F("s"), F("7"), F("y")]);
    expect(r.type === "reply" && [String(r.control), ...r.body.map(String)]).toEqual(["7", "y"]);
    expect(() => decodeFlpClientInbound([F("s"), F("7")])).toThrow(/control/);
    expect(() => decodeFlpClientInbound([F("s")])).toThrow(/short/);
    expect(encodeShotgunRequest(F("3"), [F("x")]).map(String)).toEqual(["", "3", "x"]);
    expect(decodeShotgunReply([F(""), F("3"), F("r")]).body.map(String)).toEqual(["r"]);
    expect(() => decodeShotgunReply([F("3"), F("r")])).toThrow(/sequence/);
  });
});

describe("FlpClientCore (socket-free, ManualClock, no polling)", () => {
  test("pings every server, marks it alive on any answer, pings it at pingInterval, expires it after serverTtl", () => {
    const { c, clock, sent, events } = core();
    c.start();
    expect(show(sent)).toEqual(["a|PING", "b|PING"]);
    clock.advance(20); // not heard yet: the connect ping interval
    expect(show(sent)).toEqual(["a|PING", "b|PING"]);
    c.receive([F("a"), F("PONG")]);
    expect(c.activeServers()).toEqual(["a"]);
    clock.advance(20);
    expect(show(sent)).toEqual(["b|PING"]); // a is alive: pinged at pingInterval only
    clock.advance(80);
    expect(show(sent).filter((m) => m.startsWith("a"))).toEqual(["a|PING"]);
    clock.advance(200); // 300 ms since a was heard
    expect(events).toEqual(["alive a", "expired a ttl"]);
    expect(c.activeServers()).toEqual([]);
    expect(clock.pending).toBeGreaterThan(0);
    c.close();
    expect(clock.pending).toBe(0);
  });

  test("a request waits for a live server, goes to the first, re-sends to the next every resendInterval, resolves once", async () => {
    const { c, clock, sent } = core();
    c.start();
    show(sent);
    const reply = c.request([F("q")], 1000, undefined);
    expect(show(sent)).toEqual([]); // no live server yet
    c.receive([F("a"), F("PONG")]);
    c.receive([F("b"), F("PONG")]);
    expect(show(sent)).toEqual(["a|1|q"]);
    clock.advance(50);
    expect(show(sent).filter((m) => m.endsWith("q"))).toEqual(["b|1|q"]);
    c.receive([F("b"), F("1"), F("answer")]);
    expect((await reply).map(String)).toEqual(["answer"]);
    c.receive([F("a"), F("1"), F("late copy")]);
    expect(c.stats()).toMatchObject({ requests: 1, replies: 1, resends: 1, staleReplies: 1 });
    c.close();
  });

  test("global timeout → ZG_TIMEOUT; an unroutable server leaves the list and the request moves on at once", async () => {
    const { c, clock, sent, events } = core();
    c.start();
    c.receive([F("a"), F("PONG")]);
    c.receive([F("b"), F("PONG")]);
    show(sent);
    const r = c.request([F("q")], 120, undefined).catch((e: unknown) => e);
    const [first] = sent.splice(0);
    c.sendFailed(first as Message);
    expect(events).toContain("expired a unreachable");
    expect(show(sent)).toEqual(["b|1|q"]);
    clock.advance(1);
    expect(show(sent)).toEqual(["a|PING"]); // probed again at once
    clock.advance(119);
    const e = await r;
    expect(isZgError(e, "ZG_TIMEOUT")).toBe(true);
    expect((e as { details: Record<string, unknown> }).details).toMatchObject({ timeout: 120 });
    expect(c.stats().failures).toBe(1);
    c.close();
  });

  test("garbage and unknown servers are counted, never thrown; close rejects ZG_CLOSED", async () => {
    const { c } = core();
    c.receive([F("zz"), F("PONG")]);
    c.receive([F("a")]);
    expect(c.stats().staleReplies).toBe(2);
    const r = c.request([F("q")], 1000, undefined).catch((e: unknown) => e);
    c.close();
    expect(isZgError(await r, "ZG_CLOSED")).toBe(true);
  });
});
