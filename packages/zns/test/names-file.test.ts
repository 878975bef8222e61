import { isZgError } from "@zg/core/pure";
import { describe, expect, test } from "vitest";
import type { NamesFileError } from "../src/index.js";
import {
  parseNamesFile,
  resolveEntry,
  tableFromJson,
  tableToJson,
  ZplError,
} from "../src/index.js";

const FILE = `# names of the reference system
zns
    version = 1
    default-env = production
name
    broker
        connect = tcp://broker-a:5555
        connect = tcp://broker-b:5555
        bind = tcp://*:5555
        ttl = 2000
        env = test
            connect = tcp://127.0.0.1:5555
            host = build-01
                connect = tcp://lo:5555
        host = build-01
            bind = tcp://lo:5555
    titanic
        connect = ipc:///run/zg/titanic
`;

const error = (text: string): NamesFileError | ZplError => {
  try {
    parseNamesFile(text, { source: "names.zpl" });
  } catch (e) {
    expect(isZgError(e, "ZG_DECODE")).toBe(true);
    return e as NamesFileError;
  }
  throw new Error("expected a names file error");
};

describe("names file", () => {
  test("base, environment, host and environment+host rules: the most specific wins per list", () => {
    const table = parseNamesFile(FILE);
    expect(table.defaultEnv).toBe("production");
    const broker = table.names.get("broker")!;
    expect(resolveEntry(broker, { env: "production", host: "web-1" })).toEqual({
      connect: ["tcp://broker-a:5555", "tcp://broker-b:5555"],
      bind: ["tcp://*:5555"],
      ttl: 2000,
    });
    expect(resolveEntry(broker, { env: "test", host: "web-1" })).toMatchObject({
      connect: ["tcp://127.0.0.1:5555"],
      bind: ["tcp://*:5555"],
    });
    expect(resolveEntry(broker, { env: "test", host: "build-01" })).toMatchObject({
      connect: ["tcp://lo:5555"],
      bind: ["tcp://lo:5555"],
    });
    expect(resolveEntry(broker, { env: "production", host: "build-01" })).toMatchObject({
      connect: ["tcp://broker-a:5555", "tcp://broker-b:5555"],
      bind: ["tcp://lo:5555"],
    });
    expect(resolveEntry(table.names.get("titanic")!, {})).toEqual({
      connect: ["ipc:///run/zg/titanic"],
      bind: [],
    });
  });

  test("the JSON feed form reads back equal, and refuses what is not a table", () => {
    const table = parseNamesFile(FILE);
    const back = tableFromJson(tableToJson(table));
    expect(tableToJson(back)).toBe(tableToJson(table));
    expect(
      resolveEntry(back.names.get("broker")!, { env: "test", host: "build-01" }).connect,
    ).toEqual(["tcp://lo:5555"]);
    for (const bad of [
      "",
      "[]",
      "{}",
      '{"version":1,"names":[{"name":"a b","base":{},"overrides":[]}]}',
      '{"version":1,"names":[{"name":"a","base":{"connect":["nope"]},"overrides":[]}]}',
    ])
      expect(() => tableFromJson(bad)).toThrow(expect.objectContaining({ code: "ZG_DECODE" }));
  });

  test("a wrong file: clear errors with source, line, column and property path", () => {
    expect(error("name\n    x\n        connect = tcp://nohost\n")).toMatchObject({
      name: "NamesFileError",
      line: 3,
      column: 9,
      path: "/name/x/connect",
    });
    expect(error("name\n    x\n        connect = tcp://nohost\n").message).toBe(
      'names.zpl: line 3, column 9: /name/x/connect: missing :port in "tcp://nohost"',
    );
    expect(error("name\n    x\n").message).toMatch(/at least one connect or bind endpoint/);
    expect(
      error("name\n    x\n        connect = tcp://a:1\n    x\n        bind = tcp://*:1").message,
    ).toMatch(/line 4.*defined twice/);
    expect(error("names\n").message).toMatch(/unknown section/);
    expect(error("zns\n    version = 2\n").message).toMatch(/unsupported names file version "2"/);
    expect(error("name\n    x\n        conect = tcp://a:1\n").message).toMatch(
      /\/name\/x\/conect: unknown property/,
    );
    expect(error("name\n    x\n        ttl = soon\n        connect = tcp://a:1\n").message).toMatch(
      /ttl must be milliseconds/,
    );
    expect(error("name\n    x\n        env\n            connect = tcp://a:1\n").message).toMatch(
      /env needs an environment name/,
    );
    expect(error(`name\n    ${"n".repeat(201)}\n        connect = tcp://a:1\n`).message).toMatch(
      /longer than 200/,
    );
    const zpl = error("name\n   x\n");
    expect(zpl).toBeInstanceOf(ZplError);
    expect(zpl.message).toBe(
      "names.zpl: line 2, column 4: indentation of 3 spaces is not a multiple of 4",
    );
  });
});
