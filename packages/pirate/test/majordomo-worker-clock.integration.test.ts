// The Majordomo worker's link behaviour on a ManualClock: heartbeats, silence, DISCONNECT and
// handler failure each decided by the injected clock, never by wall-clock sleeps.
import { describe, expect, test } from "vitest";
import { bindAll, createRouter, ManualClock, SocketLoop, type Message } from "@zg/core";
import { closeAfter, tcpEndpoint, waitFor } from "@zg/testing";
import {
  decodeBrokerInbound,
  encodeCorrelation,
  encodeWorkerRequest,
  encodeWorkerSignal,
  MajordomoWorker,
} from "../src/index.js";

async function broker() {
  const router = createRouter({ linger: 0 });
  const [endpoint] = await bindAll(router, [tcpEndpoint()]);
  const got: { id: string; command: string; frames: Message }[] = [];
  const loop: SocketLoop = closeAfter(
    new SocketLoop(router, {
      onMessage: (m) => {
        const d = decodeBrokerInbound(m.slice(1));
        const command = d.kind === "worker" ? d.command : "client";
        got.push({ id: (m[0] as Buffer).toString("hex"), command, frames: m });
      },
    }).start(),
  );
  /** To the socket that registered last (an old socket's goodbye may arrive after the new READY). */
  const toLast = (frames: Message): void => {
    const last = got.filter((g) => g.command === "READY").at(-1);
    if (last !== undefined) loop.post([last.frames[0] as Buffer, ...frames]);
  };
  return { endpoint: endpoint as string, got, toLast };
}

describe("MajordomoWorker on a ManualClock (scripted 7/MDP broker)", () => {
  test("READY, idle HEARTBEATs, re-registration on a new socket after silence, at once after DISCONNECT", async () => {
    const b = await broker();
    const clock = new ManualClock();
    const worker = closeAfter(
      new MajordomoWorker({
        broker: b.endpoint,
        service: "echo",
        handler: (req) => req,
        heartbeatInterval: 100,
        heartbeatLiveness: 3,
        reconnectDelay: 500,
        clock,
      }),
    );
    const lost: string[] = [];
    worker.on("broker:lost", (e) => lost.push(e.reason));
    await worker.start();
    await waitFor(() => b.got.some((g) => g.command === "READY"), { what: "READY" });
    clock.advance(100);
    await waitFor(() => b.got.some((g) => g.command === "HEARTBEAT"), { what: "a HEARTBEAT" });

    // A request with the async client's correlation frame: the handler never sees it, the reply keeps it.
    const corr = encodeCorrelation(7n);
    b.toLast(encodeWorkerRequest("MDP/0.1", Buffer.from("C"), [corr, Buffer.from("hi")]));
    await waitFor(() => b.got.some((g) => g.command === "FINAL"), { what: "the reply" });
    const reply = b.got.find((g) => g.command === "FINAL")?.frames.map(String);
    expect(reply?.slice(-2)).toEqual([String(corr), "hi"]);

    clock.advance(300); // three silent intervals: the broker is judged dead
    expect(lost).toEqual(["silent"]);
    clock.advance(500); // the reconnect delay
    await waitFor(() => b.got.filter((g) => g.command === "READY").length === 2, {
      what: "READY on a new socket",
    });
    const readies = b.got.filter((g) => g.command === "READY");
    expect(readies[0]?.id).not.toBe(readies[1]?.id);

    b.toLast(encodeWorkerSignal("MDP/0.1", "DISCONNECT"));
    await waitFor(() => lost.length === 2, { what: "DISCONNECT seen" });
    clock.advance(0);
    await waitFor(() => b.got.filter((g) => g.command === "READY").length === 3, {
      what: "re-registered at once",
    });
    expect(lost).toEqual(["silent", "disconnect"]);
    expect(worker.stats()).toMatchObject({
      handled: 1,
      connects: 3,
      brokerDeaths: 1,
      disconnectsReceived: 1,
    });
    await worker.close();
    expect(clock.pending).toBe(0);
  });
});
