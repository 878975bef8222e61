// The README's Binary Star table states the exported defaults, and the @zg/pirate/bstar entry point
// loads no other pattern (its import graph stays inside src/bstar plus the shared handler type and LazySocket).
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import * as bstar from "../src/bstar/index.js";
import * as pirate from "../src/index.js";

const NAMES = [
  "DEFAULT_BSTAR_HEARTBEAT",
  "DEFAULT_BSTAR_CLIENT_TIMEOUT",
  "DEFAULT_BSTAR_SETTLE_DELAY",
] as const;

test("README states the exported Binary Star defaults (Guide: 1000, 1000, 2000 ms)", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const name of NAMES) {
    const m = new RegExp(`(\\d[\\d ]*) ms \\(\`${name}\`\\)`).exec(readme);
    expect(m, name).not.toBeNull();
    expect(Number((m?.[1] ?? "").replace(/ /g, "")), name).toBe(bstar[name]);
    expect(pirate[name], `${name} re-exported from the index`).toBe(bstar[name]);
  }
  expect([
    bstar.DEFAULT_BSTAR_HEARTBEAT,
    bstar.DEFAULT_BSTAR_CLIENT_TIMEOUT,
    bstar.DEFAULT_BSTAR_SETTLE_DELAY,
  ]).toEqual([1000, 1000, 2000]);
});

/** Files outside src/bstar that the entry point may load: shared mechanisms, no pattern. */
const SHARED = ["common/handler.ts", "common/lazy-socket.ts"];

test("@zg/pirate/bstar imports nothing of the other patterns", () => {
  const src = fileURLToPath(new URL("../src/", import.meta.url));
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/from "(\.[^"]+)"/g)) {
      visit(resolve(dirname(file), (m[1] as string).replace(/\.js$/, ".ts")));
    }
  };
  visit(join(src, "bstar", "index.ts"));
  const files = [...seen].map((f) => relative(src, f)).sort();
  for (const f of files) expect(f.startsWith("bstar/") || SHARED.includes(f), f).toBe(true);
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    exports: Record<string, unknown>;
    publishConfig: { exports: Record<string, unknown> };
  };
  expect(pkg.exports["./bstar"]).toBeDefined();
  expect(pkg.publishConfig.exports["./bstar"]).toEqual({
    types: "./dist/bstar/index.d.ts",
    default: "./dist/bstar/index.js",
  });
});
