import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** One row of a benchmark table. */
export interface BenchRow {
  /** The package that ran it. */
  suite: string;
  /** What was measured (traffic shape). */
  name: string;
  /** Unit of `value` and `baseline`, e.g. "msg/s", "rt/s", "ops/s", "% core". */
  unit: string;
  /** The zg component's figure (median of rounds). */
  value: number;
  /** The raw zeromq.js figure for the same traffic shape in the same run, if any. */
  baseline?: number;
  /** value / baseline (or baseline / value when lower is better). */
  ratio?: number;
  /** The ratio (or value) the issue asks for. */
  target?: number;
  /** Whether the target is met. */
  met?: boolean;
  /** Extra figures (p50/p99 latency, bytes, …). */
  extra?: Record<string, number | string>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/** Repo root: the nearest folder upwards holding pnpm-workspace.yaml. */
export function repoRoot(from = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const up = dirname(dir);
    if (up === dir) return from;
    dir = up;
  }
}

/**
 * A package's benchmark suite. Each comparison measures a raw zeromq.js
 * baseline and the zg component for the same traffic shape, alternating
 * rounds so drift on a noisy machine hits both, and reports the ratio.
 * {@link finish} prints the table and writes `bench-results/<suite>.json` at
 * the repo root, which `pnpm bench` merges into one table.
 */
export class BenchSuite {
  readonly name: string;
  readonly rows: BenchRow[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /**
   * Runs `rounds` alternating rounds of `baseline` and `subject` (each returns
   * its figure) and records the medians and their ratio.
   */
  async compare(spec: {
    name: string;
    unit: string;
    baseline: () => Promise<number>;
    subject: () => Promise<number>;
    target?: number;
    lowerIsBetter?: boolean;
    rounds?: number;
    extra?: () => Record<string, number | string>;
  }): Promise<BenchRow> {
    const rounds = spec.rounds ?? 3;
    const b: number[] = [];
    const s: number[] = [];
    for (let i = 0; i < rounds; i++) {
      b.push(await spec.baseline());
      s.push(await spec.subject());
    }
    const baseline = median(b);
    const value = median(s);
    const ratio = spec.lowerIsBetter ? baseline / value : value / baseline;
    const row: BenchRow = {
      suite: this.name,
      name: spec.name,
      unit: spec.unit,
      value,
      baseline,
      ratio,
      ...(spec.target === undefined ? {} : { target: spec.target, met: ratio >= spec.target }),
      ...(spec.extra === undefined ? {} : { extra: spec.extra() }),
    };
    this.rows.push(row);
    process.stdout.write(`${formatRow(row)}\n`);
    return row;
  }

  /** Records an absolute figure with no baseline (e.g. CPU share). */
  record(row: Omit<BenchRow, "suite">): BenchRow {
    const full: BenchRow = { suite: this.name, ...row };
    this.rows.push(full);
    process.stdout.write(`${formatRow(full)}\n`);
    return full;
  }

  /** Prints the suite's table and writes its JSON results. */
  finish(): void {
    const dir = join(repoRoot(), "bench-results");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${this.name.replace(/[@/]/g, "_")}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        { suite: this.name, at: new Date().toISOString(), node: process.version, rows: this.rows },
        null,
        2,
      ),
    );
    process.stdout.write(`\n${formatTable(this.rows)}\nresults: ${file}\n`);
  }
}

function fmt(n: number | undefined): string {
  if (n === undefined) return "";
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

/** One row as a line. */
export function formatRow(r: BenchRow): string {
  const extra = r.extra
    ? Object.entries(r.extra)
        .map(([k, v]) => `${k}=${typeof v === "number" ? fmt(v) : v}`)
        .join(" ")
    : "";
  return `${r.suite} | ${r.name} | ${fmt(r.value)} ${r.unit} | raw ${fmt(r.baseline)} | ratio ${r.ratio === undefined ? "-" : r.ratio.toFixed(3)} | target ${r.target ?? "-"} ${r.met === undefined ? "" : r.met ? "ok" : "MISSED"} ${extra}`;
}

/** Rows as an aligned text table. */
export function formatTable(rows: readonly BenchRow[]): string {
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
  const widths = head.map((h, i) =>
    Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(" | ")
      .trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line)].join("\n");
}
