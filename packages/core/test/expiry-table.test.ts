import { describe, expect, test, vi } from "vitest";
import { ExpiryTable, ManualClock } from "../src/index.js";

function table(granularity = 10) {
  const clock = new ManualClock(1000);
  const expired: { key: string; at: number }[] = [];
  const t = new ExpiryTable<string>({
    clock,
    granularity,
    onExpire: (key) => expired.push({ key, at: clock.now() }),
  });
  return { clock, expired, t };
}

describe("ExpiryTable", () => {
  test("a key expires at its deadline, never before, at most one granule after", () => {
    const { clock, expired, t } = table();
    t.set("a", 300);
    clock.advance(299);
    expect(expired).toEqual([]);
    expect(t.has("a")).toBe(true);
    clock.advance(11);
    expect(expired).toEqual([{ key: "a", at: 1300 }]);
    expect(t.has("a")).toBe(false);
    expect(t.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  test("deleted keys are not held until their deadline: a cancelled bucket is dropped, and a later one still fires on time", () => {
    const { clock, expired, t } = table();
    const keys = Array.from({ length: 100 }, (_, i) => ({ id: `k${i}` }));
    const held = new ExpiryTable<{ id: string }>({
      clock,
      granularity: 10,
      onExpire: (k) => expired.push({ key: k.id, at: clock.now() }),
    });
    for (const k of keys) held.set(k, 5000);
    t.set("later", 6000);
    for (const k of keys) held.delete(k);
    clock.advance(5010);
    expect(expired).toEqual([]);
    clock.advance(1000);
    expect(expired).toEqual([{ key: "later", at: 7000 }]);
    expect(clock.pending).toBe(0);
    held.set(keys[0] as { id: string }, 100);
    held.set(keys[1] as { id: string }, 100);
    held.delete(keys[0] as { id: string });
    clock.advance(110);
    expect(expired.at(-1)?.key).toBe("k1"); // the compacted bucket keeps its live slot
    expect(expired.at(-1)?.at).toBeGreaterThanOrEqual(7100);
    expect(expired.at(-1)?.at).toBeLessThanOrEqual(7110);
    held.close();
  });

  test("touch renews the deadline without timer work", () => {
    const { clock, expired, t } = table();
    t.set("a", 300);
    for (let i = 0; i < 10; i++) {
      clock.advance(200);
      expect(t.touch("a")).toBe(true);
    }
    expect(expired).toEqual([]);
    expect(clock.pending).toBe(1);
    clock.advance(310);
    expect(expired.map((e) => e.key)).toEqual(["a"]);
    expect(t.touch("a")).toBe(false);
  });

  test("per-key TTLs: a 100 ms and a 30 s key coexist, each judged by its own deadline", () => {
    const { clock, expired, t } = table();
    t.set("fast", 100);
    t.set("slow", 30_000);
    clock.advance(120);
    expect(expired.map((e) => e.key)).toEqual(["fast"]);
    clock.advance(29_000);
    expect(t.has("slow")).toBe(true);
    clock.advance(1_000);
    expect(expired.map((e) => e.key)).toEqual(["fast", "slow"]);
  });

  test("set with a shorter TTL moves the deadline earlier; delete and clear never call onExpire", () => {
    const { clock, expired, t } = table();
    t.set("a", 10_000);
    t.set("a", 100);
    expect(t.get("a")).toMatchObject({ ttl: 100, deadline: 1100 });
    clock.advance(110);
    expect(expired.map((e) => e.key)).toEqual(["a"]);
    t.set("b", 100);
    t.set("c", 100);
    expect(t.delete("b")).toBe(true);
    expect(t.delete("nope")).toBe(false);
    t.clear();
    clock.advance(1000);
    expect(expired.map((e) => e.key)).toEqual(["a"]);
    expect([...t.keys()]).toEqual([]);
  });

  test("a key re-added after delete is tracked afresh", () => {
    const { clock, expired, t } = table();
    t.set("a", 100);
    t.delete("a");
    t.set("a", 500);
    clock.advance(200);
    expect(expired).toEqual([]);
    clock.advance(310);
    expect(expired.map((e) => e.key)).toEqual(["a"]);
  });

  test("expiry order follows deadlines; onExpire may mutate the table", () => {
    const clock = new ManualClock();
    const order: string[] = [];
    const t: ExpiryTable<string> = new ExpiryTable<string>({
      clock,
      onExpire: (k) => {
        order.push(k);
        if (k === "b") t.set("d", 5);
        t.delete("c");
      },
    });
    t.set("a", 30);
    t.set("b", 10);
    t.set("c", 50);
    clock.advance(100);
    expect(order).toEqual(["b", "d", "a"]);
    expect(t.sweep()).toBe(0);
  });

  test("100k keys: one timer, cheap touches, all expire", () => {
    const clock = new ManualClock();
    let n = 0;
    const t = new ExpiryTable<number>({ clock, onExpire: () => n++ });
    for (let i = 0; i < 100_000; i++) t.set(i, 1000 + (i % 1000));
    expect(clock.pending).toBe(1);
    const t0 = performance.now();
    for (let i = 0; i < 100_000; i++) t.touch(i);
    expect(performance.now() - t0).toBeLessThan(500);
    clock.advance(2100);
    expect(n).toBe(100_000);
    expect(t.size).toBe(0);
  });

  test("many deletes compact the heap", () => {
    const clock = new ManualClock();
    const t = new ExpiryTable<number>({ clock, onExpire: () => {} });
    for (let i = 0; i < 1000; i++) t.set(i, 10_000);
    for (let i = 0; i < 990; i++) t.delete(i);
    expect(t.size).toBe(10);
    clock.advance(10_010);
    expect(t.size).toBe(0);
  });

  test("liveness is monotonic: a wall-clock jump changes nothing", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const { clock, expired, t } = table();
      t.set("a", 300);
      vi.setSystemTime(Date.now() + 3_600_000);
      clock.advance(100);
      expect(expired).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  test("validates options and arguments; closed tables refuse keys", () => {
    const clock = new ManualClock();
    expect(() => new ExpiryTable({ clock } as never)).toThrow(/onExpire/);
    expect(() => new ExpiryTable({ clock, onExpire: () => {}, granularity: -1 })).toThrow(
      /granularity/,
    );
    const t = new ExpiryTable<string>({ clock, onExpire: () => {} });
    expect(() => t.set("a", -1)).toThrow(/ttl/);
    expect(() => t.set("a", Number.POSITIVE_INFINITY)).toThrow(/ttl/);
    t.set("a", 10);
    t.close();
    t.close();
    expect(clock.pending).toBe(0);
    expect(() => t.set("b", 10)).toThrow(/closed/);
  });

  test("works with the system clock and real timers", async () => {
    const seen: string[] = [];
    const t = new ExpiryTable<string>({ onExpire: (k) => seen.push(k) });
    t.set("x", 20);
    await new Promise((r) => setTimeout(r, 80));
    expect(seen).toEqual(["x"]);
    t.close();
  });

  test("an onExpire that throws goes to onError; the other due keys still expire", () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    const seen: string[] = [];
    const t = new ExpiryTable<string>({
      clock,
      onError: (e) => errors.push(e),
      onExpire: (k) => {
        seen.push(k);
        if (k === "a") throw new Error("bad handler");
      },
    });
    t.set("a", 10);
    t.set("b", 10);
    clock.advance(20);
    expect(seen.sort()).toEqual(["a", "b"]);
    expect(errors).toHaveLength(1);
    t.set("c", 10);
    t.clear();
    t.set("c", 50);
    clock.advance(30);
    expect(t.has("c")).toBe(true);
    clock.advance(30);
    expect(seen).toContain("c");
  });
});
