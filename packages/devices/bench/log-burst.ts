/**
 * The "rotation and retention hold under a 100 MB burst", as a manual
 * run (too long for CI): one publisher logs ZG_BURST_MB (100) MB of ≈ 250-byte
 * records as fast as the broker acknowledges them; the broker rotates at
 * 8 MiB and keeps 4 files. Prints the records stored, the files left and
 * their sizes, rotations and deletions, and checks that the files kept hold
 * the newest records, contiguous and once each.
 *
 * Run: pnpm --filter @zg/devices exec tsx --conditions=@zg/source bench/log-burst.ts
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listLogFiles, LogBroker, LogPublisher, readLogFile } from "../src/index.js";

const MB = Number(process.env["ZG_BURST_MB"] ?? 100);
const dir = mkdtempSync(join(tmpdir(), "zg-log-burst-"));
const broker = new LogBroker({
  dir,
  endpoints: "tcp://127.0.0.1:*",
  maxFileBytes: 8 * 1024 * 1024,
  maxFiles: 4,
});
const {
  endpoints: [endpoint],
} = await broker.start();
const pub = new LogPublisher({
  broker: endpoint ?? "",
  app: "burst",
  buffer: 50_000,
  window: 5000,
});
await pub.start();
const payload = "x".repeat(120);
const t0 = performance.now();
let n = 0;
let bytes = 0;
while (bytes < MB * 1024 * 1024) {
  // Keep the buffer below its bound: the burst is as fast as the broker acknowledges.
  while (pub.stats().buffered > 40_000) await new Promise((r) => setTimeout(r, 5));
  pub.log("info", payload, { n });
  n++;
  bytes += 250;
  if (n % 1000 === 0) await new Promise((r) => setImmediate(r));
}
while (pub.stats().buffered > 0) await new Promise((r) => setTimeout(r, 20));
const secs = (performance.now() - t0) / 1000;
const files = await listLogFiles(dir);
const sizes = files.map((f) => statSync(f.path).size);
const kept = (await Promise.all(files.map((f) => readLogFile(f.path)))).flatMap((f) => f.records);
const seqs = kept.map((r) => r.seq);
const contiguous = seqs.every((s, i) => i === 0 || s === (seqs[i - 1] as number) + 1);
const s = broker.stats();
console.log(
  JSON.stringify({
    records: n,
    mb: Math.round(sizes.reduce((a, b) => a + b, 0) / 1e4) / 100,
    seconds: Math.round(secs),
    recordsPerSecond: Math.round(n / secs),
    stored: s.stored,
    files: files.length,
    sizesMiB: sizes.map((b) => Math.round((b / 1048576) * 100) / 100),
    rotations: s.rotations,
    deleted: s.filesDeleted,
    keptFirstSeq: seqs[0],
    keptLastSeq: seqs.at(-1),
    keptContiguous: contiguous,
    dropped: pub.stats().dropped,
  }),
);
await pub.close();
await broker.close();
rmSync(dir, { recursive: true, force: true });
