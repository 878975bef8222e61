import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { MajordomoBroker } from "@zg/pirate";
import { closeAfter, tcpEndpoint, tempDir, waitFor } from "@zg/testing";
import { parseJsonLine, TraceProxy, type TraceRecord } from "../src/index.js";

const hex = (m: readonly Buffer[]) => m.map((f) => f.toString("hex"));

/** A raw DEALER that records every message it sends and receives (one reader, sends awaited in order). */
function recorder(endpoint: string, routingId?: string) {
  const socket = new zmq.Dealer({ linger: 0, ...(routingId === undefined ? {} : { routingId }) });
  socket.connect(endpoint);
  const sent: Buffer[][] = [];
  const received: Buffer[][] = [];
  const reading = (async () => {
    try {
      for await (const m of socket) received.push(m);
    } catch {
      /* closed */
    }
  })();
  return {
    sent,
    received,
    async send(...frames: (string | Buffer)[]) {
      const m = frames.map((f) => (typeof f === "string" ? Buffer.from(f) : f));
      sent.push(m);
      await socket.send(m);
    },
    async close() {
      socket.close();
      await reading;
    },
  };
}

function linesOf(text: string): TraceRecord[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map(parseJsonLine);
}

describe("TraceProxy", () => {
  it("in front of a Majordomo broker: a round trip works and the capture equals the frames client and worker sent and received", async () => {
    const dir = tempDir();
    const broker = closeAfter(
      // Heartbeats far apart, so the capture holds exactly the round trip.
      new MajordomoBroker({ endpoints: tcpEndpoint(), heartbeatInterval: 60_000 }),
    );
    const { endpoints } = await broker.start();
    const file = join(dir, "capture.jsonl");
    const jsonl = createWriteStream(file);
    const dumpChunks: string[] = [];
    const dump = new Writable({
      write(chunk: Buffer, _e, cb) {
        dumpChunks.push(chunk.toString());
        cb();
      },
    });
    const proxy = closeAfter(
      new TraceProxy({
        mode: "router-dealer",
        frontend: tcpEndpoint(),
        backend: endpoints[0] ?? "",
        jsonl,
        dump,
      }),
    );
    const { frontend } = await proxy.start();
    const via = frontend[0] ?? "";

    const worker = recorder(via, "worker-1");
    await worker.send("", "MDPW01", Buffer.from([0x01]), "echo"); // READY
    await waitFor(() => broker.stats().workers === 1, {
      what: "worker registered through the proxy",
    });
    const client = recorder(via, "client-1");
    await client.send("", "MDPC01", "echo", "hello", Buffer.from([0x00, 0xff]));
    await waitFor(() => worker.received.length === 1, { what: "request reached the worker" });
    const request = worker.received[0] as Buffer[];
    // [empty, MDPW01, REQUEST, client address, empty, body…]
    expect(request.slice(0, 3).map(String)).toEqual(["", "MDPW01", "\x02"]);
    const address = request[3] as Buffer;
    await worker.send("", "MDPW01", Buffer.from([0x03]), address, "", ...request.slice(5));
    await waitFor(() => client.received.length === 1, { what: "reply reached the client" });
    expect(hex(client.received[0] as Buffer[])).toEqual(
      hex(
        ["", "MDPC01", "echo", "hello", Buffer.from([0x00, 0xff])].map((f) =>
          typeof f === "string" ? Buffer.from(f) : f,
        ),
      ),
    );

    await proxy.close();
    jsonl.end();
    await new Promise<void>((r) => jsonl.once("finish", () => r()));
    const records = linesOf(await readFile(file, "utf8"));
    const of = (peer: string, dir: "f2b" | "b2f") =>
      records.filter((r) => r.dir === dir && r.peer?.toString() === peer).map((r) => hex(r.frames));
    expect(of("worker-1", "f2b")).toEqual(worker.sent.map(hex));
    expect(of("client-1", "f2b")).toEqual(client.sent.map(hex));
    expect(of("worker-1", "b2f")).toEqual(worker.received.map(hex));
    expect(of("client-1", "b2f")).toEqual(client.received.map(hex));
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    // Nothing else: (the broker may also have sent the worker a heartbeat; then it is in both lists.)
    expect(records).toHaveLength(
      worker.sent.length + client.sent.length + worker.received.length + client.received.length,
    );
    const text = dumpChunks.join("");
    expect(text).toContain("frontend → backend peer client-1 (5 frames)");
    expect(text).toContain("  [006] MDPC01\n  [004] echo\n  [005] hello\n  [002] 00ff\n");
    expect(proxy.stats()).toMatchObject({
      captured: records.length,
      notForwarded: 0,
      jsonl: { dropped: 0 },
    });
    await client.close();
    await worker.close();
  }, 30_000);

  it("garbage through the proxy is forwarded as is and captured; the proxy keeps running", async () => {
    const backend = new zmq.Router({ linger: 0 });
    await backend.bind(tcpEndpoint());
    const got: Buffer[][] = [];
    const reading = (async () => {
      try {
        for await (const m of backend) got.push(m.slice(1)); // drop the proxy DEALER's routing id
      } catch {
        /* closed */
      }
    })();
    const captured: TraceRecord[] = [];
    const proxy = closeAfter(
      new TraceProxy({
        mode: "router-dealer",
        frontend: tcpEndpoint(),
        backend: backend.lastEndpoint ?? "",
        onRecord: (r) => captured.push(r),
        dump: new Writable({ write: (_c, _e, cb) => cb() }),
      }),
    );
    const { frontend } = await proxy.start();
    const peer = recorder(frontend[0] ?? "");
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const garbage: Buffer[][] = [];
    for (let i = 0; i < 200; i++) {
      const frames = Array.from({ length: 1 + Math.floor(rand() * 6) }, () =>
        Buffer.from(
          Array.from({ length: Math.floor(rand() * (i % 20 === 0 ? 70_000 : 40)) }, () =>
            Math.floor(rand() * 256),
          ),
        ),
      );
      garbage.push(frames);
      await peer.send(...frames);
    }
    await waitFor(() => got.length === garbage.length, { what: "all garbage forwarded" });
    expect(got.map(hex)).toEqual(garbage.map(hex));
    expect(captured.map((r) => hex(r.frames))).toEqual(garbage.map(hex));
    expect(proxy.state).toBe("running");
    // And it still forwards afterwards.
    await peer.send("still alive");
    await waitFor(() => got.length === garbage.length + 1, { what: "forwarding after garbage" });
    console.log(
      `trace garbage: ${garbage.length} random messages (1–6 frames, up to 70 kB) forwarded and captured unchanged`,
    );
    await peer.close();
    backend.close();
    await reading;
  }, 30_000);

  it("xsub-xpub: data down and subscriptions up, both captured", async () => {
    const pub = new zmq.Publisher({ linger: 0 });
    await pub.bind(tcpEndpoint());
    const captured: TraceRecord[] = [];
    const proxy = closeAfter(
      new TraceProxy({
        mode: "xsub-xpub",
        frontend: `>${pub.lastEndpoint}`,
        backend: `@${tcpEndpoint()}`,
        onRecord: (r) => captured.push(r),
      }),
    );
    const { backend } = await proxy.start();
    const sub = new zmq.Subscriber({ linger: 0 });
    sub.connect(backend[0] ?? "");
    sub.subscribe("weather");
    await waitFor(() => captured.some((r) => r.dir === "b2f"), {
      what: "subscription through the proxy",
    });
    const sent = new Set<string>();
    const received: string[] = [];
    const reading = (async () => {
      for await (const [, body] of sub) {
        received.push(String(body));
        if (received.length === 5) break;
      }
    })();
    for (let i = 0; received.length < 5 && i < 500; i++) {
      sent.add(`m${i}`);
      await pub.send(["weather", `m${i}`]);
      await pub.send(["sport", `x${i}`]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await reading;
    expect(received.every((m) => sent.has(m))).toBe(true);
    const sub1 = captured.find((r) => r.dir === "b2f");
    expect(sub1?.frames.map((f) => f.toString("latin1"))).toEqual(["\x01weather"]);
    expect(
      captured.filter((r) => r.dir === "f2b").every((r) => String(r.frames[0]) === "weather"),
    ).toBe(true);
    sub.close();
    pub.close();
  }, 30_000);

  it("pull-push with a sink that never drains: every message is forwarded, capture records are dropped and counted", async () => {
    const pull = new zmq.Pull({ linger: 0 });
    await pull.bind(tcpEndpoint());
    const stuck = new Writable({ highWaterMark: 1, write: () => {} });
    const proxy = closeAfter(
      new TraceProxy({
        mode: "pull-push",
        frontend: tcpEndpoint(),
        backend: pull.lastEndpoint ?? "",
        jsonl: stuck,
        captureBuffer: 100,
        flushTimeout: 50,
      }),
    );
    const { frontend } = await proxy.start();
    const push = new zmq.Push({ linger: 0 });
    push.connect(frontend[0] ?? "");
    const N = 5000;
    const sending = (async () => {
      for (let i = 0; i < N; i++) await push.send(String(i));
    })();
    let n = 0;
    for await (const [m] of pull) {
      expect(String(m)).toBe(String(n));
      if (++n === N) break;
    }
    await sending;
    const s = proxy.stats();
    expect(s.forwarded.f2b).toBe(N);
    expect(s.jsonl?.dropped).toBeGreaterThanOrEqual(N - 100 - 1);
    expect((s.jsonl?.written ?? 0) + (s.jsonl?.queued ?? 0) + (s.jsonl?.dropped ?? 0)).toBe(N);
    console.log(
      `trace stuck sink: ${N} forwarded, ${s.jsonl?.dropped} capture records dropped, 0 messages lost`,
    );
    push.close();
    pull.close();
    await proxy.close();
    stuck.destroy();
  }, 30_000);
});
