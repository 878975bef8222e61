#!/usr/bin/env node
// Merges every package's bench-results/<suite>.json (written by BenchSuite)
// into one table: `pnpm bench` runs the benches, then this.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const dir = join(root, "bench-results");
let files = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "all.json");
} catch {
  console.error("no bench-results/ folder: run `pnpm bench` first");
  process.exit(1);
}
const rows = files.flatMap((f) => JSON.parse(readFileSync(join(dir, f), "utf8")).rows ?? []);
const fmt = (n) =>
  n === undefined
    ? ""
    : Math.abs(n) >= 1000
      ? Math.round(n).toLocaleString("en-US")
      : Math.abs(n) >= 10
        ? n.toFixed(1)
        : n.toFixed(3);
const head = ["suite", "benchmark", "zg", "raw zeromq.js", "ratio", "target", "extra"];
const body = rows.map((r) => [
  r.suite,
  r.name,
  `${fmt(r.value)} ${r.unit}`,
  r.baseline === undefined ? "-" : `${fmt(r.baseline)} ${r.unit}`,
  r.ratio === undefined ? "-" : r.ratio.toFixed(3),
  r.target === undefined
    ? "-"
    : `${r.target}${r.met === undefined ? "" : r.met ? " ok" : " MISSED"}`,
  r.extra
    ? Object.entries(r.extra)
        .map(([k, v]) => `${k}=${typeof v === "number" ? fmt(v) : v}`)
        .join(" ")
    : "",
]);
const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => String(row[i]).length)));
const line = (cells) =>
  cells
    .map((c, i) => String(c).padEnd(widths[i]))
    .join(" | ")
    .trimEnd();
console.log(
  `\nzg benchmarks (${rows.length} rows; ratio = zg / raw zeromq.js measured in the same run)\n`,
);
console.log(
  [line(head), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join("\n"),
);
writeFileSync(
  join(dir, "all.json"),
  JSON.stringify({ at: new Date().toISOString(), node: process.version, rows }, null, 2),
);
console.log(`\nJSON: ${join(dir, "all.json")}`);
