import { createServer } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { tempDir } from "@zg/testing";
import {
  expectFatalExit,
  processExists,
  RECEIVE_FAULT_PRELOAD,
  runAppToExit,
  spawnApp,
} from "../src/testing.js";

const fixture = fileURLToPath(new URL("./fixtures/echo-app.mjs", import.meta.url));

async function roundTrip(endpoint: string): Promise<string> {
  const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
  try {
    dealer.connect(endpoint);
    await dealer.send("hello");
    const [reply] = await dealer.receive();
    return String(reply);
  } finally {
    dealer.close();
  }
}

describe("runApp (fixture app on the kit)", () => {
  it("logs a ready line, serves metrics, and exits 0 within 2 s on SIGTERM", async () => {
    const dir = tempDir();
    const app = spawnApp(fixture, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--data-dir",
      join(dir, "data"),
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ app: "echo-fixture", level: "info", pid: app.pid });
    const endpoint = ready.endpoints["frontend"]?.[0] ?? "";
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(await roundTrip(endpoint)).toBe("hello");

    const text = await (await fetch(String(ready["metrics"]))).text();
    expect(text).toContain("# TYPE zg_echo_echoed_total counter");
    expect(text).toContain("zg_echo_echoed_total 1");
    expect(text).toContain('zg_echo_per_service_echoed_total{service="echo"} 1');
    const json: unknown = await (await fetch(String(ready["stats"]))).json();
    expect(json).toMatchObject({ app: "echo-fixture", components: { echo: { echoed: 1 } } });

    const exit = await app.stop("SIGTERM");
    expect(exit, app.stdout + app.stderr).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(2000);
    expect(app.lines.map((l) => l.event).filter(Boolean)).toEqual(["ready", "stopping", "stopped"]);
    expect(processExists(app.pid)).toBe(false);
  });

  it("a component whose reader dies ends the app: exit 1, one fatal line naming it", async () => {
    const app = spawnApp(fixture, ["--endpoint", "tcp://127.0.0.1:*", "--data-dir", tempDir()], {
      execArgv: RECEIVE_FAULT_PRELOAD,
    });
    await app.ready();
    const line = await expectFatalExit(app);
    expect(line).toMatchObject({ component: "echo" });
    expect(processExists(app.pid)).toBe(false);
  });

  it("treats SIGHUP as a graceful stop: logged, drained, exit 0 (every app on the kit)", async () => {
    const app = spawnApp(fixture, ["--endpoint", "tcp://127.0.0.1:*", "--data-dir", tempDir()]);
    await app.ready();
    const exit = await app.stop("SIGHUP");
    expect(exit, app.stdout + app.stderr).toMatchObject({ code: 0, signal: null });
    expect(app.lines.find((l) => l.event === "stopping")).toMatchObject({ reason: "SIGHUP" });
    expect(app.lines.map((l) => l.event).filter(Boolean)).toEqual(["ready", "stopping", "stopped"]);
  });

  it("drains (the component's drain()) up to --drain-timeout, then closes and exits 0", async () => {
    const finishes = spawnApp(fixture, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--data-dir",
      tempDir(),
      "--busy-for",
      "400",
      "--drain-timeout",
      "5s",
    ]);
    await finishes.ready();
    const done = await finishes.stop("SIGTERM");
    expect(done).toMatchObject({ code: 0 });
    expect(done.ms).toBeGreaterThanOrEqual(400);
    expect(done.ms).toBeLessThan(2000);
    expect(finishes.lines.some((l) => l.event === "drain-timeout")).toBe(false);

    const stuck = spawnApp(fixture, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--data-dir",
      tempDir(),
      "--busy-for",
      "60s",
      "--drain-timeout",
      "300",
    ]);
    await stuck.ready();
    const bounded = await stuck.stop("SIGTERM");
    expect(bounded).toMatchObject({ code: 0 });
    expect(bounded.ms).toBeGreaterThanOrEqual(300);
    expect(bounded.ms).toBeLessThan(2000);
    expect(stuck.lines.map((l) => l.event).filter(Boolean)).toEqual([
      "ready",
      "stopping",
      "drain-timeout",
      "stopped",
    ]);
  });

  it("exits at once on a second signal while draining", async () => {
    const dir = tempDir();
    const app = spawnApp(fixture, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--data-dir",
      dir,
      "--slow-close",
      "10s",
      "--drain-timeout",
      "20s",
    ]);
    await app.ready();
    app.proc.kill("SIGINT");
    await app.waitForLine((l) => l.event === "stopping");
    const exit = await app.stop("SIGINT");
    expect(exit.code).toBe(130);
    expect(exit.ms).toBeLessThan(1000);
  });

  it("reports a port in use in one line naming the option, exit 1", async () => {
    const holder = new zmq.Router({ linger: 0 });
    await holder.bind("tcp://127.0.0.1:*");
    const taken = holder.lastEndpoint ?? "";
    try {
      const r = await runAppToExit(fixture, ["--endpoint", taken, "--data-dir", tempDir()], {});
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `echo-fixture: error: cannot bind ${taken}: address already in use; change --endpoint (or ZG_ECHO_FIXTURE_ENDPOINT)\n`,
      );
    } finally {
      holder.close();
    }
  });

  it("reports a metrics port in use, naming --metrics", async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await runAppToExit(fixture, [
        "--endpoint",
        "tcp://127.0.0.1:*",
        "--data-dir",
        tempDir(),
        "--metrics",
        `127.0.0.1:${port}`,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^echo-fixture: error: cannot serve metrics on 127\.0\.0\.1:\d+: address already in use; change --metrics \(or ZG_ECHO_FIXTURE_METRICS\)\n$/,
      );
    } finally {
      server.close();
    }
  });

  it("reports an unusable data directory, a malformed option and an unknown flag", async () => {
    const file = join(tempDir(), "a-file");
    await writeFile(file, "x");
    const dir = await runAppToExit(fixture, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--data-dir",
      file,
    ]);
    expect(dir.code).toBe(1);
    expect(dir.stderr).toMatch(
      /^echo-fixture: error: cannot use .*a-file as a data directory: not a directory \(E\w+\); change --data-dir \(or ZG_ECHO_FIXTURE_DATA_DIR\)\n$/,
    );

    const bad = await runAppToExit(fixture, [], { env: { ZG_ECHO_FIXTURE_SLOW_CLOSE: "later" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'echo-fixture: error: ZG_ECHO_FIXTURE_SLOW_CLOSE: expected a duration in ms (e.g. 2500, 2500ms, 2.5s), got "later"; change --slow-close (or ZG_ECHO_FIXTURE_SLOW_CLOSE)\n',
    );

    const unknown = await runAppToExit(fixture, ["--nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("echo-fixture: error: Unknown option '--nope'; see --help\n");
    expect(unknown.stdout).toBe("");
  });

  it("prints --help", async () => {
    const r = await runAppToExit(fixture, ["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--endpoint <endpoints>");
    expect(r.stdout).toContain("default: tcp://127.0.0.1:5599   env: ZG_ECHO_FIXTURE_ENDPOINT");
    expect(r.stdout).toContain("--metrics <host:port>");
  });
});
