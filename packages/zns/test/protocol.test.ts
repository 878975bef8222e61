import { toFrame } from "@zg/core/pure";
import { describe, expect, test } from "vitest";
import {
  decodeAnswer,
  decodeFeed,
  decodeLookup,
  encodeAnswer,
  encodeFeed,
  encodeLookup,
  mapEndpoint,
} from "../src/index.js";

const f = (...parts: string[]) => parts.map((p) => toFrame(p));

describe("lookup codec (ZNS01 inside 10/FLP)", () => {
  test("round trip of a request and of both replies", () => {
    expect(decodeLookup(encodeLookup("broker", "test"))).toEqual({ name: "broker", env: "test" });
    const ok = {
      connect: ["tcp://a:1"],
      bind: [],
      source: "feed" as const,
      stale: false,
      ttl: 1000,
    };
    expect(decodeAnswer(encodeAnswer(ok))).toEqual(ok);
    expect(decodeAnswer(encodeAnswer({ code: "404", reason: "unknown name x" }))).toEqual({
      code: "404",
      reason: "unknown name x",
    });
  });

  test("malformed lookups get 400, other versions 505, never a throw", () => {
    expect(decodeLookup([])).toMatchObject({ code: "400" });
    expect(decodeLookup(f("HELLO"))).toMatchObject({ code: "400" });
    expect(decodeLookup(f("ZNS02", "RESOLVE", "a", ""))).toMatchObject({ code: "505" });
    expect(decodeLookup(f("ZNS01", "RESOLVE", "a"))).toMatchObject({ code: "400" });
    expect(decodeLookup(f("ZNS01", "DELETE", "a", ""))).toMatchObject({ code: "400" });
    expect(decodeLookup(f("ZNS01", "RESOLVE", "n".repeat(201), ""))).toMatchObject({ code: "400" });
    expect(decodeLookup(f("ZNS01", "RESOLVE", "a b", ""))).toMatchObject({ code: "400" });
    expect(decodeLookup(f("ZNS01", "RESOLVE", "a", "e v"))).toMatchObject({ code: "400" });
    expect(
      decodeLookup([toFrame("ZNS01"), toFrame("RESOLVE"), Buffer.from([0xff, 0xfe]), toFrame("")]),
    ).toMatchObject({
      code: "400",
    });
  });

  test("malformed answers are reasons, never throws", () => {
    for (const frames of [
      [],
      f("X"),
      f("ZNS01", "OK", "{"),
      f("ZNS01", "OK", '{"connect":[1]}'),
      f("ZNS01", "ERR", "500", "x"),
      f("ZNS01"),
    ])
      expect(typeof decodeAnswer(frames)).toBe("string");
  });
});

describe("feed codec (ZNSF01)", () => {
  test("round trip", () => {
    for (const m of [
      { type: "SYNC" as const, version: "" },
      { type: "HUGZ" as const, version: "ab.3" },
      { type: "TABLE" as const, version: "ab.3", json: "{}" },
    ])
      expect(decodeFeed(encodeFeed(m))).toEqual(m);
  });

  test("garbage is a reason, never a throw", () => {
    for (const frames of [
      [],
      f("ZNSF02", "SYNC", ""),
      f("ZNSF01", "SYNC"),
      f("ZNSF01", "TABLE", "v"),
      f("ZNSF01", "NOPE", "v"),
      f("ZNSF01", "SYNC", "x".repeat(65)),
    ])
      expect(typeof decodeFeed(frames)).toBe("string");
  });
});

describe("host names (mapEndpoint)", () => {
  const lookup = (host: string): Promise<string> =>
    Promise.resolve(host === "v6.example" ? "::1" : "10.0.0.7");

  test("bind: names become addresses; *, addresses and interfaces stay for libzmq", async () => {
    expect(await mapEndpoint("tcp://web.example:5555", "bind", lookup)).toBe("tcp://10.0.0.7:5555");
    expect(await mapEndpoint("tcp://v6.example:5555", "bind", lookup)).toBe("tcp://[::1]:5555");
    expect(await mapEndpoint("tcp://*:5555", "bind", lookup)).toBe("tcp://*:5555");
    expect(await mapEndpoint("tcp://127.0.0.1:*", "bind", lookup)).toBe("tcp://127.0.0.1:*");
    expect(await mapEndpoint("tcp://lo:5555", "bind", lookup)).toBe("tcp://lo:5555");
    expect(await mapEndpoint("ipc:///tmp/x", "bind", lookup)).toBe("ipc:///tmp/x");
  });

  test("connect: interface names become their address; DNS names are left to libzmq", async () => {
    expect(await mapEndpoint("tcp://lo:5555", "connect", lookup)).toBe("tcp://127.0.0.1:5555");
    expect(await mapEndpoint("tcp://web.example:5555", "connect", lookup)).toBe(
      "tcp://web.example:5555",
    );
    expect(await mapEndpoint("tcp://127.0.0.1:5555", "connect", lookup)).toBe(
      "tcp://127.0.0.1:5555",
    );
  });
});
