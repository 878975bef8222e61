import { describe, expect, it } from "vitest";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";

const bin = builtBin(import.meta.url);

describe("zg-console (built bin)", () => {
  it("serves the page, shows a dead target as down, exports metrics, and stops cleanly on SIGTERM", async () => {
    const app = spawnApp(bin, [
      "--listen",
      "127.0.0.1:0",
      "--targets",
      "nobody=http://127.0.0.1:1/stats",
      "--poll-interval",
      "50ms",
      "--presence",
      "tcp://127.0.0.1:*",
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ app: "console", event: "ready" });
    const url = String(ready["url"]);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(ready.endpoints["presence"]?.[0]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(url)).text()).toContain("<title>zg console</title>");
    let snapshot: { targets: { name: string; up: boolean; failures: number }[] } | undefined;
    for (let i = 0; i < 200; i++) {
      snapshot = (await (await fetch(`${url}api/snapshot`)).json()) as typeof snapshot;
      if ((snapshot?.targets[0]?.failures ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(snapshot?.targets[0]).toMatchObject({ name: "nobody", up: false });
    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_console_poll_failures_total \d+$/m);
    expect(metrics).toMatch(/^zg_console_clients 0$/m);
    await expectCleanStop(app);
  });

  it("refuses a bad --targets with one line naming the option and exit code 2", async () => {
    const r = await runAppToExit(bin, ["--listen", "127.0.0.1:0", "--targets", "oops"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'zg-console: error: --targets: expected name=URL, got "oops"; change --targets (or ZG_CONSOLE_TARGETS)\n',
    );
  });

  it("lists every option with its default in --help", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "--listen",
      "default: 127.0.0.1:5590",
      "--targets",
      "--poll-interval",
      "--logs",
      "--presence",
      "ZG_CONSOLE_WINDOW",
    ])
      expect(r.stdout).toContain(text);
  });
});
