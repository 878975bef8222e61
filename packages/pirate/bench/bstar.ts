/**
 * Binary Star benchmark rows:
 *
 * 1. Request throughput through the Binary Star voter (an active `BinaryStar`
 *    with its built-in echo frontend, its peer passive) against the same echo
 *    server without the voter (the same ROUTER + SocketLoop + envelope split,
 *    no `vote()`), target ≥ 0.95; plus the same against a raw zeromq.js
 *    ROUTER echo loop, for scale.
 * 2. Failover time from kill -9 of the active server (a child process) to the
 *    first answered request, p50/p99 over ≥ 20 trials, next to the Guide's
 *    analytic bound 2 × heartbeat + client timeout + settle delay.
 *
 * Imports only the Binary Star entry point (plus the shared raw drivers).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { createRouter, EMPTY_FRAME, SocketLoop, splitEnvelope } from "@zg/core";
import { percentiles, spawnChild, type ChildHandle } from "@zg/testing";
import type { BenchSuite } from "@zg/testing/bench";
import { BinaryStar, BinaryStarClient } from "../src/bstar/index.js";
import { replyFrames, type RequestHandler } from "../src/common/handler.js";

const DURATION = Number(process.env["ZG_BENCH_DURATION"] ?? 1000);
const ROUNDS = Number(process.env["ZG_BENCH_ROUNDS"] ?? 5);
const TRIALS = Math.max(20, Number(process.env["ZG_BENCH_BSTAR_TRIALS"] ?? 20));
const HB = 100;
const TIMEOUT = 400;
const SETTLE = 100;

function ipcDir(): { endpoint: (name: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "zg-bstar-bench-"));
  return {
    endpoint: (name) => `ipc://${join(dir, name)}`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Round trips/s through an active BinaryStar echo frontend (its passive peer running). */
async function voterRun(clients: number): Promise<number> {
  const dir = ipcDir();
  // The Guide's heartbeat (1000 ms): on this loaded machine a 200 ms event-loop stall would trip
  // the stall guard of a 100 ms pair and drop requests mid-run.
  const make = (role: "primary" | "backup"): BinaryStar =>
    new BinaryStar({
      role,
      state: dir.endpoint(role),
      peer: dir.endpoint(role === "primary" ? "backup" : "primary"),
      frontend: { endpoints: "tcp://127.0.0.1:*", handler: (body) => body },
    });
  const primary = make("primary");
  const backup = make("backup");
  const [pe] = await Promise.all([primary.start(), backup.start()]);
  while (!(primary.pairState === "active" && backup.pairState === "passive"))
    await new Promise((r) => setTimeout(r, 10));
  const { rate } = await driveClients(pe.endpoints[0] as string, clients, DURATION);
  await Promise.all([primary.close(), backup.close()]);
  dir.cleanup();
  return rate;
}

/** The same echo server without the voter: ROUTER + SocketLoop + envelope split + handler + reply. */
async function plainEchoRun(clients: number): Promise<number> {
  const router = createRouter({ linger: 0 });
  await router.bind("tcp://127.0.0.1:*");
  const handler: RequestHandler = (body) => body;
  const loop: SocketLoop = new SocketLoop(router, {
    onMessage: (m) => {
      const { envelope, body } = splitEnvelope(m);
      if (envelope.length === 0 || body.length === 0) return;
      const reply = handler(body);
      if (!(reply instanceof Promise)) loop.post([...envelope, EMPTY_FRAME, ...replyFrames(reply)]);
    },
  });
  loop.start();
  const { rate } = await driveClients(router.lastEndpoint as string, clients, DURATION);
  await loop.close();
  return rate;
}

/** A raw zeromq.js ROUTER echo loop (no zg code at all). */
async function rawEchoRun(clients: number): Promise<number> {
  const router = new zmq.Router({ linger: 0 });
  await router.bind("tcp://127.0.0.1:*");
  void (async () => {
    try {
      for await (const m of router) await router.send(m);
    } catch {
      /* closed */
    }
  })();
  const { rate } = await driveClients(router.lastEndpoint as string, clients, DURATION);
  router.close();
  return rate;
}

/**
 * REQ-style DEALER clients, one request in flight each, for `DURATION` ms after a 200 ms warm-up;
 * round trips per second. A reply missing for 5 s fails the run instead of hanging it.
 */
async function driveClients(
  endpoint: string,
  clients: number,
  durationMs: number,
): Promise<{ rate: number }> {
  const sockets = Array.from({ length: clients }, () => {
    const d = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
    d.connect(endpoint);
    return d;
  });
  const body = Buffer.alloc(64, 7);
  let count = 0;
  const start = performance.now() + 200;
  const end = start + durationMs;
  try {
    await Promise.all(
      sockets.map(async (s) => {
        for (;;) {
          const t = performance.now();
          if (t >= end) return;
          await s.send([EMPTY_FRAME, body]);
          await s.receive();
          if (t >= start) count++;
        }
      }),
    );
  } finally {
    for (const s of sockets) s.close();
  }
  return { rate: count / (durationMs / 1000) };
}

const wall = (): number => performance.timeOrigin + performance.now();

function lastState(c: ChildHandle): string | undefined {
  const e = c.events.filter((x) => x.name === "state").at(-1);
  return (e?.data as { to?: string } | undefined)?.to;
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`bstar bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** kill -9 of the active server → first answered request, `trials` times (alternating sides). */
async function failoverTrials(trials: number): Promise<{ times: number[]; stalls: number }> {
  const dir = ipcDir();
  const child = new URL("../test/fixtures/bstar-server-child.ts", import.meta.url);
  const st = { primary: dir.endpoint("p-state"), backup: dir.endpoint("b-state") };
  const fe = { primary: dir.endpoint("p-fe"), backup: dir.endpoint("b-fe") };
  const args = (role: "primary" | "backup"): string[] => [
    role,
    st[role],
    role === "primary" ? st.backup : st.primary,
    fe[role],
    String(HB),
  ];
  const servers = {
    primary: await spawnChild(child, { args: args("primary"), bundle: true }),
    backup: await spawnChild(child, { args: args("backup"), bundle: true }),
  };
  await until(
    () => lastState(servers.primary) === "active" && lastState(servers.backup) === "passive",
    10_000,
    "pair settled",
  );
  const client = new BinaryStarClient({
    servers: [fe.primary, fe.backup],
    timeout: TIMEOUT,
    settle: SETTLE,
  });
  await client.start();
  let running = true;
  let lastAck = 0;
  let lastBy = "";
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const reply = await client.request(String(i));
      lastAck = wall();
      lastBy = String(reply[0]);
    }
  })();
  const times: number[] = [];
  for (let t = 0; t < trials; t++) {
    const active = lastState(servers.primary) === "active" ? "primary" : "backup";
    const passive = active === "primary" ? "backup" : "primary";
    const before = lastAck;
    await until(() => lastAck > before, 10_000, "an ack before the kill");
    await servers[active].kill("SIGKILL");
    const killedAt = wall();
    // The first answer from the survivor (a reply already on its way from the killed server does not count).
    await until(
      () => lastAck > killedAt && lastBy === passive,
      20_000,
      "the first answer from the survivor",
    );
    times.push(lastAck - killedAt);
    // Manual recovery: restart the killed server; it must come back passive.
    await servers[active].start();
    await until(() => lastState(servers[active]) === "passive", 10_000, "restarted server passive");
    await until(() => lastState(servers[passive]) === "active", 10_000, "survivor active");
  }
  running = false;
  await loop.catch(() => undefined);
  await client.close();
  const stalls = servers.primary.events
    .concat(servers.backup.events)
    .filter((e) => e.name === "stalled").length;
  await Promise.all([servers.primary.kill(), servers.backup.kill()]);
  dir.cleanup();
  return { times, stalls };
}

/** Runs the Binary Star rows into `suite`. */
export async function runBstar(suite: BenchSuite): Promise<void> {
  for (const clients of [1, 8]) {
    await suite.compare({
      name: `Binary Star voter (active server, peer passive) vs the same echo server without it, ${clients} client(s), 64 B, tcp`,
      unit: "rt/s",
      baseline: () => plainEchoRun(clients),
      subject: () => voterRun(clients),
      target: 0.95,
      rounds: ROUNDS,
    });
    await suite.compare({
      name: `Binary Star voter vs raw zeromq.js ROUTER echo loop, ${clients} client(s), 64 B, tcp`,
      unit: "rt/s",
      baseline: () => rawEchoRun(clients),
      subject: () => voterRun(clients),
      rounds: ROUNDS,
    });
  }
  const { times, stalls } = await failoverTrials(TRIALS);
  const p = percentiles(times);
  const bound = 2 * HB + TIMEOUT + SETTLE;
  suite.record({
    name: `Binary Star failover, kill -9 of the active server → first answered request, ${times.length} trials (heartbeat ${HB} ms, client timeout ${TIMEOUT} ms, settle ${SETTLE} ms)`,
    unit: "ms (p50)",
    value: p.p50,
    target: bound,
    met: p.p99 <= bound,
    extra: {
      p99_ms: p.p99,
      max_ms: Math.max(...times),
      min_ms: Math.min(...times),
      bound_ms: bound,
      stall_guard_restarts: stalls,
    },
  });
}
