import { describe, expect, test } from "vitest";
import { isZgError, ManualClock, PendingRequests, ZgError } from "../src/index.js";

function table<C = undefined>(
  options: ConstructorParameters<typeof PendingRequests<number, string, C>>[0] = {},
) {
  const clock = new ManualClock(1000);
  const pending = new PendingRequests<number, string, C>({ clock, ...options });
  return { clock, pending };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

describe("PendingRequests", () => {
  test("a reply resolves the request once; a second reply is stale", async () => {
    const { pending } = table();
    const sends: number[] = [];
    const reply = pending.add(1, { timeout: 100, send: (a) => sends.push(a) });
    expect(sends).toEqual([1]);
    expect(pending.has(1)).toBe(true);
    expect(pending.resolve(1, "ok")).toBe(true);
    expect(pending.resolve(1, "again")).toBe(false);
    await expect(reply).resolves.toBe("ok");
    expect(pending.stats()).toMatchObject({ added: 1, resolved: 1, inFlight: 0 });
  });

  test("one attempt times out with ZG_TIMEOUT at its timeout, not before", async () => {
    const { clock, pending } = table();
    const reply = pending.add(1, { timeout: 100, send: () => undefined });
    clock.advance(99);
    expect(pending.has(1)).toBe(true);
    clock.advance(1);
    const e = await rejection(reply);
    expect(isZgError(e, "ZG_TIMEOUT")).toBe(true);
    expect(pending.stats()).toMatchObject({ timeouts: 1, exhausted: 1, inFlight: 0 });
    expect(clock.pending).toBe(0);
  });

  test("attempts re-send after each timeout, then ZG_RETRIES_EXHAUSTED", async () => {
    const retried: number[] = [];
    const { clock, pending } = table({ onRetry: (_k, a) => retried.push(a) });
    const sends: { attempt: number; at: number }[] = [];
    const reply = pending.add(7, {
      timeout: 100,
      attempts: 3,
      send: (attempt) => sends.push({ attempt, at: clock.now() }),
    });
    clock.advance(100);
    expect(pending.attempt(7)).toBe(2);
    clock.advance(100);
    clock.advance(100);
    const e = await rejection(reply);
    expect(isZgError(e, "ZG_RETRIES_EXHAUSTED")).toBe(true);
    expect((e as ZgError).details).toMatchObject({ attempts: 3, timeout: 100 });
    expect(sends).toEqual([
      { attempt: 1, at: 1000 },
      { attempt: 2, at: 1100 },
      { attempt: 3, at: 1200 },
    ]);
    expect(retried).toEqual([2, 3]);
    expect(pending.stats()).toMatchObject({ timeouts: 3, retries: 2, exhausted: 1 });
  });

  test("a reply to a later attempt resolves", async () => {
    const { clock, pending } = table();
    const reply = pending.add(1, { timeout: 100, attempts: 3, send: () => undefined });
    clock.advance(150);
    pending.resolve(1, "late but current");
    await expect(reply).resolves.toBe("late but current");
  });

  test("a deadline bounds unlimited attempts", async () => {
    const { clock, pending } = table();
    const sends: number[] = [];
    const reply = pending.add(1, {
      timeout: 100,
      attempts: Infinity,
      deadline: 250,
      send: () => sends.push(clock.now()),
    });
    clock.advance(300);
    const e = await rejection(reply);
    expect(isZgError(e)).toBe(true);
    expect(sends).toEqual([1000, 1100, 1200]);
    expect(pending.size).toBe(0);
  });

  test("retry() sends the next attempt at once and restarts its timeout", async () => {
    const { clock, pending } = table();
    const sends: number[] = [];
    const reply = pending.add(1, {
      timeout: 100,
      attempts: 2,
      send: () => sends.push(clock.now()),
    });
    clock.advance(40);
    expect(pending.retry(1)).toBe(true);
    expect(pending.retry(1)).toBe(false); // no attempt left
    clock.advance(99);
    expect(pending.has(1)).toBe(true);
    clock.advance(1);
    await rejection(reply);
    expect(sends).toEqual([1000, 1040]);
  });

  test("an AbortSignal rejects with ZG_ABORTED and removes its listener", async () => {
    const failures: string[] = [];
    const { pending } = table({ onFailure: (_k, reason) => failures.push(reason) });
    const ac = new AbortController();
    const reply = pending.add(1, { timeout: 100, signal: ac.signal, send: () => undefined });
    ac.abort();
    expect(isZgError(await rejection(reply), "ZG_ABORTED")).toBe(true);
    expect(failures).toEqual(["aborted"]);
    expect(pending.stats().aborted).toBe(1);
    const pre = await rejection(
      pending.add(2, { timeout: 100, signal: ac.signal, send: () => undefined }),
    );
    expect(isZgError(pre, "ZG_ABORTED")).toBe(true);
    expect(pending.has(2)).toBe(false);
  });

  test("context is kept per request; timeoutError shapes the failure", async () => {
    const { clock, pending } = table<{ service: string }>({
      timeoutError: (_k, attempts, ctx) => new ZgError("ZG_TIMEOUT", `${ctx.service} ${attempts}`),
    });
    const reply = pending.add(1, {
      timeout: 10,
      context: { service: "echo" },
      send: () => undefined,
    });
    expect(pending.context(1)).toEqual({ service: "echo" });
    clock.advance(10);
    expect(((await rejection(reply)) as Error).message).toBe("echo 1");
  });

  test("a send that throws fails the request with that error", async () => {
    const { pending } = table();
    const reply = pending.add(1, {
      timeout: 10,
      send: () => {
        throw new ZgError("ZG_OVERFLOW", "full");
      },
    });
    expect(isZgError(await rejection(reply), "ZG_OVERFLOW")).toBe(true);
    expect(pending.size).toBe(0);
  });

  test("bad arguments throw synchronously; a duplicate key is refused", () => {
    const { pending } = table();
    expect(() => pending.add(1, { timeout: 0, send: () => undefined })).toThrow(/timeout/);
    expect(() => pending.add(1, { timeout: 1, attempts: 0, send: () => undefined })).toThrow(
      /attempts/,
    );
    expect(() => pending.add(1, { timeout: 1, retryDelay: -1, send: () => undefined })).toThrow(
      /retryDelay/,
    );
    expect(() =>
      pending.add(1, { timeout: 1, retryDelay: Infinity, send: () => undefined }),
    ).toThrow(/retryDelay/);
    void pending.add(1, { timeout: 10, send: () => undefined }).catch(() => undefined);
    expect(() => pending.add(1, { timeout: 10, send: () => undefined })).toThrow(/already pending/);
    pending.close();
  });

  test("unlimited attempts without a deadline go on until the signal, reject or close", async () => {
    const { clock, pending } = table();
    const sends: number[] = [];
    const ac = new AbortController();
    const a = pending.add(1, {
      timeout: 100,
      attempts: Infinity,
      signal: ac.signal,
      send: () => sends.push(clock.now()),
    });
    const b = pending.add(2, { timeout: 100, attempts: Infinity, send: () => undefined });
    clock.advance(1000);
    expect(sends).toHaveLength(11);
    expect(pending.size).toBe(2);
    ac.abort();
    expect(isZgError(await rejection(a), "ZG_ABORTED")).toBe(true);
    pending.close();
    expect(isZgError(await rejection(b), "ZG_CLOSED")).toBe(true);
    expect(clock.pending).toBe(0);
  });

  describe("retryDelay", () => {
    test("pauses between a timeout and the next send; onRetry runs at the timeout", async () => {
      const events: string[] = [];
      const { clock, pending } = table({
        onRetry: (_k, a) => events.push(`retry ${a} at ${clock.now()}`),
      });
      const reply = pending.add(1, {
        timeout: 100,
        attempts: 3,
        retryDelay: 50,
        send: (a) => events.push(`send ${a} at ${clock.now()}`),
      });
      clock.advance(100);
      expect(pending.attempt(1)).toBe(2); // the attempt about to be sent
      expect(pending.stats()).toMatchObject({ timeouts: 1, retries: 0 });
      clock.advance(49);
      expect(events).toEqual(["send 1 at 1000", "retry 2 at 1100"]);
      clock.advance(1);
      expect(pending.stats()).toMatchObject({ timeouts: 1, retries: 1 });
      clock.advance(99);
      expect(pending.has(1)).toBe(true); // attempt 2's timeout runs from its send
      clock.advance(1 + 50 + 100);
      const e = await rejection(reply);
      expect(isZgError(e, "ZG_RETRIES_EXHAUSTED")).toBe(true);
      expect((e as ZgError).details).toMatchObject({ attempts: 3 });
      expect(events).toEqual([
        "send 1 at 1000",
        "retry 2 at 1100",
        "send 2 at 1150",
        "retry 3 at 1250",
        "send 3 at 1300",
      ]);
      expect(pending.stats()).toMatchObject({ timeouts: 3, retries: 2, exhausted: 1 });
      expect(clock.pending).toBe(0);
    });

    test("a reply during the pause resolves the request, and nothing more is sent", async () => {
      const { clock, pending } = table();
      const sends: number[] = [];
      const reply = pending.add(1, {
        timeout: 100,
        attempts: 2,
        retryDelay: 50,
        send: (a) => sends.push(a),
      });
      clock.advance(120);
      expect(pending.resolve(1, "late")).toBe(true);
      await expect(reply).resolves.toBe("late");
      clock.advance(1000);
      expect(sends).toEqual([1]);
      expect(clock.pending).toBe(0);
    });

    test("the signal aborts during the pause with ZG_ABORTED", async () => {
      const failures: string[] = [];
      const { clock, pending } = table({ onFailure: (_k, reason) => failures.push(reason) });
      const ac = new AbortController();
      const sends: number[] = [];
      const reply = pending.add(1, {
        timeout: 100,
        attempts: Infinity,
        retryDelay: 10_000,
        signal: ac.signal,
        send: (a) => sends.push(a),
      });
      clock.advance(5000);
      ac.abort();
      expect(isZgError(await rejection(reply), "ZG_ABORTED")).toBe(true);
      expect(failures).toEqual(["aborted"]);
      expect(sends).toEqual([1]);
      expect(pending.stats()).toMatchObject({ timeouts: 1, retries: 0, aborted: 1 });
      clock.advance(20_000);
      expect(sends).toEqual([1]); // the paused attempt is never sent
      expect(clock.pending).toBe(0);
    });

    test("close() during the pause rejects with ZG_CLOSED", async () => {
      const { clock, pending } = table();
      const reply = pending.add(1, {
        timeout: 100,
        attempts: 2,
        retryDelay: 1000,
        send: () => undefined,
      });
      clock.advance(500);
      pending.close();
      expect(isZgError(await rejection(reply), "ZG_CLOSED")).toBe(true);
      expect(clock.pending).toBe(0);
    });

    test("a deadline that passes during the pause fails the request then, counting the attempts sent", async () => {
      const { clock, pending } = table();
      const sends: number[] = [];
      const reply = pending.add(1, {
        timeout: 100,
        attempts: Infinity,
        deadline: 300,
        retryDelay: 150,
        send: () => sends.push(clock.now()),
      });
      clock.advance(299);
      expect(pending.has(1)).toBe(true);
      clock.advance(1);
      const e = await rejection(reply);
      expect(isZgError(e, "ZG_RETRIES_EXHAUSTED")).toBe(true);
      expect((e as ZgError).details).toMatchObject({ attempts: 2 });
      expect(sends).toEqual([1000, 1250]);
      expect(pending.stats()).toMatchObject({ timeouts: 2, retries: 1, exhausted: 1 });
    });

    test("retry() ends the pause at once; a retry() of its own has no pause", async () => {
      const { clock, pending } = table();
      const sends: number[] = [];
      const reply = pending.add(1, {
        timeout: 100,
        attempts: 3,
        retryDelay: 1000,
        send: () => sends.push(clock.now()),
      });
      clock.advance(100);
      clock.advance(10);
      expect(pending.retry(1)).toBe(true);
      expect(sends).toEqual([1000, 1110]);
      clock.advance(10);
      expect(pending.retry(1)).toBe(true); // before a timeout: sent at once
      expect(pending.retry(1)).toBe(false); // no attempt left
      clock.advance(100);
      expect(isZgError(await rejection(reply), "ZG_RETRIES_EXHAUSTED")).toBe(true);
      expect(sends).toEqual([1000, 1110, 1120]);
    });

    test("onRetry may settle the request before its pause ends", async () => {
      const { clock, pending } = table({
        onRetry: (k) => pending.reject(k, new ZgError("ZG_CLOSED", "gone")),
      });
      const sends: number[] = [];
      const reply = pending.add(1, {
        timeout: 100,
        attempts: 2,
        retryDelay: 50,
        send: (a) => sends.push(a),
      });
      clock.advance(100);
      expect(isZgError(await rejection(reply), "ZG_CLOSED")).toBe(true);
      clock.advance(1000);
      expect(sends).toEqual([1]);
      expect(clock.pending).toBe(0);
    });
  });

  test("close() rejects everything with ZG_CLOSED and leaves no timer", async () => {
    const { clock, pending } = table();
    const a = pending.add(1, { timeout: 10, send: () => undefined });
    const b = pending.add(2, { timeout: 20, attempts: 2, send: () => undefined });
    pending.close();
    pending.close();
    expect(isZgError(await rejection(a), "ZG_CLOSED")).toBe(true);
    expect(isZgError(await rejection(b), "ZG_CLOSED")).toBe(true);
    expect(clock.pending).toBe(0);
    expect(
      isZgError(
        await rejection(pending.add(3, { timeout: 10, send: () => undefined })),
        "ZG_CLOSED",
      ),
    ).toBe(true);
  });
});
