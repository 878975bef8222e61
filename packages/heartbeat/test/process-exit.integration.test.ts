import { expect, test } from "vitest";
import { runScript } from "@zg/testing";

test("a process that starts and closes every component exits on its own, with code 0", async () => {
  const r = await runScript(new URL("./fixtures/exit.ts", import.meta.url));
  expect(r.output).toContain("closed");
  expect(r.timedOut, r.output).toBe(false);
  expect(r.code, r.output).toBe(0);
  expect(r.ms).toBeLessThan(15_000);
}, 20_000);
