import { isZgError, ManualClock, type Message } from "@zg/core";
import { describe, expect, test } from "vitest";
import {
  decodeLazyReply,
  encodeLazyRequest,
  LazyPirateCore,
} from "../src/lazy/lazy-pirate-core.js";

const F = (s: string): Buffer => Buffer.from(s);
const ok = (): void => undefined;

function core(match?: (reply: Message, request: Message) => boolean) {
  const clock = new ManualClock();
  const log: string[] = [];
  const c = new LazyPirateCore({
    endpoint: "tcp://x:1",
    clock,
    match,
    send: (frames) => log.push(`send ${frames.map(String).join("|")}`),
    reconnect: () => log.push("reconnect"),
    onRetry: (seq, attempt) => log.push(`retry ${seq}→${attempt}`),
    onFailed: (seq, attempts) => log.push(`failed ${seq} ${attempts}`),
    onDiscarded: (seq, reason) => log.push(`discarded ${seq} ${reason}`),
  });
  return { c, clock, log };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("Lazy Pirate codec", () => {
  test("requests are REQ-shaped; replies need the empty delimiter and a body", () => {
    expect(encodeLazyRequest([F("a")]).map(String)).toEqual(["", "a"]);
    expect(decodeLazyReply([F(""), F("r")])?.map(String)).toEqual(["r"]);
    expect(decodeLazyReply([F("r")])).toBeUndefined();
    expect(decodeLazyReply([F("")])).toBeUndefined();
  });
});

describe("LazyPirateCore (socket-free, ManualClock)", () => {
  test("a reply on the current socket resolves; latency is on the injected clock", async () => {
    const { c, clock, log } = core();
    const r = c.request([F("a")], 100, 3, undefined, ok);
    await flush();
    clock.advance(7);
    c.receive([F(""), F("b")], true);
    expect((await r).map(String)).toEqual(["b"]);
    expect(log).toEqual(["send |a"]);
    expect(c.stats()).toMatchObject({ requests: 1, replies: 1, latency: { p50: 7 } });
  });

  test("timeouts reconnect and resend with a new sequence, then ZG_RETRIES_EXHAUSTED", async () => {
    const { c, clock, log } = core();
    const r = c.request([F("a")], 100, 3, undefined, ok).catch((e: unknown) => e);
    await flush();
    clock.advance(300);
    const e = await r;
    expect(isZgError(e, "ZG_RETRIES_EXHAUSTED")).toBe(true);
    expect((e as { details: unknown }).details).toMatchObject({
      attempts: 3,
      endpoint: "tcp://x:1",
      timeout: 100,
    });
    expect(log).toEqual([
      "send |a",
      "reconnect",
      "retry 1→2",
      "send |a",
      "reconnect",
      "retry 2→3",
      "send |a",
      "failed 3 3",
      "reconnect",
    ]);
    expect(c.stats()).toMatchObject({ resends: 2, failures: 1 });
  });

  test("stale (old socket, nothing outstanding) and foreign replies are discarded, never returned", async () => {
    const { c, log } = core((reply, request) => reply[0]?.equals(request[0] as Buffer) ?? false);
    c.receive([F(""), F("early")], true);
    const r = c.request([F("a")], 100, 1, undefined, ok);
    await flush();
    c.receive([F(""), F("a")], false); // on an abandoned socket
    c.receive([F(""), F("zzz")], true); // fails match
    c.receive([F("no-delimiter")], true);
    c.receive([F(""), F("a")], true);
    expect((await r).map(String)).toEqual(["a"]);
    expect(log.filter((l) => l.startsWith("discarded"))).toEqual([
      "discarded 0 stale",
      "discarded 1 stale",
      "discarded 1 foreign",
      "discarded 1 foreign",
    ]);
    expect(c.stats()).toMatchObject({ staleReplies: 2, foreignReplies: 2 });
  });

  test("requests run one at a time; abort drops the socket; close rejects ZG_CLOSED", async () => {
    const { c, log } = core();
    const ac = new AbortController();
    const a = c.request([F("a")], 100, 1, ac.signal, ok).catch((e: unknown) => e);
    const b = c.request([F("b")], 100, 1, undefined, ok).catch((e: unknown) => e);
    await flush();
    expect(log).toEqual(["send |a"]);
    ac.abort();
    expect(isZgError(await a, "ZG_ABORTED")).toBe(true);
    await flush();
    expect(log).toEqual(["send |a", "reconnect", "send |b"]);
    c.close();
    expect(isZgError(await b, "ZG_CLOSED")).toBe(true);
  });
});
