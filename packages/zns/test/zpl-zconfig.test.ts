import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { parseZpl, type ZplDialect, type ZplNode } from "../src/zpl/index.js";
import { fuzzText, prng, RFC_EXAMPLE } from "./zpl-corpus.js";

// Differential test against CZMQ's own zconfig (Debian libczmq4 / libczmq-dev),
// through the ctypes harness in test/fixtures/zconfig.py.
const HARNESS = fileURLToPath(new URL("./fixtures/zconfig.py", import.meta.url));
const PYTHON = "/usr/bin/python3";

type Tuple = [string, string, Tuple[]];
const tuples = (nodes: ZplNode[]): Tuple[] =>
  nodes.map((n) => [n.name, n.value, tuples(n.children)]);

function oracle(inputs: string[]): (Tuple[] | null)[] | undefined {
  const r = spawnSync(PYTHON, [HARNESS], {
    input: JSON.stringify(inputs),
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) return undefined;
  return JSON.parse(r.stdout) as (Tuple[] | null)[];
}

const ours = (text: string, dialect: ZplDialect): Tuple[] | null => {
  try {
    return tuples(parseZpl(text, { dialect }));
  } catch {
    return null;
  }
};

/** The documented departures of zconfig from 4/ZPL an input may hit (README "ZPL decisions"). */
function divergences(text: string): string[] {
  const out: string[] = [];
  if (/\r(?!\n)/.test(text)) out.push("CR alone ends a line");
  // eslint-disable-next-line no-control-regex -- control characters are the point
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) out.push("control characters");
  if (/=[ \t\v\f\r]*(["'])(?![^\n\r]*\1)/.test(text)) out.push("unterminated quote");
  if (/^(?: {4})* {1,3}#/m.test(text) || /^ *\t[ \t]*#/m.test(text)) out.push("indented comment");
  if (/=[ \t\v\f]+#/.test(text)) out.push("'= #' value");
  if (!/^[\s]*(#|[A-Za-z0-9]|$)/.test(text)) out.push("first character");
  if (/(^|[ \t])\/|\/([ \t=#]|$)/m.test(text)) out.push("'/' at a name's edge");
  return out;
}

const available = oracle(["a = 1"]) !== undefined;
const reason = "libczmq (Debian libczmq-dev) not loadable by /usr/bin/python3";
const differential = available || process.env["CI"] ? test : test.skip;

differential(
  `zconfig dialect = CZMQ zconfig on the RFC example, the table rows and 5,000 fuzzed inputs${available ? "" : ` [skipped: ${reason}]`}`,
  () => {
    expect(available, `precondition: ${reason}`).toBe(true);
    const rand = prng(7);
    const corpus = [
      RFC_EXAMPLE,
      'a = "x # y"',
      "a = x y   # c   ",
      "a = x=y",
      "a\nb =\n",
      "a\r\n    b = 1\r\n",
      "a\n  b",
      "a\n\tb",
      "a\n        b",
      "    a",
      'a = "open',
      "x\n    a = 1\n    a = 2",
    ];
    for (let i = 0; i < 5000; i++) corpus.push(fuzzText(rand).replace(/\0/g, ""));
    const expected = oracle(corpus)!;
    let accepted = 0;
    const classes = new Map<string, number>();
    let rfcSame = 0;
    for (let i = 0; i < corpus.length; i++) {
      const text = corpus[i]!;
      const want = expected[i];
      expect(ours(text, "zconfig"), JSON.stringify(text)).toEqual(want);
      if (want !== null) accepted++;
      // The RFC dialect differs from zconfig only on the documented departures.
      const rfc = ours(text, "rfc");
      if (JSON.stringify(rfc) === JSON.stringify(want)) rfcSame++;
      else {
        const why = divergences(text);
        expect(
          why,
          `rfc and zconfig differ on ${JSON.stringify(text)} outside the documented cases`,
        ).not.toEqual([]);
        for (const w of why) classes.set(w, (classes.get(w) ?? 0) + 1);
      }
    }
    expect(accepted).toBeGreaterThan(500);
    console.log(
      `zconfig differential: ${corpus.length} inputs, ${accepted} accepted by zconfig, all equal in the zconfig dialect; rfc dialect equal on ${rfcSame}, differs on ${corpus.length - rfcSame} (${[...classes].map(([k, v]) => `${k}: ${v}`).join(", ")})`,
    );
  },
);
