import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { closeAfter, tempDir } from "@zg/testing";
import { ZnsServer } from "@zg/zns";
import { describe, expect, it } from "vitest";

const bin = builtBin(import.meta.url);
const cli = fileURLToPath(new URL("../bin/zg-zns.js", import.meta.url));
const run = promisify(execFile);
const zgZns = async (
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> => {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
};

describe("zg-zns-agent and zg-zns (built bins)", () => {
  it("answers lookups on ipc:// from the central server; zg-zns resolve prints them; stops cleanly", async () => {
    const dir = tempDir("zns-app-");
    const file = join(dir, "names.zpl");
    writeFileSync(
      file,
      "name\n    echo\n        connect = tcp://127.0.0.1:5555\n        env = test\n            connect = tcp://127.0.0.1:6666\n",
    );
    const server = closeAfter(new ZnsServer({ names: file }));
    const { endpoints } = await server.start();
    const app = spawnApp(bin, [
      "--servers",
      endpoints[0]!,
      "--runtime-dir",
      join(dir, "rt"),
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    const [lookup] = ready.endpoints["lookup"] ?? [];
    expect(lookup).toBe(`ipc://${join(dir, "rt", "agent")}`);
    let r = await zgZns("resolve", "echo", "--agent", lookup!);
    for (let i = 0; i < 50 && r.code !== 0; i++)
      r = await zgZns("resolve", "echo", "--agent", lookup!); // first sync
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: "echo",
      connect: ["tcp://127.0.0.1:5555"],
      source: "feed",
      stale: false,
    });
    const test = await zgZns("resolve", "echo", "--env", "test", "--agent", lookup!);
    expect(JSON.parse(test.stdout)).toMatchObject({ connect: ["tcp://127.0.0.1:6666"] });
    const unknown = await zgZns("resolve", "nope", "--agent", lookup!);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no endpoints known for name nope/);
    expect((await zgZns("lookup")).code).toBe(2);
    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_zns_agent_lookups_total [1-9]/m);
    expect(metrics).toMatch(/^zg_zns_agent_stale 0$/m);
    await expectCleanStop(app);
  });

  it("zg-zns with no agent running: exit 1 after --timeout, nothing hangs", async () => {
    const dir = tempDir("zns-app-");
    const r = await zgZns(
      "resolve",
      "echo",
      "--agent",
      `ipc://${join(dir, "none")}`,
      "--timeout",
      "300",
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^zg-zns: /);
  });

  it("lists every option in --help", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "--servers <endpoints>",
      "--runtime-dir <dir>",
      "--local-file <dir>",
      "default: 3000",
      "--discover",
    ])
      expect(r.stdout).toContain(text);
  });
});
