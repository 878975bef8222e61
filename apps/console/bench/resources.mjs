#!/usr/bin/env node
// Console CPU and memory while it watches the reference system (issue 19 benchmark).
// Runs the built launcher (`pnpm start`'s system, chaos on) for --minutes (default 5) with one
// page stream open, samples the console process's CPU time and RSS from /proc every 5 s, prints
// one JSON line. Linux only. Re-run: node apps/console/bench/resources.mjs [minutes]
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const minutes = Number(process.argv[2] ?? 5);
const launcher = fileURLToPath(new URL("../../reference-system/dist/main.js", import.meta.url));
const proc = spawn(process.execPath, [launcher, "--duration", `${minutes * 60 + 15}s`], {
  stdio: ["ignore", "pipe", "inherit"],
});
let out = "";
const line = await new Promise((resolve, reject) => {
  proc.stdout.on("data", (d) => {
    out += d.toString();
    const m = /^web console +pid (\d+) +(\S+)/m.exec(out);
    if (m) resolve(m);
  });
  proc.once("exit", () => reject(new Error(`launcher exited:\n${out}`)));
});
const pid = Number(line[1]);
const url = line[2];
const hz = 100; // USER_HZ on Linux
const sample = () => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  const cpu = (Number(stat[11]) + Number(stat[12])) / hz; // utime + stime, s
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024;
  return { t: performance.now() / 1000, cpu, rss };
};
// One page open: read the SSE stream and count snapshots.
let snapshots = 0;
const abort = new AbortController();
void fetch(new URL("events", url), { signal: abort.signal })
  .then(async (res) => {
    for await (const chunk of res.body)
      snapshots += (
        Buffer.from(chunk)
          .toString()
          .match(/^event: snapshot$/gm) ?? []
      ).length;
  })
  .catch(() => {});
await new Promise((r) => setTimeout(r, 10_000)); // warm-up: every process started, the window filling
const first = sample();
const rss = [];
const end = first.t + minutes * 60;
for (;;) {
  await new Promise((r) => setTimeout(r, 5000));
  const s = sample();
  rss.push(s.rss);
  if (s.t >= end) {
    const result = {
      minutes,
      cpuPercentOfOneCore: Number((((s.cpu - first.cpu) / (s.t - first.t)) * 100).toFixed(2)),
      rssStartMiB: Number(first.rss.toFixed(1)),
      rssEndMiB: Number(s.rss.toFixed(1)),
      rssMaxMiB: Number(Math.max(...rss).toFixed(1)),
      snapshotsReceived: snapshots,
    };
    console.log(JSON.stringify(result));
    break;
  }
}
abort.abort();
proc.kill("SIGTERM");
