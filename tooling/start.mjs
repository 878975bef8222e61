#!/usr/bin/env node
// `pnpm start`: builds what the reference system needs (turbo, cached after the
// first run) and runs it: the Majordomo broker with Titanic and the Paranoid
// Pirate queue on loopback, a name service (ZNS) the demo finds them by, a Clone
// server with the demo's live configuration, demo workers and clients, and a
// live status.
// `pnpm start -- --no-demo` runs the brokers only; `pnpm start -- --help` lists
// the options. Only Node >= 20 and `pnpm install` are needed.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === "--"));
const skipBuild = args.includes("--skip-build");
const launcherArgs = args.filter((a) => a !== "--skip-build");

if (!skipBuild) {
  const t0 = performance.now();
  process.stdout.write(
    "building the reference system (turbo run build --filter @zg/app-reference-system...; about a minute the first time, cached afterwards)… ",
  );
  const turbo = createRequire(join(root, "package.json")).resolve("turbo/bin/turbo");
  const build = spawnSync(
    process.execPath,
    [
      turbo,
      "run",
      "build",
      "--filter=@zg/app-reference-system...",
      "--output-logs=errors-only",
      "--ui=stream",
    ],
    {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    },
  );
  if (build.status !== 0) {
    process.stdout.write("failed\n");
    process.stderr.write(
      `${build.stdout ?? ""}${build.stderr ?? ""}${build.error ? String(build.error) : ""}\n`,
    );
    process.exit(build.status ?? 1);
  }
  process.stdout.write(`done (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
}

const launcher = join(root, "apps", "reference-system", "dist", "main.js");
process.argv = [process.argv[0] ?? process.execPath, launcher, ...launcherArgs];
await import(pathToFileURL(launcher).href);
