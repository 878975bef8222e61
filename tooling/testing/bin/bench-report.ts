// Merges every package's bench-results/<suite>.json (written by BenchSuite) into one table, with the
// same formatter BenchSuite prints with: `pnpm bench` runs the benches, then this.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatTable, type BenchRow } from "../src/bench.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const dir = join(root, "bench-results");
let files: string[] = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "all.json");
} catch {
  process.stderr.write("no bench-results/ folder: run `pnpm bench` first\n");
  process.exit(1);
}
const rows = files.flatMap(
  (f) => (JSON.parse(readFileSync(join(dir, f), "utf8")) as { rows?: BenchRow[] }).rows ?? [],
);
process.stdout.write(
  `\nzg benchmarks (${rows.length} rows; ratio = zg / raw zeromq.js measured in the same run)\n\n`,
);
process.stdout.write(`${formatTable(rows)}\n`);
writeFileSync(
  join(dir, "all.json"),
  JSON.stringify({ at: new Date().toISOString(), node: process.version, rows }, null, 2),
);
process.stdout.write(`\nJSON: ${join(dir, "all.json")}\n`);
