import { describe, expect, test } from "vitest";
import { MdpWorkerCore } from "../src/majordomo/worker-core.js";
import {
  encodeCorrelation,
  encodeWorkerRequest,
  encodeWorkerSignal,
  type MdpVersion,
} from "../src/majordomo/protocol.js";

const F = (s: string): Buffer => Buffer.from(s);
const hex = (fs: Buffer[]): string[] => fs.map((f) => f.toString("hex"));

describe.each(["MDP/0.1", "MDP/0.2"] as MdpVersion[])("MdpWorkerCore %s (socket-free)", (v) => {
  test("HEARTBEAT and DISCONNECT become actions; garbage throws a ProtocolError", () => {
    const core = new MdpWorkerCore(v);
    expect(core.receive(encodeWorkerSignal(v, "HEARTBEAT"))).toEqual({ kind: "heartbeat" });
    expect(core.receive(encodeWorkerSignal(v, "DISCONNECT"))).toEqual({ kind: "disconnect" });
    expect(() => core.receive([F("junk")])).toThrow();
  });

  test("a request without correlation: body as is; the reply goes to its client", () => {
    const core = new MdpWorkerCore(v);
    const a = core.receive(encodeWorkerRequest(v, F("C1"), [F("hello")]));
    if (a.kind !== "request") throw new Error("expected a request");
    expect(a.request.map(String)).toEqual(["hello"]);
    expect(hex(a.reply("FINAL", ["r"]))).toEqual(
      hex(
        v === "MDP/0.1"
          ? [F(""), F("MDPW01"), Buffer.from([3]), F("C1"), F(""), F("r")]
          : [F("MDPW02"), Buffer.from([4]), F("C1"), F(""), F("r")], // 18/MDP FINAL = 0x04
      ),
    );
  });

  test("the async client's correlation frame is hidden from the handler and kept on every reply", () => {
    const core = new MdpWorkerCore(v);
    const corr = encodeCorrelation(42n);
    const a = core.receive(encodeWorkerRequest(v, F("C"), [corr, F("x")]));
    if (a.kind !== "request") throw new Error("expected a request");
    expect(a.request.map(String)).toEqual(["x"]);
    const reply = a.reply("FINAL", ["y"]);
    expect(reply.slice(-2).map((f) => f.toString("hex"))).toEqual([
      corr.toString("hex"),
      F("y").toString("hex"),
    ]);
  });
});
