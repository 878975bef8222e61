import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { runReadmeQuickStart } from "@zg/testing";
import * as harmony from "../src/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const fmt = (n: number) => (n < 10_000 ? String(n) : n.toLocaleString("en-US").replace(/,/g, " "));

const rows = readme
  .split("\n")
  .filter((l) => l.startsWith("|"))
  .map((l) => l.split("|").map((c) => c.trim()));
const row = (first: string) => rows.find((r) => r[1] === first);

test("the README options table states every exported constant with its value", () => {
  const constants = Object.entries(harmony).filter(
    ([name, v]) => /^(DEFAULT|MIN|MAX)_|^TASK_OVERHEAD$/.test(name) && typeof v === "number",
  ) as [string, number][];
  expect(constants.length).toBeGreaterThan(10);
  for (const [name, value] of constants) {
    const cells = row(`\`${name}\``);
    expect(cells, name).toBeDefined();
    expect(cells![2]!.startsWith(fmt(value)), `${name} = ${value}: ${cells![2]}`).toBe(true);
  }
});

test("the README wire table matches the codec", () => {
  expect(readme).toContain(`"${harmony.PIPELINE_HEADER}"`);
  for (const [name, byte] of Object.entries(harmony.PipelineCommand))
    expect(row(name)?.[2], name).toBe(`\`0x${byte.toString(16).padStart(2, "0")}\``);
});

test("the README says which Harmony this is", () => {
  expect(readme).toMatch(/\*\*Which "Harmony"\.\*\*/);
  expect(readme).toContain("notes.txt");
  expect(readme).toContain("chapter 8");
});

test("the README quick start runs: starts, uses and closes, and the process exits", async () => {
  const { lines, run } = await runReadmeQuickStart(readme, new URL("../.tmp/", import.meta.url));
  expect(lines).toBeLessThanOrEqual(15);
  expect(run.timedOut, run.output).toBe(false);
  expect(run.code, run.output).toBe(0);
  expect(run.stdout).toContain("[ 'A', 'B' ]");
}, 20_000);
