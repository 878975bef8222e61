import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type * as zmq from "zeromq";
import { closeAfter, tcpEndpoint, waitFor, within } from "@zg/testing";
import { createDealer } from "@zg/core";
import {
  encodeClientRequest,
  encodeReady,
  MajordomoBroker,
  MajordomoClient,
  MajordomoWorker,
} from "../src/index.js";

const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };
const B = (...xs: (string | number[])[]): Buffer[] =>
  xs.map((x) => (typeof x === "string" ? Buffer.from(x) : Buffer.from(x)));

describe("Majordomo protocol abuse (B4)", () => {
  test("each abusive message is answered by DISCONNECT or dropped; a good round trip follows each", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
    const ep = (await broker.start()).endpoints[0] as string;
    await closeAfter(
      new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r, ...HB }),
    ).start();
    const good = closeAfter(new MajordomoClient({ broker: ep, timeout: 1000, attempts: 1 }));
    await good.start();
    await waitFor(() => broker.stats().workers === 1);

    const cases: { name: string; frames: Buffer[][]; expect: "disconnect" | "drop" }[] = [
      {
        name: "second READY",
        frames: [encodeReady("MDP/0.1", "abuse"), encodeReady("MDP/0.1", "abuse")],
        expect: "disconnect",
      },
      {
        name: "REPLY from an unregistered worker",
        frames: [B("", "MDPW01", [3], "client", "", "body")],
        expect: "disconnect",
      },
      {
        name: "HEARTBEAT from an unknown identity",
        frames: [B("", "MDPW01", [4])],
        expect: "disconnect",
      },
      {
        name: "0.2 FINAL from an unregistered worker",
        frames: [B("MDPW02", [4], "client", "", "x")],
        expect: "disconnect",
      },
      {
        name: "READY for a reserved mmi.* service",
        frames: [encodeReady("MDP/0.1", "mmi.echo")],
        expect: "disconnect",
      },
      {
        name: "REQUEST sent by a worker",
        frames: [B("", "MDPW01", [2], "c", "", "x")],
        expect: "disconnect",
      },
      {
        name: "REPLY without a request",
        frames: [encodeReady("MDP/0.1", "abuse2"), B("", "MDPW01", [3], "client", "", "x")],
        expect: "disconnect",
      },
      { name: "unknown command byte", frames: [B("", "MDPW01", [9])], expect: "drop" },
      { name: "header MDPW0X", frames: [B("", "MDPW0X", [1], "svc")], expect: "drop" },
      { name: "missing empty frame", frames: [B("MDPW01", [1], "svc")], expect: "drop" },
      {
        name: "READY with an extra frame",
        frames: [B("", "MDPW01", [1], "svc", "extra")],
        expect: "drop",
      },
      {
        name: "HEARTBEAT with an extra frame",
        frames: [B("", "MDPW01", [4], "x")],
        expect: "drop",
      },
      {
        name: "REPLY without the empty frame",
        frames: [B("", "MDPW01", [3], "client")],
        expect: "drop",
      },
      {
        name: "command frame of two bytes",
        frames: [B("", "MDPW01", [1, 1], "svc")],
        expect: "drop",
      },
      {
        name: "client request without a body frame",
        frames: [B("", "MDPC01", "echo")],
        expect: "drop",
      },
      { name: "client request without a service", frames: [B("", "MDPC01")], expect: "drop" },
      {
        name: "MDPC02 with a non-REQUEST command",
        frames: [B("MDPC02", [3], "echo", "x")],
        expect: "drop",
      },
      { name: "only an empty frame", frames: [B("")], expect: "drop" },
      { name: "unknown header", frames: [B("HTTP/1.1 GET /")], expect: "drop" },
    ];
    for (const c of cases) {
      const dealer = closeAfter(createDealer({ linger: 0, receiveTimeout: 300 }));
      dealer.connect(ep);
      const before = broker.stats();
      for (const f of c.frames) await dealer.send(f);
      if (c.expect === "disconnect") {
        const msg = await dealer.receive();
        const [header, cmd] = msg[0]?.length === 0 ? msg.slice(1) : msg; // 0.1 starts with an empty frame
        const want = header?.toString() === "MDPW02" ? ["MDPW02", 0x06] : ["MDPW01", 0x05];
        expect([c.name, header?.toString(), cmd?.[0]]).toEqual([c.name, ...want]);
        expect(msg[0]?.length === 0 ? "MDPW01" : "MDPW02").toBe(
          c.frames[c.frames.length - 1]?.[0]?.length === 0 ? "MDPW01" : "MDPW02",
        );
        expect(broker.stats().disconnects, c.name).toBeGreaterThan(before.disconnects);
      } else {
        await waitFor(() => broker.stats().protocolErrors > before.protocolErrors, {
          timeout: 1000,
          what: `${c.name} counted as invalid`,
        });
        await expect(dealer.receive(), c.name).rejects.toMatchObject({ code: "EAGAIN" });
      }
      // A good client's round trip right after (≤ 1 s).
      const reply = await within(
        good.request("echo", [c.name]),
        1000,
        `round trip after ${c.name}`,
      );
      expect(reply.map(String)).toEqual([c.name]);
    }
    expect(broker.state).toBe("running");
  });

  test("random and mutated frames (fast-check, fixed seed): no crash, the broker keeps serving", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
    const ep = (await broker.start()).endpoints[0] as string;
    await closeAfter(
      new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r, ...HB }),
    ).start();
    const good = closeAfter(new MajordomoClient({ broker: ep, timeout: 1000, attempts: 1 }));
    await good.start();
    await waitFor(() => broker.stats().workers === 1);
    const valid = [
      encodeReady("MDP/0.1", "fuzz"),
      encodeReady("MDP/0.2", "fuzz"),
      encodeClientRequest("MDP/0.1", "echo", [Buffer.from("x")]),
      encodeClientRequest("MDP/0.2", "echo", [Buffer.from("x")]),
      B("", "MDPW01", [3], "client", "", "body"),
      B("MDPW02", [5]),
    ];
    const frame = fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u));
    const random = fc.array(frame, { minLength: 0, maxLength: 8 });
    const mutated = fc
      .tuple(
        fc.constantFrom(...valid),
        fc.nat(),
        fc.constantFrom("drop", "dup", "swap", "truncate", "byte"),
        fc.nat(255),
      )
      .map(([msg, i, op, byte]) => {
        const m: Buffer[] = msg.map((f) => Buffer.from(f));
        const k = m.length === 0 ? 0 : i % m.length;
        if (op === "drop") m.splice(k, 1);
        else if (op === "dup") m.splice(k, 0, m[k] as Buffer);
        else if (op === "swap" && m.length > 1) [m[0], m[k]] = [m[k] as Buffer, m[0] as Buffer];
        else if (op === "truncate")
          m[k] = (m[k] ?? Buffer.alloc(0)).subarray(0, Math.max(0, (m[k]?.length ?? 0) - 1));
        else if (m[k] !== undefined && m[k].length > 0) m[k][0] = byte;
        return m;
      });
    const samples = fc.sample(fc.oneof(random, mutated), { seed: 20261122, numRuns: 400 });
    const dealers: zmq.Dealer[] = [];
    for (let d = 0; d < 4; d++) {
      const s = closeAfter(createDealer({ linger: 0 }));
      s.connect(ep);
      dealers.push(s);
    }
    let n = 0;
    for (const msg of samples) {
      if (msg.length === 0) continue; // zeromq.js cannot send a zero-frame message
      await (dealers[n++ % dealers.length] as zmq.Dealer).send(msg);
      if (n % 50 === 0) {
        expect(
          (
            await within(
              good.request("echo", [`after ${n}`]),
              1000,
              `round trip after ${n} fuzz messages`,
            )
          ).map(String),
        ).toEqual([`after ${n}`]);
      }
    }
    const reply = await within(good.request("echo", ["end"]), 1000, "final round trip");
    expect(reply.map(String)).toEqual(["end"]);
    const s = broker.stats();
    expect(s.protocolErrors + s.disconnects).toBeGreaterThan(100);
    expect(broker.state).toBe("running");
  });
});
