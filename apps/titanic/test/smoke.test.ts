import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  builtBin,
  expectCleanStop,
  expectFatalExit,
  RECEIVE_FAULT_PRELOAD,
  runAppToExit,
  spawnApp,
} from "@zg/app-kit/testing";
import { MajordomoBroker, MajordomoWorker, TitanicClient } from "@zg/pirate";
import { closeAfter, tempDir } from "@zg/testing";

const bin = builtBin(import.meta.url);

describe("zg-titanic (built bin)", () => {
  it("serves titanic.* on a broker: request, poll, reply, close; stops cleanly on SIGTERM", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: "tcp://127.0.0.1:*" }));
    const { endpoints } = await broker.start();
    const endpoint = endpoints[0] ?? "";
    const dir = join(tempDir(), "store");
    const app = spawnApp(bin, [
      "--broker",
      endpoint,
      "--data-dir",
      dir,
      "--dispatch-interval",
      "100",
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    expect(ready).toMatchObject({
      app: "titanic",
      endpoints: {},
      connectsTo: { broker: endpoint },
      directory: dir,
      fsync: "always",
    });

    const worker = closeAfter(
      new MajordomoWorker({ broker: endpoint, service: "echo", handler: (request) => request }),
    );
    await worker.start();
    const client = closeAfter(new TitanicClient({ broker: endpoint }));
    await client.start();
    const reply = await client.request("echo", ["durable hello"], { firstPoll: 20, maxPoll: 100 });
    expect(reply.map(String)).toEqual(["durable hello"]);

    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_titanic_accepted_total 1$/m);

    await expectCleanStop(app);
  });

  it("refuses an unusable data directory with one line naming --data-dir", async () => {
    const file = join(tempDir(), "file");
    await writeFile(file, "x");
    const r = await runAppToExit(bin, ["--data-dir", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^zg-titanic: error: cannot use .*file as a data directory: not a directory \(E\w+\); change --data-dir \(or ZG_TITANIC_DATA_DIR\)\n$/,
    );
  });

  it("a second zg-titanic on the same --data-dir exits 1 with one line naming the directory and the holder's pid", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: "tcp://127.0.0.1:*" }));
    const endpoint = (await broker.start()).endpoints[0] ?? "";
    const dir = join(tempDir(), "store");
    const first = spawnApp(bin, ["--broker", endpoint, "--data-dir", dir]);
    await first.ready();
    const r = await runAppToExit(bin, ["--broker", endpoint, "--data-dir", dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `zg-titanic: error: Titanic data directory ${dir} is locked by pid ${first.pid}: another Titanic is using it; change --data-dir (or ZG_TITANIC_DATA_DIR)\n`,
    );
    await expectCleanStop(first);
    // Released on a clean stop: the next instance starts.
    const again = spawnApp(bin, ["--broker", endpoint, "--data-dir", dir]);
    await again.ready();
    await expectCleanStop(again);
  });

  it("names EROFS for a missing data directory on a read-only filesystem", async (ctx) => {
    const mnt = join(tempDir(), "ro");
    mkdirSync(mnt);
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k,ro", "tmpfs", mnt], { stdio: "pipe" });
    } catch (error) {
      if (process.env["CI"]) throw error;
      ctx.skip(`cannot mount a read-only tmpfs here (not root?): ${String(error)}`);
    }
    try {
      const r = await runAppToExit(bin, ["--data-dir", join(mnt, "missing", "store")]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /cannot use .*missing\/store as a data directory: not writable \(EROFS\)/,
      );
    } finally {
      execFileSync("umount", ["-l", mnt]);
    }
  });

  it("refuses a bad fsync policy with one line and exit code 2", async () => {
    const r = await runAppToExit(bin, ["--fsync", "sometimes"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'zg-titanic: error: --fsync: expected one of always, interval, never, got "sometimes"; change --fsync (or ZG_TITANIC_FSYNC)\n',
    );
  });
  it("exits 1 with one fatal line when a component's socket reader dies", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: "tcp://127.0.0.1:*" }));
    const endpoint = (await broker.start()).endpoints[0] ?? "";
    const app = spawnApp(bin, ["--broker", endpoint, "--data-dir", join(tempDir(), "store")], {
      execArgv: RECEIVE_FAULT_PRELOAD,
    });
    await app.ready();
    const line = await expectFatalExit(app);
    expect(line.component).toBe("titanic");
    console.log(`titanic: 1 receive fault → exit 1, fatal line: ${String(line.msg)}`);
  });
});
