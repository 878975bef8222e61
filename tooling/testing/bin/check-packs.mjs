#!/usr/bin/env node
// The "install only the pattern packages you need" check. For every
// publishable package under packages/: publint on the package, then a real
// install: `pnpm pack` it and its @zg/* dependencies, `npm install` the
// tarballs (and nothing else of the workspace) into an empty temp project,
// and import it there from plain Node.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const pkgsDir = join(root, "packages");
const manifests = new Map();
for (const d of readdirSync(pkgsDir)) {
  const f = join(pkgsDir, d, "package.json");
  if (!existsSync(f)) continue;
  const m = JSON.parse(readFileSync(f, "utf8"));
  if (m.private) continue;
  manifests.set(m.name, { dir: join(pkgsDir, d), manifest: m });
}
const only = process.argv.slice(2);
const targets = only.length > 0 ? only : [...manifests.keys()];

const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });

function zgDeps(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  const { manifest } = manifests.get(name) ?? {};
  if (!manifest) throw new Error(`${name} is not a publishable workspace package`);
  for (const dep of Object.keys(manifest.dependencies ?? {}))
    if (dep.startsWith("@zg/")) zgDeps(dep, seen);
  return seen;
}

/** Every installed zeromq package under `dir` (nested node_modules included), as path@version. */
function zeromqCopies(dir, found = []) {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(".")) continue;
    const full = join(dir, entry);
    if (entry.startsWith("@")) {
      zeromqCopies(full, found);
      continue;
    }
    if (entry === "zeromq" && existsSync(join(full, "package.json"))) {
      const { version } = JSON.parse(readFileSync(join(full, "package.json"), "utf8"));
      found.push(`${full}@${version}`);
    }
    zeromqCopies(join(full, "node_modules"), found);
  }
  return found;
}

const needed = new Set(targets.flatMap((t) => [...zgDeps(t)]));
console.log(`building ${[...needed].join(", ")} …`);
run(
  "pnpm",
  [
    "exec",
    "turbo",
    "run",
    "build",
    ...[...needed].map((n) => `--filter=${n}`),
    "--output-logs=errors-only",
  ],
  root,
);

const packDir = mkdtempSync(join(tmpdir(), "zg-packs-"));
const tarballs = new Map();
let failures = 0;
for (const name of needed) {
  const { dir } = manifests.get(name);
  try {
    run("pnpm", ["exec", "publint", "--strict"], dir);
  } catch (e) {
    failures++;
    console.error(`✗ publint ${name}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
  const out = run("pnpm", ["pack", "--pack-destination", packDir], dir).trim().split("\n").pop();
  tarballs.set(name, out.startsWith("/") ? out : join(packDir, out));
}

for (const name of targets) {
  const deps = [...zgDeps(name)];
  const project = mkdtempSync(join(tmpdir(), "zg-install-"));
  try {
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "zg-install-check", private: true, type: "module" }),
    );
    run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        ...deps.map((d) => tarballs.get(d)),
      ],
      project,
    );
    const probe = `const m = await import(${JSON.stringify(name)}); const n = Object.keys(m).length; if (n === 0) throw new Error("no exports"); console.log(n);`;
    const n = run("node", ["--input-type=module", "-e", probe], project).trim();
    // Every other public subpath (`@zg/pirate/bstar`, `@zg/zns/zpl`, …) imports from plain Node too.
    const subpaths = Object.entries(manifests.get(name).manifest.publishConfig?.exports ?? {})
      .filter(
        ([key, target]) =>
          key.startsWith("./") && key !== "./package.json" && !key.includes("*") && target !== null,
      )
      .map(([key]) => `${name}${key.slice(1)}`);
    for (const sub of subpaths) {
      const subProbe = `const m = await import(${JSON.stringify(sub)}); if (Object.keys(m).length === 0) throw new Error("no exports in ${sub}");`;
      run("node", ["--input-type=module", "-e", subProbe], project);
    }
    const installed = readdirSync(join(project, "node_modules", "@zg"))
      .sort()
      .join(", ");
    // One native addon, one libzmq context: every @zg package's `zeromq` range must
    // resolve to the same single copy (a second copy means a second context).
    const copies = zeromqCopies(join(project, "node_modules"));
    if (deps.some((d) => manifests.get(d)?.manifest.dependencies?.zeromq !== undefined)) {
      if (copies.length !== 1)
        throw new Error(`expected one zeromq copy, found ${copies.length}: ${copies.join(", ")}`);
    }
    console.log(
      `✓ ${name}: packed, installed alone (node_modules/@zg: ${installed}; zeromq copies: ${copies.length}), ${n} exports import from plain Node${subpaths.length > 0 ? `, and ${subpaths.join(", ")}` : ""}`,
    );
  } catch (e) {
    failures++;
    console.error(`✗ ${name}: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
}
rmSync(packDir, { recursive: true, force: true });
if (failures > 0) {
  console.error(`${failures} pack/install check(s) failed`);
  process.exit(1);
}
