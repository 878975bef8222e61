import { describe, expect, test } from "vitest";
import { ManualClock } from "@zg/core";
import { ClientStates } from "../src/async/client-states.js";
import { decodeAsyncRequest, encodeAsyncReply } from "../src/async/protocol.js";

const F = (s: string): Buffer => Buffer.from(s);

describe("asynchronous client/server codec", () => {
  test("[C][body…] in, [C][reply…] out", () => {
    const r = decodeAsyncRequest([F("c"), F("a"), F("b")]);
    expect([String(r.identity), ...r.body.map(String)]).toEqual(["c", "a", "b"]);
    expect(() => decodeAsyncRequest([F("c")])).toThrow(/no body/);
    expect(encodeAsyncReply(F("c"), "x").map(String)).toEqual(["c", "x"]);
    expect(encodeAsyncReply(F("c"), ["x", "y"]).map(String)).toEqual(["c", "x", "y"]);
  });
});

describe("ClientStates (socket-free, ManualClock)", () => {
  function table(maxClients = 10) {
    const clock = new ManualClock();
    const log: string[] = [];
    let n = 0;
    const t = new ClientStates<{ n: number }>({
      expiry: 100,
      maxClients,
      clock,
      create: () => ({ n: ++n }),
      destroy: (s, id) => log.push(`destroy ${String(id)} #${s.n}`),
      onJoined: (id) => log.push(`joined ${id}`),
      onExpired: (id, silentFor) =>
        log.push(
          `expired ${id} ${silentFor >= 100 && silentFor <= 110 ? "after expiry (+ granule)" : silentFor}`,
        ),
    });
    return { clock, log, t };
  }

  test("state is created on the first request, kept while requests arrive, destroyed after expiry of silence", () => {
    const { clock, log, t } = table();
    const s1 = t.touch(F("a"));
    clock.advance(90);
    expect(t.touch(F("a"))).toBe(s1); // a request is the client's heartbeat
    clock.advance(90);
    expect(t.get(F("a"))).toBe(s1);
    clock.advance(20);
    expect(t.get(F("a"))).toBeUndefined();
    expect(t.touch(F("a"))?.n).toBe(2); // a new state after expiry
    expect(log).toEqual([
      "joined a",
      "destroy a #1",
      "expired a after expiry (+ granule)",
      "joined a",
    ]);
    expect(t.stats()).toMatchObject({ clientsExpired: 1 });
    t.close();
    expect(clock.pending).toBe(0);
  });

  test("new clients beyond maxClients are refused and counted", () => {
    const { t } = table(1);
    expect(t.touch(F("a"))).toBeDefined();
    expect(t.touch(F("b"))).toBeUndefined();
    expect(t.stats().clientsRefused).toBe(1);
    expect(t.size).toBe(1);
    t.close();
  });
});
