import { expect, test } from "vitest";
import { runScript } from "@zg/testing";

test("a process that starts and closes every Majordomo and Titanic component exits by itself with code 0", async () => {
  const r = await runScript(new URL("./fixtures/majordomo-exit.ts", import.meta.url));
  expect(r.output).toContain("pending async request: ZG_CLOSED");
  expect(r.output).toContain("closed");
  expect(r.timedOut, r.output).toBe(false);
  expect(r.code, r.output).toBe(0);
}, 20_000);
