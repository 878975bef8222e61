import { readFileSync } from "node:fs";
import { runReadmeQuickStart } from "@zg/testing";
import { expect, test } from "vitest";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

test("the README quick start runs: starts, resolves, closes, and the process exits", async () => {
  const { lines, run } = await runReadmeQuickStart(readme, new URL("../.tmp/", import.meta.url));
  expect(lines).toBeLessThanOrEqual(15);
  expect(run.timedOut, run.output).toBe(false);
  expect(run.code, run.output).toBe(0);
  expect(run.output).toContain("connect: [ 'tcp://127.0.0.1:5555' ]");
}, 30_000);

test("the README records the ZPL decisions and the package's Node floor", () => {
  expect(readme).toContain("**ZPL decisions.**");
  expect(readme).toContain("Node ≥ 20.19");
});
