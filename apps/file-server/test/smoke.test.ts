import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { tempDir } from "@zg/testing";

const bin = builtBin(import.meta.url);
const fetchBin = fileURLToPath(new URL("../bin/zg-fetch.js", import.meta.url));

function served() {
  const dir = tempDir("zg-file-server-");
  const root = join(dir, "root");
  mkdirSync(root);
  const data = randomBytes(700_000);
  writeFileSync(join(root, "data.bin"), data);
  writeFileSync(join(dir, "secret"), "no");
  return { dir, root, data };
}

describe("zg-file-server and zg-fetch (built bins)", () => {
  it("serves a file that zg-fetch fetches with progress lines and a verified SHA-256; metrics; clean stop", async () => {
    const { dir, root, data } = served();
    const app = spawnApp(bin, [
      "--root",
      root,
      "--endpoints",
      "tcp://127.0.0.1:*",
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ app: "file-server", root });
    const [endpoint] = ready.endpoints["server"] ?? [];
    const dest = join(dir, "copy.bin");
    const run = await runAppToExit(fetchBin, [
      "--server",
      endpoint!,
      "--chunk",
      "100000",
      "--progress",
      "lines",
      "data.bin",
      dest,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(run.stdout).toMatch(/^data\.bin -> .*copy\.bin: 700000 bytes, sha256 [0-9a-f]{64}\n$/);
    expect(run.stderr).toMatch(/^data\.bin 100% 700\.0 kB\/700\.0 kB .*B\/s ETA 0s$/m);
    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_file_server_chunks_total 7$/m);
    expect(metrics).toMatch(/^zg_file_server_buffered 0$/m);
    await expectCleanStop(app);
  });

  it("zg-fetch exits 1 with one clear line on a refused path and on a missing server", async () => {
    const { dir, root } = served();
    const app = spawnApp(bin, ["--root", root, "--endpoints", "tcp://127.0.0.1:*"]);
    const [endpoint] = (await app.ready()).endpoints["server"] ?? [];
    const refused = await runAppToExit(fetchBin, [
      "--server",
      endpoint!,
      "../secret",
      join(dir, "x"),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^zg-fetch: \.\.\/secret: 403 path escapes the root \(\.\.\) \(refused: the path leaves the server's root\)\n$/,
    );
    await expectCleanStop(app);
    const gone = await runAppToExit(fetchBin, [
      "--server",
      endpoint!,
      "--timeout",
      "100",
      "--attempts",
      "2",
      "data.bin",
      join(dir, "y"),
    ]);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim().split("\n")).toHaveLength(1);
    expect(gone.stderr).toMatch(
      /no answer from .* after 2 rounds \(is zg-file-server running there\?\)/,
    );
  });

  it("refuses bad usage with one line and exit code 2; --help describes both commands", async () => {
    const noRoot = await runAppToExit(bin, ["--endpoints", "tcp://127.0.0.1:*"]);
    expect(noRoot.code).toBe(2);
    expect(noRoot.stderr + noRoot.stdout).toMatch(/--root/);
    const usage = await runAppToExit(fetchBin, []);
    expect(usage).toMatchObject({
      code: 2,
      stderr: "zg-fetch: expected a PATH to fetch (see --help)\n",
    });
    expect((await runAppToExit(fetchBin, ["--help"])).stdout).toContain("Usage: zg-fetch");
    const help = await runAppToExit(bin, ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--root");
  });
});
