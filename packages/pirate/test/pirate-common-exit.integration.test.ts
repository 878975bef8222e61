import { expect, test } from "vitest";
import { runScript } from "@zg/testing";

test("a process that starts and closes every part-1 component exits by itself with code 0", async () => {
  const r = await runScript(new URL("./fixtures/part1-exit.ts", import.meta.url));
  expect(r.output).toContain("closed");
  expect(r.timedOut, r.output).toBe(false);
  expect(r.code, r.output).toBe(0);
}, 20_000);
