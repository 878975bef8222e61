import { describe, expect, test } from "vitest";
import { Beacon, decodeZreBeacon, encodeZreBeacon, ZRE_BEACON_SIZE } from "../src/index.js";

describe("ZRE beacon codec (36/ZRE)", () => {
  const uuid = Buffer.from("00112233445566778899aabbccddeeff", "hex");

  test("22 bytes: ZRE, 0x01, UUID, big-endian port", () => {
    const b = encodeZreBeacon(uuid, 0x1234);
    expect(b.length).toBe(ZRE_BEACON_SIZE);
    expect(b.toString("hex")).toBe(`5a524501${uuid.toString("hex")}1234`);
    expect(decodeZreBeacon(b)).toEqual({ uuid, port: 0x1234 });
    expect(decodeZreBeacon(encodeZreBeacon(uuid, 0))).toEqual({ uuid, port: 0 }); // leaving
  });

  test("wrong size, header or version: a reason, never a throw", () => {
    const b = encodeZreBeacon(uuid, 1);
    expect(decodeZreBeacon(b.subarray(0, 21))).toMatch(/21 bytes/);
    expect(decodeZreBeacon(Buffer.concat([b, Buffer.from([0])]))).toMatch(/23 bytes/);
    expect(decodeZreBeacon(Buffer.from(`ZRX${b.toString("latin1", 3)}`, "latin1"))).toMatch(
      /not a ZRE/,
    );
    const v2 = Buffer.from(b);
    v2[3] = 2;
    expect(decodeZreBeacon(v2)).toMatch(/version 2/);
    expect(decodeZreBeacon(Buffer.alloc(0))).toMatch(/0 bytes/);
    expect(() => encodeZreBeacon(Buffer.alloc(15), 1)).toThrow(RangeError);
    expect(() => encodeZreBeacon(uuid, 70_000)).toThrow(RangeError);
  });

  test("options are validated in the constructor, nothing opened", () => {
    expect(() => new Beacon({ format: "x" as "zre" })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => new Beacon({ uuid: Buffer.alloc(3) })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => new Beacon({ port: 70_000 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(new Beacon().stats()).toMatchObject({ sent: 0, peers: 0 });
  });
});
