/**
 * Docs match the code: every exported `DEFAULT_*` (and `MIN_`/`MAX_`) number
 * constant of a published package must appear in that package's README
 * together with its value, so the options tables cannot drift from the code.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { repoRoot } from "../src/bench.js";

const root = repoRoot(import.meta.dirname);
const packages = readdirSync(join(root, "packages")).filter((d) =>
  existsSync(join(root, "packages", d, "src", "index.ts")),
);

function spellings(value: number): string[] {
  const plain = String(value);
  const grouped = value.toLocaleString("en-US");
  return [
    plain,
    grouped,
    grouped.replace(/,/g, " "),
    grouped.replace(/,/g, "\u202f"),
    grouped.replace(/,/g, "_"),
  ];
}

describe.each(packages)("packages/%s README documents its defaults", (dir) => {
  test("every exported numeric DEFAULT_/MIN_/MAX_ constant is in the README with its value", async () => {
    const readme = readFileSync(join(root, "packages", dir, "README.md"), "utf8");
    const mod = (await import(join(root, "packages", dir, "src", "index.ts"))) as Record<
      string,
      unknown
    >;
    const missing: string[] = [];
    for (const [name, value] of Object.entries(mod)) {
      if (!/^(DEFAULT|MIN|MAX)_[A-Z0-9_]+$/.test(name) || typeof value !== "number") continue;
      const lines = readme.split("\n").filter((l) => l.includes(name));
      if (lines.length === 0 || !lines.some((l) => spellings(value).some((s) => l.includes(s)))) {
        missing.push(`${name} = ${value}`);
      }
    }
    expect(
      missing,
      `constants missing from packages/${dir}/README.md (name and value on one line)`,
    ).toEqual([]);
  });
});
