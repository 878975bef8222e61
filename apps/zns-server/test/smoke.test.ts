import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { closeAfter, tempDir, waitFor } from "@zg/testing";
import { ZnsAgent } from "@zg/zns";
import { describe, expect, it } from "vitest";

const bin = builtBin(import.meta.url);
const NAMES = "name\n    echo\n        connect = tcp://127.0.0.1:5555\n";

describe("zg-zns-server (built bin)", () => {
  it("publishes the names file to an agent, reloads it, exports metrics, and stops cleanly", async () => {
    const dir = tempDir("zns-app-");
    const file = join(dir, "names.zpl");
    writeFileSync(file, NAMES);
    const app = spawnApp(bin, [
      "--names",
      file,
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ app: "zns-server", names: 1 });
    const [feed] = ready.endpoints["feed"] ?? [];
    const agent = closeAfter(new ZnsAgent({ servers: feed!, runtimeDir: join(dir, "rt") }));
    await agent.start();
    await waitFor(() => agent.resolve("echo")?.connect[0] === "tcp://127.0.0.1:5555", {
      what: "agent synced",
    });
    writeFileSync(file, NAMES.replace("5555", "5556"));
    await waitFor(() => agent.resolve("echo")?.connect[0] === "tcp://127.0.0.1:5556", {
      what: "reload reached the agent",
    });
    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_zns_server_entries 1$/m);
    expect(metrics).toMatch(/^zg_zns_server_reloads_total 1$/m);
    expect(metrics).toMatch(/^zg_zns_server_feed_clients 1$/m);
    await expectCleanStop(app);
  });

  it("refuses a missing --names (exit 2) and a names file that is not valid (exit 1, naming line and column)", async () => {
    const none = await runAppToExit(bin, ["--endpoint", "tcp://127.0.0.1:*"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^zg-zns-server: error: --names: a names file is required/);
    const dir = tempDir("zns-app-");
    const file = join(dir, "names.zpl");
    writeFileSync(file, "name\n  echo\n");
    const bad = await runAppToExit(bin, ["--names", file, "--endpoint", "tcp://127.0.0.1:*"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toContain(
      "line 2, column 3: indentation of 2 spaces is not a multiple of 4",
    );
  });

  it("lists every option with its default in --help", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "--names <dir>",
      "default: tcp://127.0.0.1:5671",
      "--announce",
      "ZG_ZNS_SERVER_NAMES",
    ])
      expect(r.stdout).toContain(text);
  });
});
