import { describe, expect, test } from "vitest";
import { isZgError } from "@zg/core";
import {
  decodeIcanhaz,
  decodeKvMsg,
  encodeIcanhaz,
  encodeKvMsg,
  hugz,
  kthxbai,
  KvMsgDecodeError,
  newUuid,
  ttlOf,
  type KvMsg,
} from "../src/index.js";

const msg = (over: Partial<KvMsg> = {}): KvMsg => ({
  key: "/client/1",
  sequence: 1n,
  uuid: Buffer.alloc(16, 0xab),
  properties: new Map([["ttl", "30"]]),
  body: Buffer.from("hello"),
  ...over,
});

describe("kvmsg codec", () => {
  test("golden frames: the captured clonesrv6.py KVPUB (protocols.md §15.7)", () => {
    const frames = encodeKvMsg(msg());
    expect(frames.map((f) => f.toString("hex"))).toEqual([
      Buffer.from("/client/1").toString("hex"),
      "0000000000000001",
      "ab".repeat(16),
      Buffer.from("ttl=30\n").toString("hex"),
      Buffer.from("hello").toString("hex"),
    ]);
    const back = decodeKvMsg(frames);
    expect(back).toEqual(msg());
  });

  test("sequence is a bigint over the full 63-bit range", () => {
    const big = 2n ** 62n + 12345n;
    expect(decodeKvMsg(encodeKvMsg(msg({ sequence: big }))).sequence).toBe(big);
  });

  test("an empty UUID and no properties round-trip (the spec's KVSYNC)", () => {
    const m = msg({ uuid: Buffer.alloc(0), properties: new Map() });
    const frames = encodeKvMsg(m);
    expect(frames[2]?.length).toBe(0);
    expect(frames[3]?.length).toBe(0);
    expect(decodeKvMsg(frames)).toEqual(m);
  });

  test("KTHXBAI carries the subtree in frame 4 and count=; HUGZ the current sequence", () => {
    const k = encodeKvMsg(kthxbai(7n, "/client/", 3));
    expect(k[0]?.toString()).toBe("KTHXBAI");
    expect(k[1]?.readBigInt64BE(0)).toBe(7n);
    expect(k[3]?.toString()).toBe("count=3\n");
    expect(k[4]?.toString()).toBe("/client/");
    const h = encodeKvMsg(hugz(9n));
    expect(h[0]?.toString()).toBe("HUGZ");
    expect(h[1]?.readBigInt64BE(0)).toBe(9n);
  });

  test("the Python server's KTHXBAI (random UUID, subtree body) decodes", () => {
    const frames = [
      Buffer.from("KTHXBAI"),
      Buffer.from("0000000000000001", "hex"),
      newUuid(),
      Buffer.alloc(0),
      Buffer.from("/client/"),
    ];
    const m = decodeKvMsg(frames);
    expect(m.key).toBe("KTHXBAI");
    expect(m.sequence).toBe(1n);
    expect(m.body.toString()).toBe("/client/");
  });

  test.each<[string, Buffer[], string]>([
    [
      "four frames",
      [Buffer.from("k"), Buffer.alloc(8), Buffer.alloc(0), Buffer.alloc(0)],
      "frame-count",
    ],
    ["six frames", Array.from({ length: 6 }, () => Buffer.alloc(0)), "frame-count"],
    [
      "a 7-byte sequence",
      [Buffer.from("k"), Buffer.alloc(7), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)],
      "sequence",
    ],
    [
      "a negative sequence",
      [
        Buffer.from("k"),
        Buffer.from("ff00000000000000", "hex"),
        Buffer.alloc(0),
        Buffer.alloc(0),
        Buffer.alloc(0),
      ],
      "sequence",
    ],
    [
      "a 15-byte UUID",
      [Buffer.from("k"), Buffer.alloc(8), Buffer.alloc(15), Buffer.alloc(0), Buffer.alloc(0)],
      "uuid",
    ],
    [
      "a property line without =",
      [Buffer.from("k"), Buffer.alloc(8), Buffer.alloc(0), Buffer.from("ttl\n"), Buffer.alloc(0)],
      "properties",
    ],
    [
      "a 256-byte key",
      [Buffer.alloc(256, 0x61), Buffer.alloc(8), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)],
      "key-size",
    ],
    [
      "a key that is not UTF-8",
      [
        Buffer.from([0xff, 0xfe]),
        Buffer.alloc(8),
        Buffer.alloc(0),
        Buffer.alloc(0),
        Buffer.alloc(0),
      ],
      "key-encoding",
    ],
  ])("%s is a typed decode error", (_name, frames, reason) => {
    let caught: unknown;
    try {
      decodeKvMsg(frames);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(KvMsgDecodeError);
    expect(isZgError(caught) && caught.code).toBe("ZG_PROTOCOL");
    expect((caught as KvMsgDecodeError).reason).toBe(reason);
    expect((caught as KvMsgDecodeError).name).toBe("KvMsgDecodeError");
  });

  test("encode refuses what cannot be sent", () => {
    expect(() => encodeKvMsg(msg({ key: "x".repeat(256) }))).toThrow(/255/);
    expect(() => encodeKvMsg(msg({ sequence: -1n }))).toThrow(/sequence/);
    expect(() => encodeKvMsg(msg({ uuid: Buffer.alloc(3) }))).toThrow(/uuid/);
    expect(() => encodeKvMsg(msg({ properties: new Map([["a=b", "c"]]) }))).toThrow(/property/);
  });

  test("ICANHAZ: 2 frames (model 4+), 1 frame (models 2–3) means the whole map", () => {
    expect(encodeIcanhaz("/a/").map(String)).toEqual(["ICANHAZ?", "/a/"]);
    expect(decodeIcanhaz(encodeIcanhaz("/a/"))).toEqual({ subtree: "/a/" });
    expect(decodeIcanhaz([Buffer.from("ICANHAZ?")])).toEqual({ subtree: "" });
    expect(() => decodeIcanhaz([Buffer.from("GIMME")])).toThrow(KvMsgDecodeError);
    expect(() => decodeIcanhaz([])).toThrow(KvMsgDecodeError);
    expect(() =>
      decodeIcanhaz([Buffer.from("ICANHAZ?"), Buffer.alloc(0), Buffer.alloc(0)]),
    ).toThrow(KvMsgDecodeError);
  });

  test("ttl is seconds on the wire, ms in code; bad or absent ttl means none", () => {
    expect(ttlOf(msg())).toBe(30_000);
    expect(ttlOf(msg({ properties: new Map([["ttl", "2.5"]]) }))).toBe(2500);
    expect(ttlOf(msg({ properties: new Map([["ttl", "soon"]]) }))).toBeUndefined();
    expect(ttlOf(msg({ properties: new Map([["ttl", "0"]]) }))).toBeUndefined();
    expect(ttlOf(msg({ properties: new Map() }))).toBeUndefined();
  });

  test("newUuid gives 16 random bytes", () => {
    const a = newUuid();
    expect(a.length).toBe(16);
    expect(a.equals(newUuid())).toBe(false);
  });
});
