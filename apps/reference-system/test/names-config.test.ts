import { describe, expect, it } from "vitest";
import { parseNamesFile } from "@zg/zns";
import { cloneAddress } from "../src/by-name.js";
import {
  CLIENT_DEFAULTS,
  CLIENT_SETTINGS,
  MAX_PERIOD,
  MIN_PERIOD,
  isClientSetting,
  parseMs,
} from "../src/demo-config.js";
import { namesFile } from "../src/names.js";

describe("names file of the reference system", () => {
  it("is a valid @zg/zns names file with every name's connect list, in order", () => {
    const text = namesFile({
      majordomo: ["tcp://127.0.0.1:4001"],
      "ppqueue-frontend": ["tcp://127.0.0.1:4002"],
      clone: ["tcp://127.0.0.1:4003", "tcp://127.0.0.1:4004", "tcp://127.0.0.1:4005"],
      "log-broker": [],
    });
    const table = parseNamesFile(text);
    expect(table.version).toBe(1);
    expect([...table.names.keys()]).toEqual(["majordomo", "ppqueue-frontend", "clone"]);
    expect(table.names.get("clone")?.base.connect).toEqual([
      "tcp://127.0.0.1:4003",
      "tcp://127.0.0.1:4004",
      "tcp://127.0.0.1:4005",
    ]);
    expect(table.names.get("majordomo")?.base.connect).toEqual(["tcp://127.0.0.1:4001"]);
  });

  it("the clone name's three endpoints map to snapshot, publisher, collector; fewer is an error", () => {
    expect(cloneAddress(["tcp://h:1", "tcp://h:2", "tcp://h:3"])).toEqual({
      snapshot: "tcp://h:1",
      publisher: "tcp://h:2",
      collector: "tcp://h:3",
    });
    expect(() => cloneAddress(["tcp://h:1"])).toThrow(/three connect endpoints/);
  });
});

describe("demo configuration values", () => {
  it("accepts integer ms within the bounds, rejects anything else with the reason", () => {
    expect(parseMs("50", MIN_PERIOD, MAX_PERIOD)).toEqual({ ok: true, value: 50 });
    expect(parseMs(" 250 ", MIN_PERIOD, MAX_PERIOD)).toEqual({ ok: true, value: 250 });
    for (const bad of [undefined, "", "fast", "5", "1e3", "-10", "10.5", "60001"])
      expect(parseMs(bad, MIN_PERIOD, MAX_PERIOD)).toEqual({
        ok: false,
        reason: `expected an integer number of ms in ${MIN_PERIOD}..${MAX_PERIOD}`,
      });
  });

  it("every client setting has a default within the bounds", () => {
    for (const name of Object.keys(CLIENT_SETTINGS)) {
      expect(isClientSetting(name)).toBe(true);
      const value = CLIENT_DEFAULTS[name as keyof typeof CLIENT_DEFAULTS];
      expect(parseMs(String(value), MIN_PERIOD, MAX_PERIOD)).toEqual({ ok: true, value });
    }
    expect(isClientSetting("chaos-interval")).toBe(false);
    expect(isClientSetting("toString")).toBe(false);
  });
});
