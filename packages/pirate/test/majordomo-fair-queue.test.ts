import { describe, expect, test } from "vitest";
import { FairQueue } from "../src/majordomo/fair-queue.js";

describe("FairQueue (one FIFO per client, round-robin)", () => {
  test("serves clients in turn, each in its own order; re-queued items first", () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 3; i++) q.push("a", `a${i}`);
    q.push("b", "b0");
    q.push("b", "b1");
    q.unshift("r");
    expect(q.size).toBe(6);
    expect(q.countFor("a")).toBe(3);
    const out: string[] = [];
    for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
    expect(out).toEqual(["r", "a0", "b0", "a1", "b1", "a2"]);
    expect(q.size).toBe(0);
  });

  test("a newcomer is served before the round, but not twice in a row while the round waits", () => {
    const q = new FairQueue<string>();
    for (let i = 0; i < 5; i++) q.push("greedy", `g${i}`);
    expect(q.shift()).toBe("g0"); // greedy now waits in the round
    q.push("n1", "n1");
    q.push("n2", "n2");
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual(["n1", "g1", "n2", "g2"]);
  });

  test("remove and clear keep the count right", () => {
    const q = new FairQueue<string>();
    q.push("a", "a0");
    q.push("a", "a1");
    q.unshift("r");
    expect(q.remove("a", "a1")).toBe(true);
    expect(q.remove("a", "a1")).toBe(false);
    expect(q.remove("x", "r")).toBe(true);
    expect(q.size).toBe(1);
    q.push("b", "b0");
    expect(q.clear().sort()).toEqual(["a0", "b0"]);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  test("a long FIFO compacts without losing order", () => {
    const q = new FairQueue<number>();
    for (let i = 0; i < 5000; i++) q.push("a", i);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) out.push(q.shift() as number);
    for (let i = 5000; i < 6000; i++) q.push("a", i);
    for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
    expect(out).toEqual(Array.from({ length: 6000 }, (_, i) => i));
  });
});
