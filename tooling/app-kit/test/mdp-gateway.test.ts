import { describe, expect, it } from "vitest";
import { ManualClock, ZgError } from "@zg/core";
import {
  isHostPort,
  MAX_MDP_GATEWAY_CACHED_SERVICES,
  mdpFailure,
  ServiceCache,
} from "../src/index.js";

describe("ServiceCache", () => {
  it("trusts an answer for ttl ms on its clock", () => {
    const clock = new ManualClock();
    const cache = new ServiceCache(1000, clock);
    expect(cache.get("echo")).toBeUndefined();
    cache.set("echo", true);
    cache.set("nope", false);
    clock.advance(999);
    expect(cache.get("echo")).toBe(true);
    expect(cache.get("nope")).toBe(false);
    clock.advance(1);
    expect(cache.get("echo")).toBeUndefined();
  });

  it("starts afresh beyond its bound instead of growing", () => {
    const cache = new ServiceCache(1000, new ManualClock());
    for (let i = 0; i <= MAX_MDP_GATEWAY_CACHED_SERVICES; i += 1) cache.set(`s${i}`, true);
    expect(cache.size).toBe(1);
  });
});

describe("mdpFailure", () => {
  it("maps timeouts and exhausted retries to timeout, the rest to unavailable", () => {
    expect(mdpFailure(new ZgError("ZG_TIMEOUT", "t"), "echo", 50)).toEqual({
      ok: false,
      code: "timeout",
      message: "no reply from echo within 50 ms",
    });
    expect(mdpFailure(new ZgError("ZG_RETRIES_EXHAUSTED", "r"), "echo", 50).code).toBe("timeout");
    expect(mdpFailure(new Error("a\nb"), "echo", 50)).toEqual({
      ok: false,
      code: "unavailable",
      message: "a b",
    });
  });
});

describe("isHostPort", () => {
  it("accepts host:port and bracketed IPv6, refuses the rest", () => {
    expect(isHostPort("127.0.0.1:0")).toBe(true);
    expect(isHostPort("[::1]:5592")).toBe(true);
    expect(isHostPort("5592")).toBe(false);
    expect(isHostPort("host:")).toBe(false);
  });
});
