/**
 * @zg/harmony benchmark, every figure a ratio to raw zeromq.js in the same run.
 *
 * 1. Pipeline throughput, 64 B tasks, 4 workers, in one process both ways:
 *    HarmonyClient → 4 HarmonyWorkers → HarmonyCollector (credit, de-duplication,
 *    results back to the client) vs the Guide's taskvent/taskwork/tasksink layout in
 *    raw zeromq.js (PUSH → 4 × PULL/PUSH → PULL) with the same sizes. Target ≥ 0.8.
 * 2. File transfer, 256 KiB chunks over tcp loopback: FileServer → FileClient
 *    (credit, write to disk, SHA-256 on the way) vs raw ROUTER → DEALER bulk
 *    bandwidth of the same bytes from memory. Target ≥ 0.5. Also the server's
 *    largest per-client read buffer, which the credit bounds.
 *
 * Run: pnpm --filter @zg/harmony bench   (ZG_BENCH_TASKS, ZG_BENCH_FILE_MB to resize)
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { BenchSuite } from "@zg/testing/bench";
import {
  FileClient,
  FileServer,
  HarmonyClient,
  HarmonyCollector,
  HarmonyWorker,
} from "../src/index.js";

const TASKS = Number(process.env["ZG_BENCH_TASKS"] ?? 100_000);
const FILE_MB = Number(process.env["ZG_BENCH_FILE_MB"] ?? 64);
const CHUNK = 262_144;
const WORKERS = 4;
const PAYLOAD = Buffer.alloc(64, 7);

async function rawPipeline(): Promise<number> {
  const vent = new zmq.Push({ linger: 0 });
  await vent.bind("tcp://127.0.0.1:*");
  const sink = new zmq.Pull({ linger: 0 });
  await sink.bind("tcp://127.0.0.1:*");
  const workers = Array.from({ length: WORKERS }, () => {
    const pull = new zmq.Pull({ linger: 0 });
    const push = new zmq.Push({ linger: 0 });
    pull.connect(vent.lastEndpoint!);
    push.connect(sink.lastEndpoint!);
    void (async () => {
      try {
        for await (const [task] of pull) await push.send(task!);
      } catch {
        /* closed */
      }
    })();
    return { pull, push };
  });
  await new Promise((r) => setTimeout(r, 200)); // let every worker connect (PUSH would load only the first)
  const t0 = performance.now();
  const sending = (async () => {
    for (let i = 0; i < TASKS; i++) await vent.send(PAYLOAD);
  })();
  let got = 0;
  for await (const _ of sink) if (++got === TASKS) break;
  const secs = (performance.now() - t0) / 1000;
  await sending;
  for (const w of workers) {
    w.pull.close();
    w.push.close();
  }
  vent.close();
  sink.close();
  return TASKS / secs;
}

async function harmonyPipeline(): Promise<number> {
  const collector = new HarmonyCollector();
  const [sink] = (await collector.start()).endpoints;
  const client = new HarmonyClient({ collector: sink!, maxBatchSize: TASKS });
  const { endpoints } = await client.start();
  const workers = Array.from(
    { length: WORKERS },
    () => new HarmonyWorker({ clients: endpoints, collector: sink!, handler: (t) => t }),
  );
  for (const w of workers) await w.start();
  await new Promise((r) => setTimeout(r, 200));
  const tasks = Array.from({ length: TASKS }, () => PAYLOAD);
  const t0 = performance.now();
  const results = await client.submit(tasks).done;
  const secs = (performance.now() - t0) / 1000;
  if (results.length !== TASKS) throw new Error("incomplete batch");
  for (const w of workers) await w.close();
  await client.close();
  await collector.close();
  return TASKS / secs;
}

const dir = mkdtempSync(join(tmpdir(), "harmony-bench-"));
const bytes = FILE_MB << 20;
writeFileSync(join(dir, "f.bin"), randomBytes(bytes));
const block = randomBytes(CHUNK);

async function rawBulk(): Promise<number> {
  const router = new zmq.Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:*");
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(router.lastEndpoint!);
  await dealer.send("go");
  const [id] = await router.receive();
  const t0 = performance.now();
  const sending = (async () => {
    for (let sent = 0; sent < bytes; sent += CHUNK) await router.send([id!, block]);
  })();
  let got = 0;
  for await (const [chunk] of dealer) if ((got += chunk!.length) >= bytes) break;
  const secs = (performance.now() - t0) / 1000;
  await sending;
  router.close();
  dealer.close();
  return bytes / secs / 1e6;
}

let maxBuffered = 0;
async function fileTransfer(): Promise<number> {
  const server = new FileServer({ root: dir });
  const [ep] = (await server.start()).endpoints;
  const client = new FileClient({ server: ep!, chunkSize: CHUNK, credit: 10 * CHUNK });
  await client.start();
  await client.fetch("f.bin", join(dir, "warm.bin")); // the server hashes the file once (cached for the timed fetch)
  const t0 = performance.now();
  await client.fetch("f.bin", join(dir, "copy.bin"), {
    onProgress: () => (maxBuffered = Math.max(maxBuffered, server.stats().buffered)),
  });
  const secs = (performance.now() - t0) / 1000;
  await client.close();
  await server.close();
  return bytes / secs / 1e6;
}

const suite = new BenchSuite("@zg/harmony");
await suite.compare({
  name: `pipeline, ${TASKS.toLocaleString("en-US")} tasks of 64 B, 4 workers: Harmony vs raw PUSH→PULL vent/worker/sink`,
  unit: "tasks/s",
  baseline: rawPipeline,
  subject: harmonyPipeline,
  target: 0.8,
  rounds: 3,
});
await suite.compare({
  name: `file transfer, ${FILE_MB} MiB in 256 KiB chunks over tcp loopback: FileClient (credit 10 chunks, to disk, SHA-256) vs raw ROUTER→DEALER bulk`,
  unit: "MB/s",
  baseline: rawBulk,
  subject: fileTransfer,
  target: 0.5,
  rounds: 3,
  extra: () => ({ serverMaxBufferedBytes: maxBuffered, creditBytes: 10 * CHUNK }),
});
rmSync(dir, { recursive: true, force: true });
suite.finish();
