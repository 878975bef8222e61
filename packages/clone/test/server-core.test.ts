import { describe, expect, test } from "vitest";
import { ManualClock } from "@zg/core";
import { CloneServerCore, newUuid, type KvMsg } from "../src/index.js";

const update = (key: string, value: string, props: Record<string, string> = {}): KvMsg => ({
  key,
  sequence: 0n,
  uuid: newUuid(),
  properties: new Map(Object.entries(props)),
  body: Buffer.from(value),
});

function published(core: CloneServerCore, m: KvMsg): KvMsg {
  const r = core.receive(m);
  if (r.kind !== "published") throw new Error(`not published: ${JSON.stringify(r)}`);
  return r.message;
}

describe("CloneServerCore", () => {
  test("assigns strictly increasing sequences, stores, deletes on an empty body", () => {
    const core = new CloneServerCore({ clock: new ManualClock() });
    expect(published(core, update("/a", "1")).sequence).toBe(1n);
    expect(published(core, update("/b", "2")).sequence).toBe(2n);
    expect(core.get("/a")?.body.toString()).toBe("1");
    const del = published(core, update("/a", ""));
    expect(del.sequence).toBe(3n);
    expect(core.get("/a")).toBeUndefined();
    expect(core.size).toBe(1);
    expect(core.sequence).toBe(3n);
  });

  test("snapshot by byte prefix, consistent with the current sequence", () => {
    const core = new CloneServerCore({ clock: new ManualClock() });
    published(core, update("/client/x/y", "1"));
    published(core, update("/client/z", "2"));
    published(core, update("/server/a", "3"));
    const s = core.snapshot("/client/");
    expect(s.sequence).toBe(3n);
    expect(s.entries.map((e) => e.key).sort()).toEqual(["/client/x/y", "/client/z"]);
    expect(core.snapshot("").entries).toHaveLength(3);
  });

  test("TTL: expired on the flush after its deadline, the delete published with a new sequence", () => {
    const clock = new ManualClock();
    const core = new CloneServerCore({ clock });
    const set = published(core, update("/t", "v", { ttl: "2" }));
    expect(set.properties.get("ttl")).toBe("2"); // published as received (relative)
    clock.advance(1000);
    expect(core.flush()).toEqual([]);
    // A snapshot carries the remaining time.
    expect(core.snapshot().entries[0]?.properties.get("ttl")).toBe("1.000");
    clock.advance(1000);
    const [del] = core.flush();
    expect(del?.key).toBe("/t");
    expect(del?.body.length).toBe(0);
    expect(del?.sequence).toBe(2n);
    expect(core.get("/t")).toBeUndefined();
    expect(core.stats().expired).toBe(1);
    // Overwriting without a ttl removes the expiry.
    published(core, update("/u", "v", { ttl: "1" }));
    published(core, update("/u", "w"));
    clock.advance(5000);
    expect(core.flush()).toEqual([]);
    expect(core.get("/u")?.body.toString()).toBe("w");
  });

  test("bounds: refused, counted, never half-applied", () => {
    const core = new CloneServerCore({
      clock: new ManualClock(),
      maxKeys: 2,
      maxValueSize: 4,
      maxKeySize: 8,
    });
    published(core, update("/a", "1"));
    published(core, update("/b", "2"));
    const before = { seq: core.sequence, size: core.size };
    expect(core.receive(update("/c", "3"))).toEqual({ kind: "refused", reason: "max-keys" });
    expect(core.receive(update("/a", "12345"))).toEqual({ kind: "refused", reason: "value-size" });
    expect(core.receive(update("/123456789", "1"))).toEqual({
      kind: "refused",
      reason: "key-size",
    });
    expect(core.receive(update("HUGZ", "1"))).toEqual({ kind: "refused", reason: "reserved-key" });
    expect({ seq: core.sequence, size: core.size }).toEqual(before);
    expect(core.get("/a")?.body.toString()).toBe("1");
    // Updating an existing key and deleting stay allowed at maxKeys.
    published(core, update("/a", "9"));
    published(core, update("/b", ""));
    published(core, update("/c", "3"));
    expect(core.stats().refused).toBe(4);
  });

  test("a duplicate UUID (a client re-send, the pair's second copy) is dropped", () => {
    const core = new CloneServerCore({ clock: new ManualClock() });
    const u = update("/a", "1");
    published(core, u);
    expect(core.receive({ ...u })).toEqual({ kind: "duplicate" });
    expect(core.sequence).toBe(1n);
    expect(core.stats().duplicates).toBe(1);
  });

  test("the dedup window is bounded", () => {
    const core = new CloneServerCore({ clock: new ManualClock(), dedupWindow: 2 });
    const first = update("/a", "1");
    published(core, first);
    published(core, update("/b", "1"));
    published(core, update("/c", "1"));
    expect(core.receive({ ...first }).kind).toBe("published");
  });

  test("HUGZ carries the current sequence", () => {
    const core = new CloneServerCore({ clock: new ManualClock() });
    published(core, update("/a", "1"));
    expect(core.hugz().sequence).toBe(1n);
    expect(core.hugz().key).toBe("HUGZ");
  });
});

describe("CloneServerCore as the passive half of a pair (model 6)", () => {
  test("client updates wait on the pending list; the active's copy removes them", () => {
    const clock = new ManualClock();
    const active = new CloneServerCore({ clock });
    const passive = new CloneServerCore({ clock });
    passive.passivate();
    const u1 = update("/a", "1");
    const u2 = update("/b", "2");
    expect(passive.receive(u1)).toEqual({ kind: "pending" });
    expect(passive.receive(u2)).toEqual({ kind: "pending" });
    expect(passive.stats().pending).toBe(2);
    expect(passive.replicate(published(active, u1))).toBe("applied");
    expect(passive.stats().pending).toBe(1);
    // The active publishes u2 before the passive got the client's copy of a third.
    const u3 = update("/c", "3");
    expect(passive.replicate(published(active, u3))).toBe("applied");
    expect(passive.receive(u3)).toEqual({ kind: "duplicate" });
    expect(passive.stats().pending).toBe(1);
    expect(passive.sequence).toBe(2n);
  });

  test("takeover republishes pending with new sequences, before anything else", () => {
    const clock = new ManualClock();
    const passive = new CloneServerCore({ clock });
    passive.passivate();
    passive.load([{ ...update("/x", "0"), sequence: 5n }], 5n);
    passive.receive(update("/a", "1", { ttl: "10" }));
    clock.advance(4000);
    passive.receive(update("/b", "2"));
    const out = passive.activate();
    expect(out.map((m) => [m.key, m.sequence])).toEqual([
      ["/a", 6n],
      ["/b", 7n],
    ]);
    // The ttl is what was left of it, not the original 10 s from now.
    expect(out[0]?.properties.get("ttl")).toBe("6.000");
    expect(passive.mode).toBe("active");
    expect(passive.stats().republished).toBe(2);
    expect(passive.stats().pending).toBe(0);
    clock.advance(6000);
    expect(passive.flush().map((m) => m.key)).toEqual(["/a"]);
  });

  test("a pending update whose ttl ran out is republished as a delete", () => {
    const clock = new ManualClock();
    const passive = new CloneServerCore({ clock });
    passive.passivate();
    passive.load([{ ...update("/a", "old"), sequence: 1n }], 1n);
    passive.receive(update("/a", "1", { ttl: "1" }));
    clock.advance(2000);
    const [m] = passive.activate();
    expect(m?.body.length).toBe(0);
    expect(passive.get("/a")).toBeUndefined();
  });

  test("replicate reports gaps and drops stale copies", () => {
    const core = new CloneServerCore({ clock: new ManualClock() });
    core.passivate();
    expect(core.replicate({ ...update("/a", "1"), sequence: 1n })).toBe("applied");
    expect(core.replicate({ ...update("/a", "1"), sequence: 1n })).toBe("stale");
    expect(core.replicate({ ...update("/a", "1"), sequence: 3n })).toBe("gap");
    expect(core.sequence).toBe(1n);
  });

  test("pending is bounded and ages out; updates without a UUID are dropped", () => {
    const clock = new ManualClock();
    const core = new CloneServerCore({ clock, maxPending: 2, pendingTtl: 1000 });
    core.passivate();
    core.receive(update("/a", "1"));
    core.receive(update("/b", "1"));
    core.receive(update("/c", "1"));
    expect(core.stats().pending).toBe(2);
    expect(core.receive({ ...update("/d", "1"), uuid: Buffer.alloc(0) })).toEqual({
      kind: "dropped",
      reason: "no-uuid",
    });
    clock.advance(1000);
    core.flush();
    expect(core.stats().pending).toBe(0);
    expect(core.stats().pendingDropped).toBe(4);
  });

  test("load never moves the sequence backwards", () => {
    const core = new CloneServerCore({ clock: new ManualClock() });
    published(core, update("/a", "1"));
    published(core, update("/a", "2"));
    core.load([], 1n);
    expect(core.sequence).toBe(2n);
  });
});
