import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { runReadmeQuickStart } from "@zg/testing";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

test("the README quick start runs: starts, uses and closes, and the process exits", async () => {
  const { lines, run } = await runReadmeQuickStart(readme, new URL("../.tmp/", import.meta.url));
  expect(lines).toBeLessThanOrEqual(15);
  expect(run.timedOut, run.output).toBe(false);
  expect(run.code, run.output).toBe(0);
  expect(run.output).toContain("1n debug");
}, 20_000);
