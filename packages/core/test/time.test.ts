import { describe, expect, test, vi } from "vitest";
import {
  AsyncQueue,
  Backoff,
  deferred,
  LatencyWindow,
  ManualClock,
  quantile,
  sleep,
  systemClock,
} from "../src/index.js";

describe("Backoff", () => {
  test("doubles from the Guide's 1 s to 32 s and resets", () => {
    const b = new Backoff();
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 32000, 32000,
    ]);
    expect(b.attempts).toBe(8);
    b.reset();
    expect(b.current).toBe(1000);
    expect(b.attempts).toBe(0);
  });

  test("jitter spreads delays within [d·(1−j), d]", () => {
    const b = new Backoff({
      initial: 100,
      max: 800,
      jitter: 0.5,
      random: () => 1 - Number.EPSILON,
    });
    expect(b.next()).toBeCloseTo(50, 5);
    const c = new Backoff({ initial: 100, max: 800, jitter: 0.5, random: () => 0 });
    expect(c.next()).toBe(100);
    expect(c.next()).toBe(200);
  });

  test("validates its options", () => {
    expect(() => new Backoff({ initial: 100, max: 50 })).toThrow(/max/);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(/factor/);
    expect(() => new Backoff({ jitter: 2 })).toThrow(/jitter/);
    expect(new Backoff({ initial: 40_000 }).max).toBe(40_000);
  });
});

describe("clocks", () => {
  test("ManualClock fires due timers in deadline order and supports cancel", () => {
    const c = new ManualClock();
    const fired: string[] = [];
    c.setTimeout(() => fired.push("b"), 20);
    const h = c.setTimeout(() => fired.push("x"), 15);
    c.setTimeout(() => fired.push("a"), 10);
    c.setTimeout(() => c.setTimeout(() => fired.push("nested"), 1), 20);
    c.clearTimeout(h);
    c.advance(25);
    expect(fired).toEqual(["a", "b", "nested"]);
    expect(c.now()).toBe(25);
  });

  test("systemClock is monotonic and honours fake timers", () => {
    const a = systemClock.now();
    expect(systemClock.now()).toBeGreaterThanOrEqual(a);
    vi.useFakeTimers();
    try {
      let hit = false;
      const h = systemClock.setTimeout(() => (hit = true), 100);
      vi.advanceTimersByTime(100);
      expect(hit).toBe(true);
      systemClock.clearTimeout(h);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("async helpers", () => {
  test("sleep and abort", async () => {
    await sleep(1);
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: "ZG_ABORTED" });
    await expect(sleep(1, ac.signal)).rejects.toMatchObject({ code: "ZG_ABORTED" });
    await expect(sleep(10_000, AbortSignal.timeout(5))).rejects.toMatchObject({
      code: "ZG_TIMEOUT",
    });
  });

  test("deferred", async () => {
    const d = deferred<number>();
    d.resolve(3);
    await expect(d.promise).resolves.toBe(3);
  });

  test("AsyncQueue: single consumer, ends, bounded, break does not hang", async () => {
    const q = new AsyncQueue<number | undefined>(3);
    q.push(1);
    q.push(undefined);
    q.push(3);
    expect(q.push(4)).toBe(false);
    expect(q.size).toBe(3);
    const it = q[Symbol.asyncIterator]();
    expect(() => q[Symbol.asyncIterator]()).toThrow(/consumer/);
    expect(await it.next()).toEqual({ value: 1, done: false });
    expect(await it.next()).toEqual({ value: undefined, done: false });
    expect(await it.next()).toEqual({ value: 3, done: false });
    const pending = it.next();
    q.push(5);
    expect(await pending).toEqual({ value: 5, done: false });
    q.end();
    expect(q.ended).toBe(true);
    expect(q.push(6)).toBe(false);
    expect(await it.next()).toEqual({ value: undefined, done: true });

    const q2 = new AsyncQueue<number>();
    const seen: number[] = [];
    q2.push(1);
    q2.push(2);
    for await (const x of q2) {
      seen.push(x);
      break;
    }
    expect(seen).toEqual([1]);
    expect(q2.ended).toBe(true);

    const q3 = new AsyncQueue<number>();
    const it3 = q3[Symbol.asyncIterator]();
    const waiting = it3.next();
    q3.end(new Error("failed"));
    await expect(waiting).rejects.toThrow("failed");
    const q4 = new AsyncQueue<number>();
    q4.end(new Error("late"));
    await expect(q4[Symbol.asyncIterator]().next()).rejects.toThrow("late");
  });
});

describe("LatencyWindow", () => {
  test("p50/p99/max over the last N samples", () => {
    const w = new LatencyWindow(100);
    expect(w.summary()).toEqual({ count: 0, p50: 0, p99: 0, max: 0 });
    for (let i = 1; i <= 200; i++) w.record(i);
    expect(w.summary()).toEqual({ count: 100, p50: 150, p99: 199, max: 200 });
    expect(quantile([], 0.5)).toBe(0);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
  });
});
