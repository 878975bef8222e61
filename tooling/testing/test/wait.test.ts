import { expect, test } from "vitest";
import { delay, watchStalls } from "../src/index.js";

test("watchStalls: a calm loop reads near 0; a 60 ms busy loop is seen; stop() freezes the reading", async () => {
  const stalls = watchStalls();
  await delay(50);
  const calm = stalls.max;
  const until = performance.now() + 60;
  while (performance.now() < until) {
    // a stalled event loop
  }
  await delay(20);
  expect(stalls.max).toBeGreaterThanOrEqual(50);
  expect(stalls.max).toBeGreaterThan(calm);
  stalls.stop();
  const frozen = stalls.max;
  await delay(30);
  expect(stalls.max).toBe(frozen);
});
