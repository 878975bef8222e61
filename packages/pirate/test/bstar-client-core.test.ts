// The Binary Star client's state machine (Guide `bstarcli`) without sockets, on a ManualClock.
import { isZgError, ManualClock, type ZgError } from "@zg/core";
import { describe, expect, test } from "vitest";
import { BinaryStarClientCore } from "../src/bstar/client-core.js";

const F = (s: string): Buffer => Buffer.from(s);
const E = Buffer.alloc(0);
const ok = (): void => undefined;
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function core(options: { attempts?: number; settle?: number } = {}) {
  const clock = new ManualClock(0);
  const log: string[] = [];
  const c: BinaryStarClientCore = new BinaryStarClientCore({
    servers: ["tcp://p:5001", "tcp://b:5002"],
    timeout: 1000,
    settle: options.settle ?? 2000,
    attempts: options.attempts ?? Infinity,
    clock,
    send: (frames) => log.push(`${clock.now()} send ${c.endpoint} ${frames.map(String).join("|")}`),
    reconnect: () => log.push(`${clock.now()} reconnect`),
    onRetry: (attempt, endpoint) => log.push(`${clock.now()} retry ${attempt} → ${endpoint}`),
  });
  return { c, clock, log };
}

async function rejection(p: Promise<unknown>): Promise<ZgError> {
  return p.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e as ZgError,
  );
}

describe("BinaryStarClientCore", () => {
  test("a reply on the current socket resolves with the body, the delimiter stripped", async () => {
    const { c, log } = core();
    const reply = c.request([F("a"), F("b")], undefined, ok);
    await flush();
    expect(log).toEqual(["0 send tcp://p:5001 |a|b"]);
    c.receive([E, F("A")], true);
    await expect(reply).resolves.toEqual([F("A")]);
    expect(c.stats()).toEqual({
      requests: 1,
      replies: 1,
      timeouts: 0,
      aborted: 0,
      discarded: 0,
      server: 0,
    });
  });

  test("on timeout: drop the socket, switch server, wait the settle delay, re-send there; alternate", async () => {
    const { c, clock, log } = core();
    const reply = c.request([F("x")], undefined, ok);
    await flush();
    clock.advance(1000);
    expect(log).toEqual([
      "0 send tcp://p:5001 |x",
      "1000 reconnect",
      "1000 retry 1 → tcp://b:5002",
    ]);
    expect(c.stats()).toMatchObject({ timeouts: 1, server: 1 });
    clock.advance(1999);
    expect(log).toHaveLength(3); // nothing is sent during the settle delay
    c.receive([E, F("late")], true); // nothing outstanding: not a reply
    clock.advance(1);
    expect(log[3]).toBe("3000 send tcp://b:5002 |x");
    clock.advance(1000 + 2000); // the backup is silent too: back to the primary
    expect(log.slice(4)).toEqual([
      "4000 reconnect",
      "4000 retry 2 → tcp://p:5001",
      "6000 send tcp://p:5001 |x",
    ]);
    c.receive([E, F("ok")], true);
    await expect(reply).resolves.toEqual([F("ok")]);
    expect(c.stats()).toEqual({
      requests: 1,
      replies: 1,
      timeouts: 2,
      aborted: 0,
      discarded: 1,
      server: 0,
    });
    // The next request starts on the server that answered, on the same socket.
    void c.request([F("y")], undefined, ok);
    await flush();
    expect(log.at(-1)).toBe("6000 send tcp://p:5001 |y");
  });

  test("settle 0 re-sends on the other server at the timeout", async () => {
    const { c, clock, log } = core({ settle: 0 });
    void c.request([F("x")], undefined, ok).catch(() => undefined);
    await flush();
    clock.advance(1000);
    expect(log).toEqual([
      "0 send tcp://p:5001 |x",
      "1000 reconnect",
      "1000 retry 1 → tcp://b:5002",
      "1000 send tcp://b:5002 |x",
    ]);
    c.close();
  });

  test("after `attempts` timeouts: ZG_RETRIES_EXHAUSTED (details: attempts), no switch after the last", async () => {
    const { c, clock, log } = core({ attempts: 2 });
    const reply = c.request([F("x")], undefined, ok);
    await flush();
    clock.advance(1000 + 2000 + 1000);
    const e = await rejection(reply);
    expect(isZgError(e, "ZG_RETRIES_EXHAUSTED")).toBe(true);
    expect(e.details).toEqual({ attempts: 2 });
    expect(log).toEqual([
      "0 send tcp://p:5001 |x",
      "1000 reconnect",
      "1000 retry 1 → tcp://b:5002",
      "3000 send tcp://b:5002 |x",
      "4000 reconnect",
    ]);
    expect(c.stats()).toMatchObject({ requests: 1, replies: 0, timeouts: 2, server: 1 });
    expect(clock.pending).toBe(0);
  });

  test("the signal aborts during the settle delay: ZG_ABORTED, counted, nothing more sent", async () => {
    const { c, clock, log } = core();
    const ac = new AbortController();
    const reply = c.request([F("x")], ac.signal, ok);
    await flush();
    clock.advance(1500);
    ac.abort();
    expect(isZgError(await rejection(reply), "ZG_ABORTED")).toBe(true);
    clock.advance(10_000);
    expect(log).toEqual([
      "0 send tcp://p:5001 |x",
      "1000 reconnect",
      "1000 retry 1 → tcp://b:5002",
      "1500 reconnect",
    ]);
    expect(c.stats()).toMatchObject({ requests: 1, timeouts: 1, aborted: 1 });
  });

  test("the signal aborts an attempt in flight, and one aborted before its turn", async () => {
    const { c, log } = core();
    const ac = new AbortController();
    const first = c.request([F("1")], ac.signal, ok);
    const second = c.request([F("2")], ac.signal, ok);
    await flush();
    ac.abort();
    expect(isZgError(await rejection(first), "ZG_ABORTED")).toBe(true);
    expect(isZgError(await rejection(second), "ZG_ABORTED")).toBe(true);
    expect(log).toEqual(["0 send tcp://p:5001 |1", "0 reconnect"]);
    expect(c.stats()).toMatchObject({ requests: 2, aborted: 2 });
  });

  test("requests go one at a time, in order", async () => {
    const { c, log } = core();
    const a = c.request([F("a")], undefined, ok);
    const b = c.request([F("b")], undefined, ok);
    await flush();
    expect(log).toEqual(["0 send tcp://p:5001 |a"]);
    c.receive([E, F("A")], true);
    await expect(a).resolves.toEqual([F("A")]);
    await flush();
    expect(log).toEqual(["0 send tcp://p:5001 |a", "0 send tcp://p:5001 |b"]);
    c.receive([E, F("B")], true);
    await expect(b).resolves.toEqual([F("B")]);
  });

  test("discards a message without the delimiter, on an abandoned socket, or with nothing outstanding", async () => {
    const { c } = core();
    c.receive([E, F("early")], true);
    const reply = c.request([F("x")], undefined, ok);
    await flush();
    c.receive([F("no delimiter")], true);
    c.receive([], true);
    c.receive([E, F("old socket")], false);
    expect(c.stats().discarded).toBe(4);
    c.receive([E], true); // an empty body is a reply, as REQ would deliver it
    await expect(reply).resolves.toEqual([]);
    c.receive([E, F("second")], true);
    expect(c.stats()).toMatchObject({ replies: 1, discarded: 5 });
  });

  test("close() rejects the outstanding request and the queued ones with ZG_CLOSED", async () => {
    const { c, clock } = core();
    let open = true;
    const canRun = (): void => {
      if (!open) throw new Error("ZG_CLOSED from the owner");
    };
    const a = c.request([F("a")], undefined, canRun);
    const b = c.request([F("b")], undefined, canRun);
    await flush();
    clock.advance(1500); // in the settle delay
    open = false;
    c.close();
    expect(isZgError(await rejection(a), "ZG_CLOSED")).toBe(true);
    expect((await rejection(b)).message).toBe("ZG_CLOSED from the owner");
    expect(clock.pending).toBe(0);
  });
});
