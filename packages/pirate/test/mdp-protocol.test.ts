import { describe, expect, test } from "vitest";
import {
  brokerErrorBody,
  decodeBrokerInbound,
  decodeClientInbound,
  decodeCorrelation,
  decodeWorkerInbound,
  encodeClientReply,
  encodeClientRequest,
  encodeCorrelation,
  encodeReady,
  encodeWorkerReply,
  encodeWorkerRequest,
  encodeWorkerSignal,
  parseBrokerError,
} from "../src/index.js";

const B = (...xs: (string | number[])[]): Buffer[] =>
  xs.map((x) => (typeof x === "string" ? Buffer.from(x) : Buffer.from(x)));
const hex = (frames: Buffer[]): string[] => frames.map((f) => f.toString("hex"));

describe("MDP codec: golden frames from 7/MDP and 18/MDP", () => {
  test("7/MDP worker commands", () => {
    expect(hex(encodeReady("MDP/0.1", "echo"))).toEqual(hex(B("", "MDPW01", [1], "echo")));
    expect(hex(encodeWorkerRequest("MDP/0.1", Buffer.from("C"), B("body")))).toEqual(
      hex(B("", "MDPW01", [2], "C", "", "body")),
    );
    expect(hex(encodeWorkerReply("MDP/0.1", "FINAL", Buffer.from("C"), B("r")))).toEqual(
      hex(B("", "MDPW01", [3], "C", "", "r")),
    );
    expect(hex(encodeWorkerSignal("MDP/0.1", "HEARTBEAT"))).toEqual(hex(B("", "MDPW01", [4])));
    expect(hex(encodeWorkerSignal("MDP/0.1", "DISCONNECT"))).toEqual(hex(B("", "MDPW01", [5])));
    expect(() => encodeWorkerReply("MDP/0.1", "PARTIAL", Buffer.from("C"), [])).toThrow(
      /no PARTIAL/,
    );
  });

  test("18/MDP worker and client commands", () => {
    expect(hex(encodeReady("MDP/0.2", "echo"))).toEqual(hex(B("MDPW02", [1], "echo")));
    expect(hex(encodeWorkerRequest("MDP/0.2", Buffer.from("C"), B("b")))).toEqual(
      hex(B("MDPW02", [2], "C", "", "b")),
    );
    expect(hex(encodeWorkerReply("MDP/0.2", "PARTIAL", Buffer.from("C"), B("p")))).toEqual(
      hex(B("MDPW02", [3], "C", "", "p")),
    );
    expect(hex(encodeWorkerReply("MDP/0.2", "FINAL", Buffer.from("C"), B("f")))).toEqual(
      hex(B("MDPW02", [4], "C", "", "f")),
    );
    expect(hex(encodeWorkerSignal("MDP/0.2", "HEARTBEAT"))).toEqual(hex(B("MDPW02", [5])));
    expect(hex(encodeWorkerSignal("MDP/0.2", "DISCONNECT"))).toEqual(hex(B("MDPW02", [6])));
    expect(hex(encodeClientRequest("MDP/0.2", "echo", B("x")))).toEqual(
      hex(B("MDPC02", [1], "echo", "x")),
    );
    expect(hex(encodeClientReply("MDP/0.2", "PARTIAL", "echo", B("x")))).toEqual(
      hex(B("MDPC02", [2], "echo", "x")),
    );
    expect(hex(encodeClientReply("MDP/0.2", "FINAL", "echo", B("x")))).toEqual(
      hex(B("MDPC02", [3], "echo", "x")),
    );
    expect(hex(encodeClientReply("MDP/0.1", "FINAL", "echo", B("x")))).toEqual(
      hex(B("", "MDPC01", "echo", "x")),
    );
  });

  test("the broker decodes both versions and rejects invalid messages", () => {
    expect(decodeBrokerInbound(B("", "MDPC01", "echo", "a", "b"))).toMatchObject({
      kind: "client",
      version: "MDP/0.1",
      service: "echo",
    });
    expect(decodeBrokerInbound(B("MDPC02", [1], "echo", "a"))).toMatchObject({
      kind: "client",
      version: "MDP/0.2",
      service: "echo",
    });
    expect(decodeBrokerInbound(B("", "MDPW01", [1], "echo"))).toEqual({
      kind: "worker",
      version: "MDP/0.1",
      command: "READY",
      service: "echo",
    });
    expect(decodeBrokerInbound(B("MDPW02", [3], "C", "", "p"))).toMatchObject({
      command: "PARTIAL",
      version: "MDP/0.2",
    });
    expect(decodeBrokerInbound(B("", "MDPW01", [3], "C", "", "r"))).toMatchObject({
      command: "FINAL",
      version: "MDP/0.1",
    });
    expect(decodeBrokerInbound(B("", "MDPW01", [3], "C", ""))).toMatchObject({
      command: "FINAL",
      body: [],
    });
    for (const bad of [
      B("", "MDPC01", "echo"), // no body: crashes the reference brokers
      B("", "MDPC01", "", "x"), // empty service name
      B("", "MDPW01", [6]),
      B("", "MDPW01", [1]),
      B("", "MDPW01", [1], "a", "b"),
      B("", "MDPW01", [4], "x"),
      B("", "MDPW01", [3], "C", "x"),
      B("", "MDPW0X", [1], "a"),
      B("MDPW01", [1], "a"),
      B("MDPC02", [2], "echo", "x"),
      B("MDPW02", [7]),
      B(""),
      [],
    ]) {
      expect(() => decodeBrokerInbound(bad), JSON.stringify(bad.map(String))).toThrow(
        expect.objectContaining({ code: "ZG_PROTOCOL" }),
      );
    }
  });

  test("worker and client decoders", () => {
    expect(decodeWorkerInbound("MDP/0.1", B("", "MDPW01", [2], "C", "", "x"))).toMatchObject({
      command: "REQUEST",
      body: B("x"),
    });
    expect(decodeWorkerInbound("MDP/0.2", B("MDPW02", [6]))).toEqual({ command: "DISCONNECT" });
    expect(() => decodeWorkerInbound("MDP/0.1", B("MDPW02", [6]))).toThrow(/empty frame/);
    expect(() => decodeWorkerInbound("MDP/0.1", B("", "MDPW01", [1], "x"))).toThrow(
      /unexpected command/,
    );
    expect(decodeClientInbound(B("", "MDPC01", "echo", "r"))).toMatchObject({
      command: "FINAL",
      service: "echo",
      body: B("r"),
    });
    expect(decodeClientInbound(B("MDPC02", [2], "echo", "p"))).toMatchObject({
      command: "PARTIAL",
    });
    expect(() => decodeClientInbound(B("MDPC02", [1], "echo"))).toThrow(/unknown/);
  });

  test("broker error replies and correlation frames", () => {
    const c = encodeCorrelation(42n);
    expect(c.length).toBe(12);
    expect(decodeCorrelation(c)).toBe(42n);
    expect(decodeCorrelation(Buffer.from("hello world!"))).toBeUndefined();
    expect(parseBrokerError(brokerErrorBody("504", "expired", [c, Buffer.from("x")]))).toEqual({
      status: "504",
      text: "expired",
      correlation: 42n,
    });
    expect(parseBrokerError(brokerErrorBody("503", "full"))).toEqual({
      status: "503",
      text: "full",
      correlation: undefined,
    });
    expect(parseBrokerError(B("200"))).toBeUndefined();
  });
});
