/**
 * The Majordomo broker against the thinnest possible zeromq.js MDP relay,
 * each in its own process, with raw zeromq.js clients and workers in processes
 * of their own, so the broker is the bottleneck (issue "Performance on the
 * way"): round trips per second, p50/p99 latency, and the broker process's
 * CPU time per round trip (utime + stime from /proc, over the measured
 * window), at 1, 10 and 100 requests in flight with 4 workers.
 *
 * Run: ZG_BENCH_ONLY=part2 ZG_BENCH_FILTER=processes pnpm --filter @zg/pirate bench
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { percentiles } from "@zg/testing";
import type { BenchSuite } from "@zg/testing/bench";

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const TICK_US = 10_000; // CLK_TCK 100 on Linux

/** utime + stime of `pid`, µs. */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

/** Spawns `file` (TypeScript through tsx) with `args`; resolves with the process and a line reader. */
function start(
  file: string,
  args: string[],
): { proc: ChildProcess; line: (match: (l: string) => boolean) => Promise<string> } {
  const ts = file.endsWith(".ts");
  const proc = spawn(
    process.execPath,
    [...(ts ? ["--conditions=@zg/source", "--import", "tsx"] : []), file, ...args],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  let partial = "";
  proc.stdout?.on("data", (d: Buffer) => {
    partial += d.toString();
    let nl: number;
    while ((nl = partial.indexOf("\n")) >= 0) {
      lines.push(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  const line = async (match: (l: string) => boolean): Promise<string> => {
    for (;;) {
      const found = lines.find(match);
      if (found !== undefined) return found;
      if (proc.exitCode !== null) throw new Error(`${file} exited ${proc.exitCode}`);
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { proc, line };
}

interface ProcRun {
  rate: number;
  latencies: number[];
  cpuPerRt: number;
}

async function run(
  broker: "zg" | "raw",
  workers: number,
  inFlight: number,
  ms: number,
): Promise<ProcRun> {
  const b = start(here(broker === "zg" ? "./procs/zg-broker.ts" : "./procs/raw-relay.mjs"), []);
  const endpoint = await b.line((l) => l.startsWith("tcp://"));
  const w = start(here("./procs/raw-workers.mjs"), [endpoint, String(workers)]);
  await w.line((l) => l === "ready");
  await new Promise((r) => setTimeout(r, 300)); // READYs in
  const c = start(here("./procs/raw-clients.mjs"), [endpoint, String(inFlight), String(ms)]);
  await c.line((l) => l === "start");
  const pid = b.proc.pid as number;
  const cpu0 = cpuUs(pid);
  const result = JSON.parse(await c.line((l) => l.startsWith("{"))) as {
    count: number;
    latencies: number[];
  };
  const cpu1 = cpuUs(pid);
  for (const p of [c.proc, w.proc, b.proc]) p.kill("SIGKILL");
  return {
    rate: result.count / (ms / 1000),
    latencies: result.latencies,
    cpuPerRt: result.count > 0 ? (cpu1 - cpu0) / result.count : 0,
  };
}

/** Adds the process-separated broker-vs-relay rows. */
export async function runProcessRows(
  suite: { compare: (spec: Parameters<BenchSuite["compare"]>[0]) => Promise<unknown> },
  duration: number,
  rounds: number,
): Promise<void> {
  for (const inFlight of [1, 10, 100]) {
    let s: ProcRun[] = [];
    let r: ProcRun[] = [];
    await suite.compare({
      name: `processes: Majordomo broker vs raw zeromq.js MDP relay, each its own process (raw clients and 4 raw workers in their own), ${inFlight} in flight, 64 B, tcp`,
      unit: "rt/s",
      baseline: async () => {
        const x = await run("raw", 4, inFlight, duration);
        r.push(x);
        return x.rate;
      },
      subject: async () => {
        const x = await run("zg", 4, inFlight, duration);
        s.push(x);
        return x.rate;
      },
      target: 1.0,
      rounds,
      extra: () => {
        const sl = percentiles(s.flatMap((x) => x.latencies));
        const rl = percentiles(r.flatMap((x) => x.latencies));
        const cpu = (xs: ProcRun[]): number =>
          xs.map((x) => x.cpuPerRt).sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
        const out = {
          p50_ms: sl.p50,
          p99_ms: sl.p99,
          base_p50_ms: rl.p50,
          base_p99_ms: rl.p99,
          p99_ratio: rl.p99 > 0 ? Number((sl.p99 / rl.p99).toFixed(2)) : 0,
          cpu_us_per_rt: Number(cpu(s).toFixed(1)),
          base_cpu_us_per_rt: Number(cpu(r).toFixed(1)),
        };
        s = [];
        r = [];
        return out;
      },
    });
  }
}
