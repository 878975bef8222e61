import { isZgError } from "@zg/core/pure";
import { describe, expect, test } from "vitest";
import {
  findZpl,
  parseZpl,
  writeZpl,
  ZplError,
  type ZplDialect,
  type ZplNode,
} from "../src/zpl/index.js";
import { fuzzText, prng, randomTree, RFC_EXAMPLE } from "./zpl-corpus.js";

type Tuple = [string, string, Tuple[]];
const tuples = (nodes: ZplNode[]): Tuple[] =>
  nodes.map((n) => [n.name, n.value, tuples(n.children)]);
const parse = (text: string, dialect: ZplDialect = "rfc"): Tuple[] =>
  tuples(parseZpl(text, { dialect }));
const failure = (text: string, dialect: ZplDialect = "rfc"): ZplError => {
  try {
    parseZpl(text, { dialect });
  } catch (e) {
    expect(e).toBeInstanceOf(ZplError);
    return e as ZplError;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
};

describe("4/ZPL, the RFC example", () => {
  test.each(["rfc", "zconfig"] as const)("%s: parses to the tree the RFC describes", (dialect) => {
    const nodes = parseZpl(RFC_EXAMPLE, { dialect });
    expect(tuples(nodes)).toEqual([
      [
        "context",
        "",
        [
          ["iothreads", "1", []],
          ["verbose", "1", []],
        ],
      ],
      [
        "main",
        "",
        [
          ["type", "zmq_queue", []],
          [
            "frontend",
            "",
            [
              [
                "option",
                "",
                [
                  ["hwm", "1000", []],
                  ["swap", "25000000", []],
                  ["subscribe", "#2", []],
                ],
              ],
              ["bind", "tcp://eth0:5555", []],
            ],
          ],
          ["backend", "", [["bind", "tcp://eth0:5556", []]]],
        ],
      ],
    ]);
    expect(findZpl(nodes, "main", "frontend", "bind")?.value).toBe("tcp://eth0:5555");
    expect(findZpl(nodes, "main", "nothing")).toBeUndefined();
  });

  test("positions: line and column of every name", () => {
    const nodes = parseZpl(RFC_EXAMPLE, { positions: true });
    expect(nodes[0]).toMatchObject({ name: "context", line: 4, column: 1 });
    expect(findZpl(nodes, "main", "frontend", "option", "hwm")).toMatchObject({
      line: 12,
      column: 13,
    });
  });
});

describe("every row of the zconfig table (protocols.md §18.2), both dialects", () => {
  test.each(["rfc", "zconfig"] as const)("%s: accepted rows", (d) => {
    expect(parse('a = "x # y"', d)).toEqual([["a", "x # y", []]]); // '#' inside quotes kept
    expect(parse("a = x y   # c   ", d)).toEqual([["a", "x y", []]]); // trailing comment and spaces stripped
    expect(parse("a = x=y", d)).toEqual([["a", "x=y", []]]);
    expect(parse("a\nb =\n", d)).toEqual([
      ["a", "", []],
      ["b", "", []],
    ]); // empty values
    expect(parse("a\r\n    b = 1\r\n", d)).toEqual([["a", "", [["b", "1", []]]]]); // CRLF
    expect(parse("x\n    a = 1\n    a = 2", d)).toEqual([
      [
        "x",
        "",
        [
          ["a", "1", []],
          ["a", "2", []],
        ],
      ],
    ]);
    expect(findZpl(parseZpl("x\n    a = 1\n    a = 2", { dialect: d }), "x", "a")?.value).toBe("1"); // first duplicate
  });

  test.each(["rfc", "zconfig"] as const)("%s: rejected rows, with line and column", (d) => {
    expect(failure("a\n  b", d)).toMatchObject({ line: 2, column: 3, code: "ZG_DECODE" }); // not a multiple of 4
    expect(failure("a\n\tb", d)).toMatchObject({ line: 2 }); // tabs
    expect(failure("a\n        b", d)).toMatchObject({ line: 2, column: 9 }); // jump of two levels
    expect(failure("    a", d)).toMatchObject({ line: 1, column: 5 }); // indented first line
    expect(failure("a b", d)).toMatchObject({ line: 1, column: 3 });
  });

  test("unterminated quote: the RFC treats it as unquoted, zconfig rejects it", () => {
    expect(parse('a = "open')).toEqual([["a", '"open', []]]);
    expect(parse("a = 'open # c")).toEqual([["a", "'open", []]]);
    expect(failure('a = "open', "zconfig")).toMatchObject({
      line: 1,
      column: 5,
      reason: 'missing "',
    });
  });

  test("the other departures of zconfig from the RFC", () => {
    // CR alone ends a line in the RFC; zconfig sees it as whitespace
    expect(parse("a\r    b = 1\r")).toEqual([["a", "", [["b", "1", []]]]]);
    expect(failure("a\r    b = 1\r", "zconfig").line).toBe(1);
    // comment lines at any indentation (RFC) vs a multiple of 4 (zconfig)
    expect(parse("a\n  # c\n    b")).toEqual([["a", "", [["b", "", []]]]]);
    expect(failure("a\n  # c\n    b", "zconfig").line).toBe(2);
    // the first non-blank character must be '#' or alphanumeric (RFC); zconfig takes any name
    expect(failure("$a").reason).toMatch(/first non-blank character/);
    expect(parse("$a", "zconfig")).toEqual([["$a", "", []]]);
    // zconfig keeps '#x' when a comment directly follows "= "
    expect(parse("a = #x")).toEqual([["a", "", []]]);
    expect(parse("a = #x", "zconfig")).toEqual([["a", "#x", []]]);
    expect(parse("a =#x", "zconfig")).toEqual([["a", "", []]]);
    // '/' at a name's edge: a name character for the RFC, refused by zconfig
    expect(parse("a\n    /b/ = 1")).toEqual([["a", "", [["/b/", "1", []]]]]);
    expect(failure("a\n    /b/ = 1", "zconfig").reason).toMatch(/'\/' not valid/);
    // vertical tab: whitespace to zconfig, a control character to the RFC parser
    expect(parse("a = 1\v", "zconfig")).toEqual([["a", "1", []]]);
    expect(failure("a = 1\v")).toMatchObject({ line: 1, column: 6 });
  });
});

describe("4/ZPL details", () => {
  test("names: letters, digits and $ - _ @ . & + /", () => {
    expect(parse("a.b-c_d@e&f+g/h$ = 1")).toEqual([["a.b-c_d@e&f+g/h$", "1", []]]);
    expect(failure("a! = 1")).toMatchObject({ column: 2 });
    expect(failure("a\n    = 1")).toMatchObject({ line: 2, column: 5 });
    expect(failure("a\n    é = 1")).toMatchObject({ line: 2, column: 5 });
  });

  test("quotes: single or double, no escapes, other quote kept, text after the closing quote refused", () => {
    expect(parse(`a = 'x"'`)).toEqual([["a", 'x"', []]]);
    expect(parse(`a = "x'"`)).toEqual([["a", "x'", []]]);
    expect(parse(`a = "  padded  "   # c`)).toEqual([["a", "  padded  ", []]]);
    expect(parse(`a = ""`)).toEqual([["a", "", []]]);
    expect(parse(`a = x "y"`)).toEqual([["a", 'x "y"', []]]);
    expect(failure(`a = "x" y`)).toMatchObject({ line: 1, column: 9 });
  });

  test("whitespace: only before names and inside values; blank lines and comments anywhere", () => {
    expect(parse("a\t=\t1\t")).toEqual([["a", "1", []]]);
    expect(parse("\n\n# c\na#c\n\n    b\n\t\n    c")).toEqual([
      [
        "a",
        "",
        [
          ["b", "", []],
          ["c", "", []],
        ],
      ],
    ]);
    expect(parse("a\n    b\n        c\nd")).toEqual([
      ["a", "", [["b", "", [["c", "", []]]]]],
      ["d", "", []],
    ]);
    expect(parse("")).toEqual([]);
    expect(parse("a = é ✓")).toEqual([["a", "é ✓", []]]);
  });

  test("errors are ZplError (ZG_DECODE) with a readable message", () => {
    const e = failure("a\n    b\n      c");
    expect(e.name).toBe("ZplError");
    expect(isZgError(e, "ZG_DECODE")).toBe(true);
    expect(e.message).toBe("line 3, column 7: indentation of 6 spaces is not a multiple of 4");
    expect(() => parseZpl(42 as unknown as string)).toThrow(ZplError);
  });
});

describe("writer", () => {
  test("writes 4 spaces per level, bare values where they read back, quotes otherwise", () => {
    const nodes = parseZpl(RFC_EXAMPLE);
    expect(writeZpl(nodes)).toBe(
      "context\n    iothreads = 1\n    verbose = 1\nmain\n    type = zmq_queue\n    frontend\n        option\n" +
        '            hwm = 1000\n            swap = 25000000\n            subscribe = "#2"\n' +
        "        bind = tcp://eth0:5555\n    backend\n        bind = tcp://eth0:5556\n",
    );
    const node = (value: string): ZplNode[] => [{ name: "a", value, children: [] }];
    expect(writeZpl(node(` x"`))).toBe(`a = ' x"'\n`);
    expect(writeZpl(node(`"x'`))).toBe(`a = "x'\n`); // an unterminated quote reads back bare (RFC)
    expect(writeZpl(node("x"), { lineEnding: "\r\n" })).toBe("a = x\r\n");
  });

  test("refuses what ZPL cannot hold, with ZG_INVALID_ARGUMENT", () => {
    const bad = (name: string, value: string): unknown => {
      try {
        writeZpl([{ name: "ok", value: "", children: [{ name, value, children: [] }] }]);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(bad("a b", "")).toMatchObject({
      code: "ZG_INVALID_ARGUMENT",
      details: { path: "/ok/a b" },
    });
    expect(bad("", "")).toMatchObject({ code: "ZG_INVALID_ARGUMENT" });
    expect(bad("a", "x\ny")).toMatchObject({ code: "ZG_INVALID_ARGUMENT" });
    expect(bad("a", `#"'`)).toMatchObject({ code: "ZG_INVALID_ARGUMENT" });
  });

  test("round trip: parseZpl(writeZpl(tree)) equals the tree (2,000 random trees)", () => {
    const rand = prng(4);
    let written = 0;
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const tree = randomTree(rand);
      let text: string;
      try {
        text = writeZpl(tree);
      } catch (e) {
        expect(isZgError(e, "ZG_INVALID_ARGUMENT")).toBe(true);
        refused++;
        continue;
      }
      written++;
      expect(parseZpl(text)).toEqual(tree);
      expect(parseZpl(writeZpl(tree, { lineEnding: "\r\n" }))).toEqual(tree);
    }
    expect(written).toBeGreaterThan(1000);
    console.log(
      `zpl round trip: ${written} trees written and read back, ${refused} refused by the writer`,
    );
  });

  test("parse → write → parse is stable on every fuzzed text the parser accepts", () => {
    const rand = prng(9);
    for (let i = 0; i < 3000; i++) {
      const text = fuzzText(rand);
      let nodes: ZplNode[];
      try {
        nodes = parseZpl(text);
      } catch {
        continue;
      }
      expect(parseZpl(writeZpl(nodes))).toEqual(nodes);
    }
  });
});

test("10,000 fuzzed inputs per dialect: no crash, no error but ZplError", () => {
  const rand = prng(1);
  const counts = { rfc: [0, 0], zconfig: [0, 0] };
  for (let i = 0; i < 10_000; i++) {
    let text = fuzzText(rand);
    if (i % 10 === 0)
      text = String.fromCharCode(...Array.from({ length: 40 }, () => Math.floor(rand() * 256)));
    for (const dialect of ["rfc", "zconfig"] as const) {
      try {
        parseZpl(text, { dialect });
        counts[dialect][0]!++;
      } catch (e) {
        if (!(e instanceof ZplError)) throw e;
        expect(e.line).toBeGreaterThanOrEqual(1);
        expect(e.column).toBeGreaterThanOrEqual(1);
        counts[dialect][1]!++;
      }
    }
  }
  expect(counts.rfc[0]).toBeGreaterThan(1000);
  expect(counts.rfc[1]).toBeGreaterThan(1000);
  console.log(
    `zpl fuzz: rfc ${counts.rfc[0]} accepted / ${counts.rfc[1]} rejected; zconfig ${counts.zconfig[0]} / ${counts.zconfig[1]}`,
  );
});

test("@zg/zns/zpl has no zeromq dependency: it imports only @zg/core/pure and its own files", async () => {
  const { readdirSync, readFileSync } = await import("node:fs");
  const dir = new URL("../src/zpl/", import.meta.url);
  const imports = readdirSync(dir).flatMap((f) =>
    [...readFileSync(new URL(f, dir), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]!),
  );
  expect(imports.filter((i) => !i.startsWith("./"))).toEqual(["@zg/core/pure"]);
});
