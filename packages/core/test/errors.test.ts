import { describe, expect, test } from "vitest";
import {
  assertArgument,
  durationOption,
  integerOption,
  isZgError,
  ProtocolError,
  socketError,
  ZgError,
} from "../src/index.js";

describe("errors", () => {
  test("ZgError carries a literal code, cause and details; name matches the class", () => {
    const cause = new Error("inner");
    const e = new ZgError("ZG_TIMEOUT", "too slow", { cause, details: { endpoint: "tcp://x:1" } });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("ZgError");
    expect(e.code).toBe("ZG_TIMEOUT");
    expect(e.cause).toBe(cause);
    expect(e.details).toEqual({ endpoint: "tcp://x:1" });
    expect(new ProtocolError("bad").name).toBe("ProtocolError");
    expect(new ZgError("ZG_CLOSED", "x").cause).toBeUndefined();
  });

  test("the brand survives a second copy of @zg/core", () => {
    // A plain object carrying the global-symbol brand is what another copy's ZgError looks like.
    const foreign = Object.assign(new Error("x"), { code: "ZG_CLOSED" });
    Object.defineProperty(foreign, Symbol.for("zg.error"), { value: true });
    expect(ZgError.isInstance(foreign)).toBe(true);
    expect(isZgError(foreign, "ZG_CLOSED")).toBe(true);
    expect(isZgError(foreign, "ZG_TIMEOUT")).toBe(false);
    expect(isZgError(new Error("x"))).toBe(false);
    expect(isZgError(null)).toBe(false);
  });

  test("option validation throws ZG_INVALID_ARGUMENT naming the option", () => {
    expect(() => assertArgument(false, "nope")).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }) as Error,
    );
    expect(durationOption("timeout", undefined, 5)).toBe(5);
    expect(durationOption("timeout", 10, 5)).toBe(10);
    expect(() => durationOption("timeout", -1, 5)).toThrow(/timeout/);
    expect(() => durationOption("timeout", Number.NaN, 5)).toThrow(/timeout/);
    expect(() => durationOption("timeout", 100, 5, { max: 50 })).toThrow(/between 0 and 50/);
    expect(integerOption("retries", undefined, 3)).toBe(3);
    expect(() => integerOption("retries", 1.5, 3)).toThrow(/retries/);
    expect(() => integerOption("retries", 0, 3, { min: 1 })).toThrow(/retries/);
  });

  test("socketError keeps zeromq.js code and errno", () => {
    const e = socketError(
      "bind failed",
      Object.assign(new Error("x"), { code: "EADDRINUSE", errno: 98 }),
    );
    expect(e).toMatchObject({ code: "ZG_SOCKET", details: { code: "EADDRINUSE", errno: 98 } });
  });
});
