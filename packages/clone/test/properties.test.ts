// Properties (fast-check, fixed seeds): garbage never escapes the codec as anything but a typed
// decode error, good messages round-trip, and the server core never half-applies an update.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ManualClock } from "@zg/core";
import {
  CloneServerCore,
  decodeIcanhaz,
  decodeKvMsg,
  encodeKvMsg,
  KvMsgDecodeError,
  type KvMsg,
} from "../src/index.js";

const SEED = 20261201;
const frame = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));

const kvmsg: fc.Arbitrary<KvMsg> = fc.record({
  key: fc.string({ minLength: 1, maxLength: 40 }).filter((k) => Buffer.byteLength(k) <= 255),
  sequence: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  uuid: fc.oneof(
    fc.constant(Buffer.alloc(0)),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
  ),
  properties: fc
    .array(
      fc.tuple(
        fc.string({ minLength: 1, maxLength: 8 }).filter((n) => !/[=\n]/.test(n)),
        fc.string({ maxLength: 8 }).filter((v) => !v.includes("\n")),
      ),
      { maxLength: 4 },
    )
    .map((entries) => new Map(entries)),
  body: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
});

describe("kvmsg codec properties", () => {
  test("any frames: a KvMsg or a KvMsgDecodeError, nothing else", () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 7 }), (frames) => {
        try {
          decodeKvMsg(frames);
        } catch (error) {
          expect(error).toBeInstanceOf(KvMsgDecodeError);
        }
        try {
          decodeIcanhaz(frames);
        } catch (error) {
          expect(error).toBeInstanceOf(KvMsgDecodeError);
        }
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  test("encode then decode is the identity", () => {
    fc.assert(
      fc.property(kvmsg, (m) => {
        expect(decodeKvMsg(encodeKvMsg(m))).toEqual(m);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe("server core properties", () => {
  test("under any stream of updates: bounds hold, sequences step by one per publish, refused updates change nothing", () => {
    const update = fc.record({
      key: fc.constantFrom("/a", "/b", "/c", "/d", "/e", "x".repeat(20)),
      value: fc.oneof(fc.constant(""), fc.string({ maxLength: 12 })),
      ttl: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
      advance: fc.integer({ min: 0, max: 3000 }),
    });
    fc.assert(
      fc.property(fc.array(update, { maxLength: 60 }), (updates) => {
        const clock = new ManualClock();
        const core = new CloneServerCore({ clock, maxKeys: 3, maxValueSize: 8, maxKeySize: 10 });
        for (const u of updates) {
          clock.advance(u.advance);
          for (const m of core.flush()) expect(m.body.length).toBe(0);
          const before = {
            seq: core.sequence,
            snapshot: JSON.stringify(
              core.snapshot().entries.map((e) => [e.key, e.body.toString()]),
            ),
          };
          const r = core.receive({
            key: u.key,
            sequence: 0n,
            uuid: Buffer.alloc(0),
            properties: new Map(u.ttl === undefined ? [] : [["ttl", String(u.ttl)]]),
            body: Buffer.from(u.value),
          });
          if (r.kind === "published") {
            expect(r.message.sequence).toBe(before.seq + 1n);
            expect(core.get(u.key)?.body.toString()).toBe(u.value === "" ? undefined : u.value);
          } else {
            expect(r.kind).toBe("refused");
            expect(core.sequence).toBe(before.seq);
            expect(
              JSON.stringify(core.snapshot().entries.map((e) => [e.key, e.body.toString()])),
            ).toBe(before.snapshot);
          }
          expect(core.size).toBeLessThanOrEqual(3);
        }
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
