import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { CloneClient } from "@zg/clone";
import { closeAfter, tempDir } from "@zg/testing";

const bin = builtBin(import.meta.url);
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
const ANY = "tcp://127.0.0.1:*,tcp://127.0.0.1:*,tcp://127.0.0.1:*";

describe("zg-clone-server and zg-clone (built bins)", () => {
  it("--help names the roles, the Guide ports and --data-dir", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const s of ["--primary", "--backup", "--data-dir", "5556", "5566"])
      expect(r.stdout).toContain(s);
    const both = await runAppToExit(bin, ["--primary", "--backup"]);
    expect(both.code).toBe(2);
    const usage = await runAppToExit(cli, ["frobnicate"]);
    expect(usage.code).toBe(2);
  });

  it("serves clients, exports metrics, zg-clone sets and gets; a restart on the same --data-dir keeps the map", async () => {
    const dir = tempDir("zg-clone-app-");
    const start = async () => {
      const app = spawnApp(bin, [
        "--bind",
        ANY,
        "--data-dir",
        dir,
        "--metrics",
        "127.0.0.1:0",
        "--hugz-interval",
        "100",
      ]);
      const ready = await app.ready();
      const e = ready.endpoints;
      const server = [e["snapshot"]?.[0], e["publisher"]?.[0], e["collector"]?.[0]].join(",");
      return { app, ready, server };
    };
    const first = await start();
    const set = await runAppToExit(cli, [
      "--server",
      first.server,
      "set",
      "/config/level",
      "debug",
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout.trim())).toMatchObject({ key: "/config/level", sequence: "1" });
    const [snapshot, publisher, collector] = first.server.split(",") as [string, string, string];
    const client = closeAfter(
      new CloneClient({ servers: { snapshot, publisher, collector }, subscribeWait: 300 }),
    );
    await client.start();
    await client.waitSynced();
    expect(client.getString("/config/level")).toBe("debug");
    const metrics = await (await fetch(String(first.ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_clone_server_keys 1$/m);
    expect(metrics).toMatch(/^zg_clone_server_published_total 1$/m);
    await client.close();
    await expectCleanStop(first.app);

    const second = await start();
    const get = await runAppToExit(cli, ["--server", second.server, "get", "/config/level"]);
    expect(get.code, get.stderr).toBe(0);
    expect(JSON.parse(get.stdout.trim())).toMatchObject({ value: "debug", sequence: "1" });
    await expectCleanStop(second.app);
  });
});
