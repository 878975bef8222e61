import { describe, expect, test } from "vitest";
import { CreditReceiver, CreditSender, DEFAULT_CREDIT_WINDOW } from "../src/index.js";

describe("byte credit window", () => {
  test("the sender never exceeds the grant; consumption re-grants by slices", () => {
    const rx = new CreditReceiver({ window: 1000, slice: 250 });
    const tx = new CreditSender();
    expect(tx.canSend(1)).toBe(false); // no credit before the first grant
    tx.grant(rx.limit, rx.window);
    let sent = 0;
    while (tx.canSend(100)) {
      expect(rx.receive(tx.next(100), 100)).toBe("ok");
      sent++;
    }
    expect(sent).toBe(10);
    rx.consume(200);
    expect(rx.shouldGrant()).toBe(false);
    rx.consume(100);
    expect(rx.shouldGrant()).toBe(true);
    tx.grant(rx.grant(), rx.window);
    expect(tx.available).toBe(300);
    expect(rx.held).toBe(700);
  });

  test("grants are absolute: a lost, repeated or reordered credit message changes nothing", () => {
    const tx = new CreditSender();
    tx.grant(2000, 1000);
    tx.grant(1500, 1000); // reordered older grant
    tx.grant(2000, 1000); // repeated
    expect(tx.limit).toBe(2000);
  });

  test("a skipped sequence number is a gap, a repeated one stale, excess credit an overrun", () => {
    const rx = new CreditReceiver({ window: 100 });
    expect(rx.receive(0, 10)).toBe("ok");
    expect(rx.receive(2, 10)).toBe("gap");
    expect(rx.receive(1, 10)).toBe("stale");
    expect(rx.receive(3, 100)).toBe("overrun");
    expect(rx.errors).toEqual({ gaps: 1, overruns: 1 });
  });

  test("one message larger than the window passes into an empty window, never two", () => {
    const rx = new CreditReceiver({ window: 100 });
    const tx = new CreditSender();
    tx.grant(rx.limit, rx.window);
    expect(tx.canSend(500)).toBe(true);
    expect(rx.receive(tx.next(500), 500)).toBe("ok");
    expect(tx.canSend(500)).toBe(false);
    rx.consume(500);
    tx.grant(rx.grant(), rx.window);
    expect(tx.canSend(500)).toBe(true);
  });

  test("defaults are the notes' TRANSIT_TOTAL and TRANSIT_SLICE; bad options throw", () => {
    const rx = new CreditReceiver();
    expect(rx.window).toBe(DEFAULT_CREDIT_WINDOW);
    expect(rx.slice).toBe(262_144);
    expect(() => new CreditReceiver({ window: 0 })).toThrow(/window/);
    expect(() => new CreditReceiver({ window: 10, slice: 11 })).toThrow(/slice/);
  });
});
