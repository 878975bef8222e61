import { isZgError, ManualClock, type Frame } from "@zg/core";
import { describe, expect, test } from "vitest";
import { MdpClientCore } from "../src/majordomo/client-core.js";
import {
  brokerErrorBody,
  decodeCorrelation,
  encodeClientReply,
  type MdpVersion,
} from "../src/majordomo/protocol.js";

const F = (s: string): Buffer => Buffer.from(s);

function core(correlate: boolean, version: MdpVersion = "MDP/0.1") {
  const clock = new ManualClock();
  const sent: Frame[][] = [];
  const retries: number[] = [];
  const c = new MdpClientCore({
    version,
    correlate,
    clock,
    send: (frames) => sent.push(frames),
    onRetry: (_s, attempt) => retries.push(attempt),
  });
  return { c, clock, sent, retries };
}

/** The body of the client request in `frames` (after the 0.1 header and service). */
const bodyOf = (frames: Frame[]): Frame[] => frames.slice(3);

describe("MdpClientCore (socket-free, ManualClock)", () => {
  test("correlated: out-of-order replies resolve the right requests", async () => {
    const { c, sent } = core(true);
    const a = c.request("echo", [F("a")], { timeout: 100, attempts: 1 });
    const b = c.request("echo", [F("b")], { timeout: 100, attempts: 1 });
    const [ra, rb] = sent.map(bodyOf) as [Frame[], Frame[]];
    expect(decodeCorrelation(ra[0])).toBe(1n);
    expect(c.receive(encodeClientReply("MDP/0.1", "FINAL", "echo", rb))).toBe(true);
    expect(c.receive(encodeClientReply("MDP/0.1", "FINAL", "echo", ra))).toBe(true);
    expect((await a).map(String)).toEqual(["a"]);
    expect((await b).map(String)).toEqual(["b"]);
    expect(c.receive(encodeClientReply("MDP/0.1", "FINAL", "echo", ra))).toBe(false);
    expect(c.stats()).toMatchObject({ requests: 2, replies: 2, unmatched: 1, inFlight: 0 });
  });

  test("uncorrelated: FIFO per service; a reply for another service is unmatched", async () => {
    const { c } = core(false);
    const a = c.request("echo", [F("a")], { timeout: 100, attempts: 1 });
    expect(c.receive(encodeClientReply("MDP/0.1", "FINAL", "other", [F("x")]))).toBe(false);
    c.receive(encodeClientReply("MDP/0.1", "FINAL", "echo", [F("r")]));
    expect((await a).map(String)).toEqual(["r"]);
  });

  test("timeout: one attempt → ZG_TIMEOUT; three → two resends then ZG_RETRIES_EXHAUSTED", async () => {
    const { c, clock, sent, retries } = core(true);
    const one = c.request("s", [F("x")], { timeout: 100, attempts: 1 }).catch((e: unknown) => e);
    const three = c.request("s", [F("y")], { timeout: 100, attempts: 3 }).catch((e: unknown) => e);
    clock.advance(100);
    expect(isZgError(await one, "ZG_TIMEOUT")).toBe(true);
    clock.advance(200);
    expect(isZgError(await three, "ZG_RETRIES_EXHAUSTED")).toBe(true);
    expect(sent).toHaveLength(4); // x once, y three times with the same correlation
    expect(decodeCorrelation(bodyOf(sent[3] as Frame[])[0])).toBe(2n);
    expect(retries).toEqual([2, 3]);
    expect(c.stats()).toMatchObject({ timeouts: 4, resends: 2, exhausted: 2 });
  });

  test("broker error replies reject with the mapped code; PARTIAL goes to onPartial", async () => {
    const { c, sent } = core(true, "MDP/0.2");
    const partials: string[] = [];
    const r = c
      .request("s", [F("x")], {
        timeout: 100,
        attempts: 1,
        onPartial: (b) => partials.push(String(b[0])),
      })
      .catch((e: unknown) => e);
    const corr = (sent[0] as Frame[])[3] as Frame;
    c.receive(encodeClientReply("MDP/0.2", "PARTIAL", "s", [corr, F("p1")]));
    c.receive(encodeClientReply("MDP/0.2", "FINAL", "s", brokerErrorBody("503", "full", [corr])));
    expect(partials).toEqual(["p1"]);
    expect(isZgError(await r, "ZG_OVERFLOW")).toBe(true);
    expect(c.stats().brokerErrors).toBe(1);
  });

  test("abort and close reject; bad input throws a ProtocolError for the loop to count", async () => {
    const { c, clock } = core(true);
    const ac = new AbortController();
    const a = c
      .request("s", [F("x")], { timeout: 100, attempts: 1, signal: ac.signal })
      .catch((e: unknown) => e);
    const b = c.request("s", [F("y")], { timeout: 100, attempts: 1 }).catch((e: unknown) => e);
    ac.abort();
    expect(isZgError(await a, "ZG_ABORTED")).toBe(true);
    expect(() => c.receive([F("garbage")])).toThrow(/header|frame/);
    c.close();
    expect(isZgError(await b, "ZG_CLOSED")).toBe(true);
    expect(clock.pending).toBe(0);
  });
});
