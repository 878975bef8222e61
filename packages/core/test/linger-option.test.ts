import { describe, expect, it } from "vitest";
import { DEFAULT_LINGER, lingerOption } from "../src/index.js";

describe("lingerOption", () => {
  it("defaults to DEFAULT_LINGER (0) and accepts -1 (forever) and positive ms", () => {
    expect(DEFAULT_LINGER).toBe(0);
    expect(lingerOption(undefined)).toBe(DEFAULT_LINGER);
    expect(lingerOption(-1)).toBe(-1);
    expect(lingerOption(250)).toBe(250);
  });

  it("refuses non-integers and values below -1, naming the option", () => {
    expect(() => lingerOption(-2)).toThrow(/linger must be/);
    expect(() => lingerOption(1.5)).toThrow(/linger must be/);
    expect(() => lingerOption(Number.NaN, "frontend.linger")).toThrow(/frontend\.linger must be/);
  });
});
