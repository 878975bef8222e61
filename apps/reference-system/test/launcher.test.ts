import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { builtBin, processExists, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { LazyPirateClient, MajordomoClient, MajordomoWorker, PirateWorker } from "@zg/pirate";
import { closeAfter } from "@zg/testing";

const launcher = builtBin(import.meta.url);
const startScript = fileURLToPath(new URL("../../../tooling/start.mjs", import.meta.url));

function pids(text: string): number[] {
  return [...text.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
}

describe("reference-system launcher (built)", () => {
  it("--no-demo: starts both brokers on free loopback ports, serves round trips, stops everything on SIGTERM", async () => {
    const app = spawnApp(launcher, ["--no-demo", "--status-interval", "500"]);
    const ready = await app.waitForLine(
      (l) => String(l.msg).startsWith("ready: "),
      20_000,
      "ready line",
    );
    const m = /^ready: majordomo (\S+), ppqueue frontend (\S+) backend (\S+)$/.exec(
      String(ready.msg),
    );
    expect(m).not.toBeNull();
    const [, mdp = "", frontend = "", backend = ""] = m ?? [];
    for (const e of [mdp, frontend, backend]) expect(e).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);

    const mdWorker = closeAfter(
      new MajordomoWorker({
        broker: mdp,
        service: "echo",
        heartbeatInterval: 1000,
        handler: (r) => r,
      }),
    );
    await mdWorker.start();
    const mdClient = closeAfter(new MajordomoClient({ broker: mdp }));
    await mdClient.start();
    expect((await mdClient.request("echo", ["via majordomo"])).map(String)).toEqual([
      "via majordomo",
    ]);

    const ppWorker = closeAfter(new PirateWorker({ queue: backend, handler: (r) => r }));
    await ppWorker.start();
    const ppClient = closeAfter(new LazyPirateClient({ server: frontend }));
    await ppClient.start();
    expect((await ppClient.request(["via ppqueue"])).map(String)).toEqual(["via ppqueue"]);

    await app.waitForLine((l) => String(l.msg) === "--- status ---", 5000, "a status block");
    const children = pids(app.stdout);
    expect(children).toHaveLength(4); // log broker, majordomo, ppqueue, console

    const exit = await app.stop("SIGTERM");
    expect(exit, app.stdout + app.stderr).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(3000);
    expect(app.stdout).toContain("majordomo-broker exited 0");
    expect(app.stdout).toContain("ppqueue exited 0");
    expect(app.stdout).toContain("log-broker exited 0");
    expect(app.stdout).toMatch(/^console: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(app.stdout).toContain("stopped: 4 processes, none left running");
    for (const pid of [app.pid, ...children]) expect(processExists(pid)).toBe(false);
  });

  // The run ends on progress (the first killed worker is back), not after a fixed time, so a slow
  // machine's slower restarts cannot outlast it; --duration is only the upper bound.
  it("demo: workers and clients run, a worker is killed and restarted, everything stops by itself", async () => {
    const app = spawnApp(launcher, [
      "--until-restarts",
      "1",
      "--duration",
      "15s",
      "--chaos-interval",
      "1500ms",
      "--status-interval",
      "1s",
    ]);
    const exit = await app.exited;
    expect(exit, app.stdout + app.stderr).toMatchObject({ code: 0 });
    expect(app.stdout).toMatch(
      /^event: killed (mdp|ppp)-\w+-\d \(pid \d+\) with SIGKILL; restart in 1\.5 s$/m,
    );
    expect(app.stdout).toMatch(/^event: restarted (mdp|ppp)-\w+-\d \(pid \d+\)$/m);
    expect(app.stdout).toMatch(/^mdp echo +\d+ +\d+ +[\d.]+/m);
    expect(app.stdout).toMatch(/^mdp slow +\d+ +\d+ +[\d.]+/m);
    expect(app.stdout).toMatch(/^ppp \(ppqueue\) +\d+/m);
    expect(app.stdout).toContain("stopped: 11 processes, none left running");
    for (const pid of pids(app.stdout)) expect(processExists(pid)).toBe(false);
  });

  it("--federation: a second Majordomo broker peered with the first; requests overflow to it; the status shows the peers", async () => {
    const app = spawnApp(launcher, [
      "--federation",
      "--duration",
      "5s",
      "--chaos-interval",
      "0",
      "--status-interval",
      "1s",
    ]);
    const exit = await app.exited;
    expect(exit, app.stdout + app.stderr).toMatchObject({ code: 0 });
    expect(app.stdout).toMatch(/^majordomo broker B +pid \d+ /m);
    expect(app.stdout).toMatch(/^federation A: forwarded [1-9]\d*, returned [1-9]\d*/m);
    expect(app.stdout).toMatch(/^ {2}peer B: up, \d+ services, [1-9]\d* workers/m);
    expect(app.stdout).toMatch(/^ {2}peer A: up/m);
    expect(app.stdout).toContain("stopped: 12 processes, none left running");
    for (const pid of pids(app.stdout)) expect(processExists(pid)).toBe(false);
  });

  it("rejects a malformed option with one line and exit code 2", async () => {
    const r = await runAppToExit(launcher, ["--chaos-interval", "sometimes"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'zg-reference-system: error: --chaos-interval: expected a duration in ms (e.g. 2500, 2500ms, 2.5s), got "sometimes"; change --chaos-interval (or ZG_REFERENCE_SYSTEM_CHAOS_INTERVAL)\n',
    );
  });

  it("tooling/start.mjs runs the launcher (build skipped here: turbo already built it)", async () => {
    const r = await runAppToExit(
      startScript,
      ["--", "--skip-build", "--no-demo", "--duration", "500ms"],
      { timeout: 20_000 },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ready: majordomo tcp:\/\/127\.0\.0\.1:\d+/m);
    expect(r.stdout).toContain("stopped: 4 processes, none left running");
  });
});
