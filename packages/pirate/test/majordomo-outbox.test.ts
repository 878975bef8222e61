import { describe, expect, test } from "vitest";
import { silentLogger, type Frame, type SendOutcome, type SocketLoop } from "@zg/core";
import { PeerOutbox } from "../src/majordomo/broker-outbox.js";

/** A SocketLoop stand-in whose peer "p" has a full pipe until `open()`. */
function fakeLoop() {
  const sent: string[] = [];
  let full = true;
  let outbox: PeerOutbox | undefined;
  const deliver = (m: readonly Frame[]): SendOutcome => {
    if (String(m[0]) === "p" && full) return "timeout";
    sent.push(`${String(m[0])}:${String(m[1])}`);
    return "sent";
  };
  const loop = {
    post: (m: Frame[]) => {
      if (deliver(m) === "timeout") outbox?.full(m); // what the broker's onSendFailure does
      return true;
    },
    send: (m: Frame[]) => Promise.resolve(deliver(m)),
  } as unknown as SocketLoop;
  return {
    loop,
    sent,
    attach: (o: PeerOutbox) => (outbox = o),
    open: () => (full = false),
  };
}

const msg = (peer: string, n: number): Frame[] => [Buffer.from(peer), Buffer.from(String(n))];
const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(ok()).toBe(true);
};

describe("PeerOutbox (per-peer outgoing buffers)", () => {
  test("a peer's messages meeting a full pipe are held in order and sent when it drains; others pass", async () => {
    const f = fakeLoop();
    const o = new PeerOutbox(f.loop, {
      maxPerPeer: 100,
      maxBytes: 1 << 20,
      retryInterval: 1,
      logger: silentLogger,
    });
    f.attach(o);
    for (let i = 0; i < 5; i++) o.post(msg("p", i));
    o.post(msg("q", 0));
    expect(f.sent).toEqual(["q:0"]);
    expect(o.held).toBe(5);
    f.open();
    o.post(msg("p", 5)); // behind the held ones, not before them
    await until(() => o.held === 0);
    expect(f.sent).toEqual(["q:0", "p:0", "p:1", "p:2", "p:3", "p:4", "p:5"]);
    expect(o).toMatchObject({ deferred: 6, dropped: 0 });
    o.close();
  });

  test("beyond maxPerPeer (or maxBytes) a message is dropped and counted", () => {
    const f = fakeLoop();
    const o = new PeerOutbox(f.loop, {
      maxPerPeer: 3,
      maxBytes: 1 << 20,
      retryInterval: 1000,
      logger: silentLogger,
    });
    f.attach(o);
    for (let i = 0; i < 5; i++) o.post(msg("p", i));
    expect(o).toMatchObject({ held: 3, dropped: 2 });
    o.close();
    expect(o.held).toBe(0);
  });
});
