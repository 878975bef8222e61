/**
 * @zg/pirate benchmarks: part 1 (Paranoid Pirate vs a raw forwarder), then
 * part 2 (bench/part2.ts, Majordomo/Titanic) when present, then Binary Star
 * (bench/bstar.ts), then the Majordomo federation (bench/federation.ts). All write rows
 * into one BenchSuite, so bench-results/_zg_pirate.json holds the whole table.
 *
 * Run: pnpm --filter @zg/pirate bench
 * (`ZG_BENCH_ONLY=part1`, `part2`, `bstar` or `federation` runs one part; `ZG_BENCH_DURATION` sets the ms per measurement.)
 */
import { existsSync } from "node:fs";
import { BenchSuite } from "@zg/testing/bench";
import { runBstar } from "./bstar.js";
import { runFederation } from "./federation.js";
import { runPart1 } from "./part1.js";

const only = process.env["ZG_BENCH_ONLY"];
const suite = new BenchSuite("@zg/pirate");
if (only === undefined || only === "part1") await runPart1(suite);
const part2 = new URL("./part2.ts", import.meta.url);
if ((only === undefined || only === "part2") && existsSync(part2)) {
  const mod = (await import(part2.href)) as { runPart2?: (suite: BenchSuite) => Promise<void> };
  if (typeof mod.runPart2 === "function") await mod.runPart2(suite);
}
if (only === undefined || only === "bstar") await runBstar(suite);
if (only === undefined || only === "federation") await runFederation(suite);
suite.finish();
process.exit(0);
