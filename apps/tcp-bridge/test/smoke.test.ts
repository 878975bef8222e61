import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { MajordomoBroker, MajordomoWorker } from "@zg/pirate";
import { closeAfter, tcpEndpoint } from "@zg/testing";

const bin = builtBin(import.meta.url);

describe("zg-tcp-bridge (built bin)", () => {
  it("bridges a TCP line to a Majordomo service and stops cleanly on SIGTERM", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint() }));
    const endpoint = (await broker.start()).endpoints[0] ?? "";
    await closeAfter(
      new MajordomoWorker({ broker: endpoint, service: "echo", handler: (b) => b }),
    ).start();
    const app = spawnApp(bin, [
      "--listen",
      "127.0.0.1:0",
      "--broker",
      endpoint,
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    const [tcp = ""] = ready.endpoints["tcp"] ?? [];
    expect(tcp).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const socket = connect(Number(tcp.split(":").pop()), "127.0.0.1");
    const reply = await new Promise<string>((resolve, reject) => {
      let out = "";
      socket.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(out);
      });
      socket.on("error", reject);
      socket.write("echo over tcp\n");
    });
    socket.destroy();
    expect(reply).toBe("OK over tcp\n");
    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_tcp_bridge_replies_total 1$/m);
    await expectCleanStop(app);
  });

  it("lists every option with its default in --help, and refuses a bad one with exit code 2", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "--listen",
      "default: 127.0.0.1:5591",
      "--max-line-length",
      "--idle-timeout",
      "--max-pipelined",
      "ZG_TCP_BRIDGE_SERVICE",
    ])
      expect(r.stdout).toContain(text);
    const bad = await runAppToExit(bin, ["--max-connections", "many"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^zg-tcp-bridge: error: --max-connections: /);
  });
});
