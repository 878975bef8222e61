import { describe, expect, it } from "vitest";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { ClockClient, type Tick } from "@zg/devices";
import { closeAfter } from "@zg/testing";

const bin = builtBin(import.meta.url);

describe("zg-clock (built bin)", () => {
  it("starts, ticks at each resolution, exports metrics, and stops cleanly on SIGTERM", async () => {
    const app = spawnApp(bin, [
      "--endpoints",
      "tcp://127.0.0.1:*",
      "--resolutions",
      "50ms,1s",
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ app: "clock", resolutions: ["50ms", "1s"] });
    const [endpoint] = ready.endpoints["clock"] ?? [];
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);

    const client = closeAfter(new ClockClient({ endpoints: endpoint ?? "" }));
    await client.start();
    const ticks: Tick[] = [];
    for await (const t of client.ticks("50ms")) if (ticks.push(t) >= 5) break;
    expect(ticks.map((t) => t.seq - (ticks[0]?.seq ?? 0))).toEqual([0, 1, 2, 3, 4]);
    expect(ticks.every((t) => t.name === "50ms" && t.period === 50)).toBe(true);
    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_clock_resolutions_published\{resolution="50ms"\} \d+$/m);
    expect(metrics).toMatch(/^zg_clock_resolutions_skipped\{resolution="1s"\} 0$/m);

    await expectCleanStop(app);
  });

  it("refuses a bad resolution with one line naming --resolutions and exit code 2", async () => {
    const r = await runAppToExit(bin, [
      "--endpoints",
      "tcp://127.0.0.1:*",
      "--resolutions",
      "1s,5ms",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "zg-clock: error: --resolutions: clock resolution must be a whole number of ms between 10 and 86400000, got 5ms; change --resolutions (or ZG_CLOCK_RESOLUTIONS)\n",
    );
    const junk = await runAppToExit(bin, ["--endpoints", "tcp://127.0.0.1:*"], {
      env: { ZG_CLOCK_RESOLUTIONS: "soon" },
    });
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/^zg-clock: error: --resolutions: not a clock resolution: "soon"/);
  });

  it("lists every option with its default in --help", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "--endpoints <endpoints>",
      "default: tcp://127.0.0.1:5580",
      "default: 100ms,1s,1m",
      "ZG_CLOCK_RESOLUTIONS",
      "--metrics",
    ]) {
      expect(r.stdout).toContain(text);
    }
  });
});
