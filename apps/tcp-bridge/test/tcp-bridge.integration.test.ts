import { execFileSync, spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { describe, expect, it, onTestFinished, test } from "vitest";
import { sleep } from "@zg/core";
import { MajordomoBroker, MajordomoWorker } from "@zg/pirate";
import { closeAfter, tcpEndpoint, waitFor } from "@zg/testing";
import { TcpBridge, type TcpBridgeOptions } from "../src/tcp-bridge.js";

/** A line client over plain node:net. */
interface LineClient {
  socket: Socket;
  send(text: string | Buffer): void;
  next(): Promise<string>;
  ended: Promise<void>;
}

function lineClient(address: string): Promise<LineClient> {
  const cut = address.lastIndexOf(":");
  const socket = connect(Number(address.slice(cut + 1)), address.slice(0, cut));
  onTestFinished(() => {
    socket.destroy();
  });
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let partial = "";
  socket.on("data", (d: Buffer) => {
    partial += d.toString("utf8");
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  socket.on("error", () => {});
  const ended = new Promise<void>((r) => socket.once("close", () => r()));
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.once("connect", () =>
      resolve({
        socket,
        send: (text) => socket.write(text),
        next: () => {
          const l = lines.shift();
          return l !== undefined
            ? Promise.resolve(l)
            : new Promise<string>((r, j) => {
                waiters.push(r);
                void ended.then(() => j(new Error("connection closed before a line came")));
              });
        },
        ended,
      }),
    );
  });
}

async function system(
  options: Partial<TcpBridgeOptions> = {},
): Promise<{ bridge: TcpBridge; address: string }> {
  const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint() }));
  const endpoint = (await broker.start()).endpoints[0] ?? "";
  for (const [service, delay] of [
    ["echo", 0],
    ["echo", 0],
    ["slow", 400],
  ] as const) {
    const worker = closeAfter(
      new MajordomoWorker({
        broker: endpoint,
        service,
        handler: async (body) => {
          if (delay > 0) await sleep(delay);
          return body;
        },
      }),
    );
    await worker.start();
  }
  const bridge = closeAfter(new TcpBridge({ listen: "127.0.0.1:0", broker: endpoint, ...options }));
  const { address } = await bridge.start();
  return { bridge, address };
}

describe("TcpBridge", () => {
  it("one request line, one reply line, in order; unknown service and timeout get one clear ERR line and the connection stays", async () => {
    const { bridge, address } = await system({ requestTimeout: 150 });
    const c = await lineClient(address);
    c.send("echo hello\r\necho ünïcode and spaces\necho\n");
    expect(await c.next()).toBe("OK hello");
    expect(await c.next()).toBe("OK ünïcode and spaces");
    expect(await c.next()).toBe("OK ");
    c.send("nobody hi\n");
    expect(await c.next()).toBe("ERR unknown-service no worker for nobody");
    c.send("slow late\n");
    expect(await c.next()).toBe("ERR timeout no reply from slow within 150 ms");
    c.send("echo still here\n");
    expect(await c.next()).toBe("OK still here");
    expect(bridge.stats()).toMatchObject({
      clients: 1,
      requests: 6,
      replies: 4,
      failed: 2,
      protocolErrors: 0,
    });
  });

  it("200 concurrent connections with per-connection limits: each gets its own replies, the 201st is refused with a reason", async () => {
    const { bridge, address } = await system({ maxConnections: 200, service: "echo" });
    const clients = await Promise.all(Array.from({ length: 200 }, () => lineClient(address)));
    await waitFor(() => bridge.stats().clients === 200, { what: "200 connections open" });
    const extra = await lineClient(address);
    expect(await extra.next()).toBe("ERR busy too many connections");
    await extra.ended;
    const rounds = 5;
    await Promise.all(
      clients.map(async (c, i) => {
        for (let r = 0; r < rounds; r++) {
          c.send(`client ${i} round ${r}\n`);
          expect(await c.next()).toBe(`OK client ${i} round ${r}`);
        }
      }),
    );
    const s = bridge.stats();
    console.log(
      `tcp bridge 200 connections: ${s.replies} replies, ${s.refused} refused, ${s.failed} failed`,
    );
    expect(s).toMatchObject({ replies: 200 * rounds, refused: 1, failed: 0, clients: 200 });
  }, 60_000);

  it("garbage on every connection closes that connection with a reason and never affects the others", async () => {
    const { bridge, address } = await system({
      service: "echo",
      maxLineLength: 64,
      maxPipelined: 4,
    });
    const good = await lineClient(address);
    const garbage: [string | Buffer, string][] = [
      ["x".repeat(65) + "\n", "ERR line-too-long a line is longer than 64 bytes"],
      ["y".repeat(500), "ERR line-too-long a line is longer than 64 bytes"], // no end of line ever
      [Buffer.from([0xc3, 0x28, 0x0a]), "ERR not-text a line is not UTF-8 text"],
      ["a\u0000b\n", "ERR not-text a line is not UTF-8 text"],
      ["1\n2\n3\n4\n5\n6\n", "ERR busy more than 4 requests pipelined"],
    ];
    let closed = 0;
    for (let round = 0; round < 10; round++) {
      const bad = await Promise.all(garbage.map(() => lineClient(address)));
      await Promise.all(
        bad.map(async (c, i) => {
          const [bytes, reason] = garbage[i] ?? ["", ""];
          c.send(bytes);
          const lines: string[] = [];
          for (;;) {
            const line = await c.next().catch(() => undefined);
            if (line === undefined) break;
            lines.push(line);
          }
          await c.ended;
          closed += 1;
          expect(lines.at(-1), String(bytes).slice(0, 20)).toBe(reason);
        }),
      );
      good.send(`round ${round}\n`);
      expect(await good.next()).toBe(`OK round ${round}`);
    }
    console.log(
      `tcp bridge garbage: ${closed} bad connections closed, protocolErrors ${bridge.stats().protocolErrors}`,
    );
    expect(bridge.stats().protocolErrors).toBe(10 * garbage.length);
    expect(bridge.state).toBe("running");
  }, 60_000);

  it("closes an idle connection with ERR idle", async () => {
    const { bridge, address } = await system({ service: "echo", idleTimeout: 100 });
    const c = await lineClient(address);
    c.send("hi\n");
    expect(await c.next()).toBe("OK hi");
    expect(await c.next()).toBe("ERR idle no request for 100 ms");
    await c.ended;
    expect(bridge.stats().idleClosed).toBe(1);
  });
});

const nc = (() => {
  try {
    return execFileSync("sh", ["-c", "command -v nc"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
})();

// Outside CI a missing nc skips visibly; in CI (which installs netcat-openbsd) it fails.
(nc === undefined && !process.env["CI"] ? test.skip : test)(
  `with nc as the TCP client${nc === undefined ? " [skipped: nc not installed; apt-get install netcat-openbsd]" : ""}`,
  async () => {
    if (nc === undefined)
      throw new Error("nc is required in CI (Debian netcat-openbsd; .ci/run installs it)");
    const { address } = await system({ service: "echo" });
    const cut = address.lastIndexOf(":");
    const proc = spawn(nc ?? "nc", ["-q", "1", address.slice(0, cut), address.slice(cut + 1)]);
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stdin.end("from nc\n");
    await waitFor(() => out.includes("\n"), { what: "a reply line to nc" });
    proc.kill();
    expect(out).toBe("OK from nc\n");
  },
);
