import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { MajordomoBroker, MajordomoWorker } from "@zg/pirate";
import { closeAfter, tcpEndpoint } from "@zg/testing";

const bin = builtBin(import.meta.url);

describe("zg-ws-bridge (built bin)", () => {
  it("serves the client module, bridges a request, exports metrics and stops cleanly on SIGTERM", async () => {
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
    const [url = ""] = ready.endpoints["ws"] ?? [];
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    const page = String(ready["page"]);
    expect(await (await fetch(`${page}zg-ws.js`)).text()).toContain("export class ZgBridge");
    const ws = new WebSocket(url);
    const reply = await new Promise<unknown>((resolve, reject) => {
      ws.on("open", () =>
        ws.send(JSON.stringify({ id: 1, type: "request", service: "echo", body: ["hi"] })),
      );
      ws.on("message", (d: Buffer) => resolve(JSON.parse(d.toString())));
      ws.on("error", reject);
    });
    ws.close();
    expect(reply).toEqual({ type: "reply", id: 1, body: ["hi"] });
    expect(await (await fetch(String(ready["metrics"]))).text()).toMatch(
      /^zg_ws_bridge_replies_total 1$/m,
    );
    await expectCleanStop(app);
  });

  it("lists every option with its default in --help", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "--listen",
      "default: 127.0.0.1:5592",
      "--allowed-origins",
      "--token",
      "--max-in-flight",
      "--max-subscriptions",
      "--max-buffered",
      "ZG_WS_BRIDGE_PUBLISHERS",
    ])
      expect(r.stdout).toContain(text);
  });
});
