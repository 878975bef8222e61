import { afterEach, describe, expect, test, vi } from "vitest";
import { FaultPlan } from "../src/index.js";

describe("FaultPlan", () => {
  afterEach(() => void vi.useRealTimers());

  test("the load is done only when both the request and the fault minimums are met", () => {
    const plan = new FaultPlan({
      name: "churn",
      minRequests: 3,
      minFaults: 2,
      maxDuration: 60_000,
    });
    for (let i = 0; i < 5; i++) plan.ack();
    expect(plan.loadDone).toBe(false); // enough requests, no fault yet: a fast machine keeps loading
    plan.fault();
    expect(plan.loadDone).toBe(false);
    plan.fault();
    expect(plan.loadDone).toBe(true);
    expect(() => plan.check()).not.toThrow();
    expect(plan.summary("p99 3 ms")).toMatch(
      /^churn: 2 kills, 5 acknowledged, 0 failed, in \d+ ms, p99 3 ms$/,
    );
  });

  test("check() names the precondition that did not hold", () => {
    const plan = new FaultPlan({
      name: "worker churn",
      minRequests: 10,
      minFaults: 5,
      maxDuration: 1,
    });
    plan.fault();
    plan.fault();
    plan.stop();
    expect(() => plan.check()).toThrow(
      /only 2 kills happened during the load \(needed ≥ 5\): the test did not exercise worker churn; only 0 requests were acknowledged \(needed ≥ 10\)/,
    );
  });

  test("untilAcks resolves on progress, and when the load stops", async () => {
    const plan = new FaultPlan({ name: "x", minRequests: 100, minFaults: 1, maxDuration: 60_000 });
    let woke = false;
    const waiting = plan.untilAcks(3).then(() => (woke = true));
    plan.ack();
    plan.ack();
    await Promise.resolve();
    expect(woke).toBe(false);
    plan.ack();
    await waiting;
    expect(woke).toBe(true);
    const never = plan.untilAcks(1000);
    plan.stop();
    await never; // released by stop()
    expect(plan.loadDone).toBe(true);
  });

  test("the time bound ends the load and releases a waiting fault loop", async () => {
    vi.useFakeTimers();
    const plan = new FaultPlan({ name: "x", minRequests: 1, minFaults: 1, maxDuration: 200 });
    const waiting = plan.untilAcks(10);
    await vi.advanceTimersByTimeAsync(300);
    await waiting;
    expect(plan.loadDone).toBe(true);
    expect(() => plan.check()).toThrow(/only 0 kills .* only 0 requests were acknowledged/);
  });

  test("rejects nonsense bounds", () => {
    expect(
      () => new FaultPlan({ name: "x", minRequests: -1, minFaults: 0, maxDuration: 1 }),
    ).toThrow(RangeError);
  });
});
