import { describe, expect, test } from "vitest";
import { EMPTY_FRAME, type Frame } from "@zg/core";
import {
  chooseVersion,
  createVersionResponder,
  decodeNegotiation,
  encodeHello,
  encodeReject,
  encodeWelcome,
  isNegotiationMessage,
  negotiateVersion,
  normaliseVersions,
  VersionError,
  type NegotiationPort,
} from "../src/index.js";

const text = (frames: readonly Frame[]): string[] =>
  frames.map((f, i) =>
    i === 1 && f.length === 1 ? `0x${f[0]!.toString(16).padStart(2, "0")}` : f.toString("latin1"),
  );

/** A port whose peer is the responder, answering in the same tick. */
function loopbackPort(
  respond: (frames: Frame[]) => Frame[] | undefined,
  log: Frame[][] = [],
): NegotiationPort {
  const inbox: Frame[][] = [];
  let wake: (() => void) | undefined;
  return {
    send: (frames) => {
      log.push(frames);
      const reply = respond(frames);
      if (reply) inbox.push(reply);
      wake?.();
      return Promise.resolve();
    },
    receive: async () => {
      while (inbox.length === 0) await new Promise<void>((r) => (wake = r));
      return inbox.shift()!;
    },
  };
}

describe("negotiation frames (golden)", () => {
  test("HELLO, WELCOME and REJECT frame by frame", () => {
    expect(text(encodeHello("echo", [3, 1, 2, 2]))).toEqual(["ZGNEG1", "0x01", "echo", "1,2,3"]);
    expect(text(encodeWelcome("echo", 2))).toEqual(["ZGNEG1", "0x02", "echo", "2"]);
    expect(text(encodeReject("echo", [5, 4], "no common version"))).toEqual([
      "ZGNEG1",
      "0x03",
      "echo",
      "4,5",
      "no common version",
    ]);
    expect(text(encodeReject("other", [], "unknown protocol"))).toEqual([
      "ZGNEG1",
      "0x03",
      "other",
      "",
      "unknown protocol",
    ]);
  });

  test("decode round trips and rejects malformed messages with ZG_PROTOCOL", () => {
    expect(decodeNegotiation(encodeHello("a.b/c", [1, 65535]))).toEqual({
      command: "hello",
      protocol: "a.b/c",
      versions: [1, 65535],
    });
    expect(decodeNegotiation(encodeWelcome("a", 7))).toEqual({
      command: "welcome",
      protocol: "a",
      version: 7,
    });
    expect(decodeNegotiation(encodeReject("a", [1], "why"))).toEqual({
      command: "reject",
      protocol: "a",
      versions: [1],
      reason: "why",
    });
    const bad: Frame[][] = [
      [],
      [Buffer.from("ZGNEG2"), Buffer.from([1]), Buffer.from("a"), Buffer.from("1")],
      [Buffer.from("ZGNEG1"), Buffer.from([9]), Buffer.from("a"), Buffer.from("1")],
      [Buffer.from("ZGNEG1"), Buffer.from([1]), Buffer.from("a b"), Buffer.from("1")],
      [Buffer.from("ZGNEG1"), Buffer.from([1]), Buffer.from("a"), Buffer.from("0")],
      [Buffer.from("ZGNEG1"), Buffer.from([1]), Buffer.from("a"), Buffer.from("65536")],
      [Buffer.from("ZGNEG1"), Buffer.from([1]), Buffer.from("a"), Buffer.from("1,,2")],
      [Buffer.from("ZGNEG1"), Buffer.from([1]), Buffer.from("a"), Buffer.from("")],
      [
        Buffer.from("ZGNEG1"),
        Buffer.from([1]),
        Buffer.from("a"),
        Buffer.from("1"),
        Buffer.from("extra"),
      ],
      [Buffer.from("ZGNEG1"), Buffer.from([1]), Buffer.from("a")],
      [Buffer.from("ZGNEG1"), Buffer.from([1, 1]), Buffer.from("a"), Buffer.from("1")],
      [
        Buffer.from("ZGNEG1"),
        Buffer.from([1]),
        Buffer.from("a"),
        Buffer.from(Array.from({ length: 65 }, (_, i) => i + 1).join(",")),
      ],
    ];
    for (const frames of bad)
      expect(() => decodeNegotiation(frames), text(frames).join("|")).toThrow(
        expect.objectContaining({ code: "ZG_PROTOCOL" }),
      );
  });

  test("version sets are validated and normalised", () => {
    expect(normaliseVersions([3, 1, 3])).toEqual([1, 3]);
    for (const bad of [[], [0], [65536], [1.5], Array.from({ length: 65 }, (_, i) => i + 1)]) {
      expect(() => normaliseVersions(bad)).toThrow(
        expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
      );
    }
    expect(chooseVersion([1, 2, 3], [2, 3, 4])).toBe(3);
    expect(chooseVersion([1], [2])).toBeUndefined();
    expect(isNegotiationMessage([Buffer.from("ZGNEG1")])).toBe(true);
    expect(isNegotiationMessage([Buffer.from("MDPC01")])).toBe(false);
  });
});

describe("createVersionResponder", () => {
  const respond = createVersionResponder({ echo: [1, 2, 3], "clone.kv": [1] });

  test("welcomes with the highest common version", () => {
    const out = respond(encodeHello("echo", [2, 3, 4]));
    expect(text(out.reply)).toEqual(["ZGNEG1", "0x02", "echo", "3"]);
    expect(out).toMatchObject({ protocol: "echo", version: 3, remote: [2, 3, 4] });
    expect(out.error).toBeUndefined();
  });

  test("rejects with both sets when nothing is common, and with an empty set for an unknown protocol", () => {
    const none = respond(encodeHello("echo", [4, 5]));
    expect(text(none.reply)).toEqual(["ZGNEG1", "0x03", "echo", "1,2,3", "no common version"]);
    expect(none.error).toMatchObject({ code: "ZG_VERSION", local: [1, 2, 3], remote: [4, 5] });
    const unknown = respond(encodeHello("mystery", [1]));
    expect(text(unknown.reply)).toEqual(["ZGNEG1", "0x03", "mystery", "", "unknown protocol"]);
    expect(unknown.error).toMatchObject({ code: "ZG_VERSION", local: [], remote: [1] });
  });

  test("a malformed or non-HELLO message is a ProtocolError for the loop to count and drop", () => {
    expect(() => respond(encodeWelcome("echo", 1))).toThrow(
      expect.objectContaining({ code: "ZG_PROTOCOL" }),
    );
    expect(() => respond([Buffer.from("junk")])).toThrow(
      expect.objectContaining({ code: "ZG_PROTOCOL" }),
    );
    expect(() => createVersionResponder({})).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect(() => createVersionResponder({ x: [] })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
  });
});

describe("negotiateVersion (client) against the responder", () => {
  const respond = createVersionResponder({ echo: [1, 2, 3] });

  test("agrees on the highest common version", async () => {
    const log: Frame[][] = [];
    await expect(
      negotiateVersion(
        loopbackPort((f) => respond(f).reply, log),
        { protocol: "echo", versions: [2, 3, 4] },
      ),
    ).resolves.toBe(3);
    expect(text(log[0]!)).toEqual(["ZGNEG1", "0x01", "echo", "2,3,4"]);
  });

  test("fails fast with ZG_VERSION naming both sets", async () => {
    const p = negotiateVersion(
      loopbackPort((f) => respond(f).reply),
      { protocol: "echo", versions: [7, 8] },
    );
    await expect(p).rejects.toMatchObject({ code: "ZG_VERSION", local: [7, 8], remote: [1, 2, 3] });
    await expect(p).rejects.toThrow(
      "no common version of echo: local [7,8], remote [1,2,3] (no common version)",
    );
    await expect(p).rejects.toBeInstanceOf(VersionError);
  });

  test("a prefix frame (REQ-style delimiter) is sent and stripped", async () => {
    const port = loopbackPort((f) => [EMPTY_FRAME, ...respond(f.slice(1)).reply]);
    await expect(
      negotiateVersion(port, { protocol: "echo", versions: [1], prefix: [EMPTY_FRAME] }),
    ).resolves.toBe(1);
  });

  test("skips unrelated messages and answers for other protocols", async () => {
    const port = loopbackPort(() => undefined);
    const inbox: Frame[][] = [
      [Buffer.from("HEARTBEAT")],
      encodeWelcome("other", 1),
      encodeWelcome("echo", 2),
    ];
    port.receive = () => Promise.resolve(inbox.shift()!);
    await expect(negotiateVersion(port, { protocol: "echo", versions: [1, 2] })).resolves.toBe(2);
  });

  test("a WELCOME naming a version the client did not offer is a protocol error", async () => {
    const port = loopbackPort(() => encodeWelcome("echo", 9));
    await expect(
      negotiateVersion(port, { protocol: "echo", versions: [1, 2] }),
    ).rejects.toMatchObject({ code: "ZG_PROTOCOL" });
  });

  test("times out and aborts", async () => {
    const silent: NegotiationPort = {
      send: () => Promise.resolve(),
      receive: () => new Promise<Frame[]>(() => {}),
    };
    await expect(
      negotiateVersion(silent, { protocol: "echo", versions: [1], timeout: 30 }),
    ).rejects.toMatchObject({ code: "ZG_TIMEOUT" });
    const ac = new AbortController();
    const p = negotiateVersion(silent, { protocol: "echo", versions: [1], signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: "ZG_ABORTED" });
    await expect(
      negotiateVersion(silent, { protocol: "echo", versions: [1], signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: "ZG_ABORTED" });
    await expect(
      negotiateVersion(silent, { protocol: "echo", versions: [] }),
    ).rejects.toMatchObject({ code: "ZG_INVALID_ARGUMENT" });
    const broken: NegotiationPort = {
      send: () => Promise.reject(Object.assign(new Error("Socket is closed"), { code: "EBADF" })),
      receive: () => new Promise<Frame[]>(() => {}),
    };
    await expect(
      negotiateVersion(broken, { protocol: "echo", versions: [1] }),
    ).rejects.toMatchObject({ code: "ZG_SOCKET", details: { code: "EBADF" } });
  });
});
