import { describe, expect, it } from "vitest";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import * as zmq from "zeromq";
import { ClockClient, LogBroker, LogTail, type TailItem, type Tick } from "@zg/devices";
import { closeAfter, tcpEndpoint, tempDir, waitFor } from "@zg/testing";

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

    const client = closeAfter(new ClockClient({ device: endpoint ?? "" }));
    await client.start();
    const ticks: Tick[] = [];
    for await (const t of client.ticks("50ms")) if (ticks.push(t) >= 5) break;
    expect(ticks.map((t) => t.seq - (ticks[0]?.seq ?? 0))).toEqual([0, 1, 2, 3, 4]);
    expect(ticks.every((t) => t.name === "50ms" && t.period === 50)).toBe(true);
    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_clock_resolutions_published_total\{resolution="50ms"\} \d+$/m);
    expect(metrics).toMatch(/^zg_clock_resolutions_skipped_total\{resolution="1s"\} 0$/m);

    await expectCleanStop(app);
  });

  it("--log-broker (app-kit, every app): log lines reach the broker and stdout alike; with the broker down the app runs and stops cleanly", async () => {
    const broker = closeAfter(new LogBroker({ dir: tempDir(), endpoints: tcpEndpoint() }));
    const {
      endpoints: [logEndpoint],
    } = await broker.start();
    const app = spawnApp(bin, [
      "--endpoints",
      "tcp://127.0.0.1:*",
      "--log-broker",
      logEndpoint ?? "",
    ]);
    const ready = await app.ready();
    const tail = closeAfter(
      new LogTail({ broker: logEndpoint ?? "", request: { app: "clock", last: 10 } }),
    );
    await tail.start();
    const got: TailItem[] = [];
    for await (const item of tail.records()) {
      got.push(item);
      if (item.record.fields?.["event"] === "ready") break;
    }
    const readyRecord = got.at(-1)?.record;
    expect(readyRecord).toMatchObject({
      app: "clock",
      level: "info",
      msg: ready.msg,
      pid: ready.pid,
    });
    expect(readyRecord?.fields?.["endpoints"]).toEqual(ready.endpoints);
    await expectCleanStop(app);
    // The "stopping" line reaches the broker (the publisher closes last, after the components);
    // the final "stopped" line is written after it closed, to stdout only.
    await waitFor(() => broker.stats().stored > got.length, { what: "the stopping line stored" });

    const gone = new zmq.Router({ linger: 0 });
    await gone.bind(tcpEndpoint());
    const nobody = gone.lastEndpoint ?? "";
    gone.close();
    const lonely = spawnApp(bin, ["--endpoints", "tcp://127.0.0.1:*", "--log-broker", nobody]);
    expect(await lonely.ready()).toMatchObject({ app: "clock", event: "ready" }); // stdout intact
    await expectCleanStop(lonely);
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
