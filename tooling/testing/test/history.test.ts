import { describe, expect, test } from "vitest";
import { checkHistory, History, percentiles } from "../src/index.js";

describe("History checker", () => {
  test("computes lost (by position), duplicated, unexpected and recovered from the records", () => {
    const h = new History();
    for (let i = 0; i < 9; i++) h.invoke(`r${i}`);
    for (const id of ["r0", "r1", "r4", "r5", "r8"]) h.ok(id);
    h.fail("r2", "client", "ZG_RETRIES_EXHAUSTED");
    h.info("r3");
    for (const id of ["r0", "r1", "r1", "r5", "r2", "ghost"]) h.deliver(id);
    const r = checkHistory(h);
    expect(r).toMatchObject({ attempted: 9, acked: 5, failed: 1, delivered: 5 });
    expect(r.lost).toEqual({ prefix: [], middle: ["r4"], postfix: ["r8"], total: 2 });
    expect(r.duplicated).toEqual(["r1"]);
    expect(r.unexpected).toEqual(["ghost"]);
    expect(r.recovered).toEqual(["r2"]);
    expect(r.latency.count).toBe(5);
  });

  test("request-reply: acknowledgement is delivery; two answers to one request are duplicates", () => {
    const a = new History();
    const b = new History();
    a.invoke("x");
    b.invoke("y");
    a.ok("x");
    b.ok("y");
    b.ok("y");
    const r = checkHistory(History.merge(a, b), { delivered: "acks" });
    expect(r.lost.total).toBe(0);
    expect(r.duplicateAcks).toEqual(["y"]);
    expect(r.duplicated).toEqual(["y"]);
  });

  test("percentiles", () => {
    expect(percentiles([])).toEqual({ count: 0, p50: 0, p99: 0, max: 0, min: 0 });
    expect(percentiles([5, 1, 3])).toEqual({ count: 3, p50: 3, p99: 5, max: 5, min: 1 });
  });
});
