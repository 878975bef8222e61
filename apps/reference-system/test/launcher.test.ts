import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { builtBin, processExists, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { CloneClient } from "@zg/clone";
import { LazyPirateClient, MajordomoClient, MajordomoWorker, PirateWorker } from "@zg/pirate";
import { closeAfter } from "@zg/testing";
import { ZnsClient } from "@zg/zns";

const launcher = builtBin(import.meta.url);
const startScript = fileURLToPath(new URL("../../../tooling/start.mjs", import.meta.url));

/** Bound of a test that runs the whole demo (about 10 s here; room for a machine twice as slow). */
const WHOLE_SYSTEM_TIMEOUT = 30_000;

function pids(text: string): number[] {
  return [...text.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
}

describe("reference-system launcher (built)", () => {
  it("--no-demo: starts both brokers on free loopback ports, publishes them by name, serves round trips, stops everything on SIGTERM", async () => {
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

    // The names the launcher published answer, through its agent, with the endpoints bound.
    const names = await app.waitForLine(
      (l) => String(l.msg).startsWith("names: "),
      5000,
      "names line",
    );
    const agent = /--agent (ipc:\/\/\S+)\)$/.exec(String(names.msg))?.[1];
    expect(agent, String(names.msg)).toBeDefined();
    const zns = closeAfter(new ZnsClient({ agent: agent ?? "" }));
    await zns.start();
    expect((await zns.resolve("majordomo")).connect).toEqual([mdp]);
    expect((await zns.resolve("titanic")).connect).toEqual([mdp]);
    expect((await zns.resolve("ppqueue-frontend")).connect).toEqual([frontend]);
    expect((await zns.resolve("ppqueue-backend")).connect).toEqual([backend]);
    expect((await zns.resolve("clone")).connect).toHaveLength(3);

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
    // log broker, majordomo, ppqueue, clone server, console, zns server, zns agent
    expect(children).toHaveLength(7);

    const exit = await app.stop("SIGTERM");
    expect(exit, app.stdout + app.stderr).toMatchObject({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(3000);
    expect(app.stdout).toContain("majordomo-broker exited 0");
    expect(app.stdout).toContain("ppqueue exited 0");
    expect(app.stdout).toContain("log-broker exited 0");
    expect(app.stdout).toContain("clone-server exited 0");
    expect(app.stdout).toContain("zns-server exited 0");
    expect(app.stdout).toContain("zns-agent exited 0");
    expect(app.stdout).toMatch(/^console: http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(app.stdout).toContain("stopped: 7 processes, none left running");
    for (const pid of [app.pid, ...children]) expect(processExists(pid)).toBe(false);
  });

  // The run ends on progress (the first killed worker is back), not after a fixed time, so a slow
  // machine's slower restarts cannot outlast it; --duration is only the upper bound.
  it(
    "demo: workers and clients run, a worker is killed and restarted, everything stops by itself",
    async () => {
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
      expect(app.stdout).toContain("stopped: 14 processes, none left running");
      for (const pid of pids(app.stdout)) expect(processExists(pid)).toBe(false);
    },
    WHOLE_SYSTEM_TIMEOUT,
  );

  it(
    "--federation: a second Majordomo broker peered with the first; requests overflow to it; the status shows the peers",
    async () => {
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
      expect(app.stdout).toContain("stopped: 15 processes, none left running");
      for (const pid of pids(app.stdout)) expect(processExists(pid)).toBe(false);
    },
    WHOLE_SYSTEM_TIMEOUT,
  );

  // Configuration distribution: values changed through Clone during the run are applied live by the
  // demo client (request period) and the launcher (chaos interval); a bad value is reported, not applied.
  // Every wait ends on the line that shows the effect, bounded; nothing waits a fixed time.
  it(
    "--no-console: demo configured live through Clone (period, chaos interval, a bad value), workers found by name",
    async () => {
      const app = spawnApp(launcher, [
        "--no-console",
        "--chaos-interval",
        "0",
        "--status-interval",
        "500ms",
      ]);
      const config = await app.waitForLine(
        (l) => String(l.msg).startsWith("config: "),
        20_000,
        "config line",
      );
      const server = /--server (\S+) set/.exec(String(config.msg))?.[1]?.split(",");
      expect(server, String(config.msg)).toHaveLength(3);
      const [snapshot = "", publisher = "", collector = ""] = server ?? [];
      await app.waitForLine(
        (l) => String(l.msg).startsWith("started demo-client pid "),
        20_000,
        "demo client started",
      );
      // Found by name: the workers serve (they were given names and the agent, no endpoint).
      await app.waitForLine(
        (l) => /^mdp echo +[1-9]\d* +\d+ +[\d.]+/.test(String(l.msg)),
        10_000,
        "a status row with echo workers",
      );
      const clone = closeAfter(
        new CloneClient({ servers: { snapshot, publisher, collector }, subtree: "config/demo/" }),
      );
      await clone.start();
      await clone.waitSynced({ timeout: 10_000 });
      expect(clone.getString("config/demo/echo-period")).toBe("100");

      await clone.set("config/demo/echo-period", "40");
      await app.waitForLine(
        (l) =>
          String(l.msg) ===
          "event: demo-client applied config/demo/echo-period = 40 ms (was 100 ms)",
        5000,
        "the demo client applying echo-period",
      );
      await app.waitForLine(
        (l) => /^config \(Clone config\/demo\/\): echo-period 40 ms,/.test(String(l.msg)),
        5000,
        "the status showing echo-period 40 ms",
      );

      await clone.set("config/demo/slow-period", "fast");
      await app.waitForLine(
        (l) =>
          String(l.msg) ===
          'event: demo-client rejected config/demo/slow-period = "fast": expected an integer number of ms in 10..60000',
        5000,
        "the demo client rejecting a bad value",
      );

      await clone.set("config/demo/chaos-interval", "1000");
      await app.waitForLine(
        (l) =>
          String(l.msg) ===
          "event: launcher applied config/demo/chaos-interval = 1000 ms (was 0 ms): a worker killed every 1000 ms",
        5000,
        "the launcher applying chaos-interval",
      );
      await app.waitForLine(
        (l) => /^event: killed (mdp|ppp)-\w+-\d \(pid \d+\) with SIGKILL/.test(String(l.msg)),
        10_000,
        "a kill by the newly configured chaos",
      );
      // A restarted worker finds its broker by name again.
      await app.waitForLine(
        (l) => /^event: restarted (mdp|ppp)-\w+-\d \(pid \d+\)$/.test(String(l.msg)),
        10_000,
        "a restarted worker",
      );
      await clone.close();

      const exit = await app.stop("SIGTERM");
      expect(exit, app.stdout + app.stderr).toMatchObject({ code: 0, signal: null });
      expect(app.stdout).not.toContain("web console");
      // 14 of the demo minus the console and the log broker
      expect(app.stdout).toContain("stopped: 12 processes, none left running");
      for (const pid of pids(app.stdout)) expect(processExists(pid)).toBe(false);
    },
    WHOLE_SYSTEM_TIMEOUT,
  );

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
    expect(r.stdout).toContain("stopped: 7 processes, none left running");
  });
});
