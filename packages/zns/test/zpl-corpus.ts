import type { ZplNode } from "../src/zpl/index.js";

/** The example of 4/ZPL, with the `#` comment lines of its source (rendered as "1." on the web). */
export const RFC_EXAMPLE = `#   ZPL configuration file example
#   This format is designed to be trivial to write and parse
#
context
    iothreads = 1
    verbose = 1      #   Ask for a trace

main
    type = zmq_queue
    frontend
        option
            hwm = 1000
            swap = 25000000
            subscribe = "#2"
        bind = tcp://eth0:5555
    backend
        bind = tcp://eth0:5556
`;

/** A small deterministic PRNG (mulberry32), so fuzz runs are reproducible by seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  "    ",
  "    ",
  "        ",
  " ",
  "  ",
  "\t",
  "=",
  " = ",
  "#",
  " # c",
  '"',
  "'",
  "a",
  "b1",
  "Z9",
  "$x",
  "-",
  "_",
  "@",
  ".",
  "&",
  "+",
  "/",
  "x y",
  "tcp://h:1",
  "é",
  "!",
  ":",
  "\r",
  "\v",
];
const ENDS = ["\n", "\n", "\n", "\r\n", "\r", ""];

/** A random ZPL-like text: lines of indentation, names, '=', quotes, comments and odd bytes. */
export function fuzzText(rand: () => number): string {
  const lines = 1 + Math.floor(rand() * 6);
  let out = "";
  let level = -1;
  for (let l = 0; l < lines; l++) {
    const shape = rand();
    if (shape < 0.6) {
      // mostly well-formed: indentation at most one level deeper, a name, maybe a value
      level = rand() < 0.9 ? Math.floor(rand() * (level + 2)) : 2;
      out += "    ".repeat(level);
      out += ["a", "b1", "x.y", "$v", "k-z", "n/m", "/s"][Math.floor(rand() * 7)];
      if (rand() < 0.7) {
        out += [" = ", "=", "  =  ", " ="][Math.floor(rand() * 4)];
        const v = rand();
        out +=
          v < 0.3
            ? "v1"
            : v < 0.45
              ? '"q #x"'
              : v < 0.55
                ? "'s'"
                : v < 0.65
                  ? '"open'
                  : v < 0.75
                    ? "x # c"
                    : v < 0.85
                      ? "#h"
                      : "";
      }
      if (rand() < 0.15) out += "  ";
    } else {
      const n = Math.floor(rand() * 6);
      for (let i = 0; i < n; i++) out += TOKENS[Math.floor(rand() * TOKENS.length)];
    }
    out += ENDS[Math.floor(rand() * ENDS.length)];
  }
  return out;
}

const NAME_CHARS = "abcXYZ019$-_@.&+/";
const VALUE_CHARS = ["a", "b", " ", "\t", "#", '"', "'", "=", "/", ":", "é", "*"];

/** A random valid tree: names of ZPL name characters, values ZPL can hold (or that the writer refuses). */
export function randomTree(rand: () => number, depth = 0): ZplNode[] {
  const n = Math.floor(rand() * (depth === 0 ? 5 : 3));
  const nodes: ZplNode[] = [];
  for (let i = 0; i < n; i++) {
    let name = "abcdefgh"[Math.floor(rand() * 8)]!;
    const len = Math.floor(rand() * 5);
    for (let j = 0; j < len; j++) name += NAME_CHARS[Math.floor(rand() * NAME_CHARS.length)];
    let value = "";
    const vlen = rand() < 0.3 ? 0 : Math.floor(rand() * 8);
    for (let j = 0; j < vlen; j++) value += VALUE_CHARS[Math.floor(rand() * VALUE_CHARS.length)];
    nodes.push({ name, value, children: depth < 3 ? randomTree(rand, depth + 1) : [] });
  }
  return nodes;
}
