// The broker app under a hostile operator and hostile clients (issue 12, items 5-12):
// each test runs the built bin as a child process and judges from the clients' own records.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import * as zmq from "zeromq";
import { builtBin, runAppToExit, spawnApp, type AppProcess } from "@zg/app-kit/testing";
import { MajordomoClient, MajordomoWorker } from "@zg/pirate";
import { closeAfter, delay, percentiles, waitFor } from "@zg/testing";

const bin = builtBin(import.meta.url);

/** Frames of an MDP/0.1 client request sent from a DEALER. */
const request = (service: string, ...body: (string | Buffer)[]): Buffer[] => [
  Buffer.alloc(0),
  Buffer.from("MDPC01"),
  Buffer.from(service),
  ...body.map((b) => (typeof b === "string" ? Buffer.from(b) : b)),
];

/** A DEALER connected to `endpoint`, closed at the end of the test. */
function dealer(endpoint: string, options: zmq.SocketOptions<zmq.Dealer> = {}): zmq.Dealer {
  const d = new zmq.Dealer({ linger: 0, ...options });
  d.connect(endpoint);
  onTestFinished(() => d.close());
  return d;
}

/** Resident set size of `pid`, MiB. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`precondition: /proc/${pid}/status has no VmRSS`);
  return Number(m[1]) / 1024;
}

async function start(args: string[]): Promise<{
  app: AppProcess;
  endpoint: string;
  stats: () => Promise<Stats>;
  metrics: () => Promise<string>;
}> {
  const app = spawnApp(bin, [
    "--endpoint",
    "tcp://127.0.0.1:*",
    "--metrics",
    "127.0.0.1:0",
    ...args,
  ]);
  const ready = await app.ready();
  const endpoint = (ready.endpoints["broker"] ?? [])[0] ?? "";
  const statsUrl = String(ready["stats"]);
  const metricsUrl = String(ready["metrics"]);
  return {
    app,
    endpoint,
    stats: async () =>
      ((await (await fetch(statsUrl)).json()) as { components: { majordomo_broker: Stats } })
        .components.majordomo_broker,
    metrics: async () => (await fetch(metricsUrl)).text(),
  };
}

interface Stats {
  queued: number;
  services: number;
  pendingServices: number;
  refused: number;
  dropped: number;
  deferred: number;
  timedOut: number;
  perService: Record<string, { workers: number; queued: number; served: number }>;
}

describe("zg-majordomo-broker hardening (issue 12)", () => {
  it("11: rejects an out-of-range port and malformed endpoints naming --endpoint; negative durations name the flag", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["--endpoint", "tcp://127.0.0.1:99999"],
        /^zg-majordomo-broker: error: --endpoint: port 99999 out of range 0\.\.65535 in "tcp:\/\/127\.0\.0\.1:99999"; change --endpoint \(or ZG_MAJORDOMO_BROKER_ENDPOINT\)\n$/,
      ],
      [["--endpoint", "tcp://127.0.0.1"], /--endpoint: missing :port/],
      [["--endpoint", "tcp://127.0.0.1:5x"], /--endpoint: malformed port "5x"/],
      [["--endpoint", "tpc://127.0.0.1:5555"], /--endpoint: unknown transport "tpc"/],
      [
        ["--request-expiry", "-5"],
        /^zg-majordomo-broker: error: --request-expiry: must not be negative, got -5 .*; change --request-expiry/,
      ],
      [["--heartbeat-interval=-1s"], /--heartbeat-interval: must not be negative, got -1s/],
    ];
    for (const [args, message] of cases) {
      const r = await runAppToExit(bin, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it("10: SIGHUP is a logged graceful stop (drain, exit 0), not a kill", async () => {
    const { app } = await start([]);
    const exit = await app.stop("SIGHUP");
    expect(exit, app.stderr).toMatchObject({ code: 0, signal: null });
    expect(app.lines.find((l) => l.event === "stopping")).toMatchObject({ reason: "SIGHUP" });
    expect(app.lines.map((l) => l.event)).toContain("stopped");
  });

  it("9: on SIGTERM every one of 10,000 queued requests (no worker) gets 503 'broker shutting down' before exit", async () => {
    const { app, endpoint, stats } = await start([]);
    const clients = Array.from({ length: 10 }, () => dealer(endpoint));
    const replies: string[][] = [];
    const readers = clients.map(async (c) => {
      for await (const m of c) replies.push(m.map(String));
    });
    for (const [i, c] of clients.entries())
      for (let j = 0; j < 1000; j++) await c.send(request("nobody", `${i}.${j}`));
    await waitFor(async () => (await stats()).queued === 10_000, {
      timeout: 20_000,
      what: "10,000 requests queued",
    });
    const exit = await app.stop("SIGTERM");
    expect(exit, app.stderr).toMatchObject({ code: 0 });
    await waitFor(() => replies.length >= 10_000, { timeout: 5000, what: "10,000 replies" });
    console.log(`shutdown: ${replies.length} replies to 10000 queued requests, exit ${exit.code}`);
    expect(replies).toHaveLength(10_000);
    expect(
      replies.every(
        (r) => r[3] === "zg.mdp.error" && r[4] === "503" && r[5] === "broker shutting down",
      ),
    ).toBe(true);
    for (const c of clients) c.close();
    await Promise.allSettled(readers);
  });

  it("12: --request-timeout answers 504 for a worker that heartbeats but never replies; that worker is disconnected and registers again", async () => {
    const { endpoint, stats } = await start([
      "--request-timeout",
      "500ms",
      "--heartbeat-interval",
      "100",
    ]);
    let handled = 0;
    const worker = closeAfter(
      new MajordomoWorker({
        broker: endpoint,
        service: "stuck",
        heartbeatInterval: 100,
        handler: () => {
          handled++;
          return new Promise<never>(() => {}); // heartbeats continue, the reply never comes
        },
      }),
    );
    await worker.start();
    const client = closeAfter(
      new MajordomoClient({ broker: endpoint, attempts: 1, timeout: 5000 }),
    );
    await client.start();
    const t0 = performance.now();
    const error = await client.request("stuck", ["x"]).then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = performance.now() - t0;
    console.log(`request timeout: client answered after ${Math.round(ms)} ms, handled ${handled}`);
    expect(error).toMatchObject({ code: "ZG_TIMEOUT", details: { status: "504" } });
    expect(String((error as Error).message)).toMatch(/worker did not reply within 500 ms/);
    expect(handled).toBe(1); // not re-queued: the request may be what stalls the worker
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(await stats()).toMatchObject({ timedOut: 1 });
    // The worker was sent DISCONNECT; it registers again on a fresh socket and can serve.
    await waitFor(async () => (await stats()).perService["stuck"]?.workers === 1, {
      timeout: 10_000,
      what: "the timed-out worker registered again",
    });
  });

  it("6: a 100,000-service-name flood cannot lock out a worker's new service; /metrics stays bounded", async () => {
    const { app, endpoint, stats, metrics } = await start([]);
    const flood = dealer(endpoint, { sendHighWaterMark: 100_000 });
    let sent = 0;
    const flooding = (async () => {
      for (; sent < 100_000; sent++) await flood.send(request(`junk-${sent}`, "x"));
    })();
    // Precondition: the broker has taken in enough names that its service table(s) refuse new ones.
    await waitFor(async () => (await stats()).refused > 0, {
      timeout: 20_000,
      what: "the flood filling the service table (requests refused)",
    });
    const before = await stats();
    const worker = closeAfter(
      new MajordomoWorker({ broker: endpoint, service: "real", handler: (r) => r }),
    );
    await worker.start();
    const client = closeAfter(
      new MajordomoClient({ broker: endpoint, attempts: 1, timeout: 5000 }),
    );
    await client.start();
    let served = 0;
    while (sent < 100_000 || served < 20) {
      expect((await client.request("real", [`r${served}`])).map(String)).toEqual([`r${served}`]);
      served++;
    }
    await flooding;
    const text = await metrics();
    const s = await stats();
    const rss = rssMiB(app.pid);
    console.log(
      `service flood: ${sent} names sent, ${served} real requests served, services ${s.services} (pending ${s.pendingServices}, ${before.pendingServices} when the worker came), refused ${s.refused}, /metrics ${text.length} bytes, ${text.split("\n").length} lines, RSS ${rss.toFixed(0)} MiB`,
    );
    expect(s.perService["real"]).toMatchObject({ workers: 1 });
    expect(text.length).toBeLessThan(256 * 1024);
    expect(rss).toBeLessThan(400);
  });

  it("5: 512 MiB frames are refused at the socket (--max-message-size): the broker's RSS stays bounded and it keeps serving", async () => {
    const { app, endpoint } = await start([]);
    const worker = closeAfter(
      new MajordomoWorker({ broker: endpoint, service: "echo", handler: (r) => r }),
    );
    await worker.start();
    const base = rssMiB(app.pid);
    const big = Buffer.alloc(512 * 1024 * 1024, 1);
    let peak = base;
    for (let i = 0; i < 4; i++) {
      const d = dealer(endpoint);
      await d.send(request("echo", big));
      // libzmq reads the header, sees the size, and drops the connection before buffering it.
      const t0 = performance.now();
      while (performance.now() - t0 < 300) {
        peak = Math.max(peak, rssMiB(app.pid));
        await new Promise((r) => setTimeout(r, 20));
      }
      d.close();
    }
    const client = closeAfter(
      new MajordomoClient({ broker: endpoint, attempts: 1, timeout: 5000 }),
    );
    await client.start();
    expect((await client.request("echo", ["small"])).map(String)).toEqual(["small"]);
    console.log(
      `512 MiB frames: 4 sent, broker RSS ${base.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB`,
    );
    expect(peak).toBeLessThan(base + 128);
  });

  it("8: 200,000 error replies to a reading client, bursts of up to 40,000 and one reader stall: none dropped", async () => {
    // --max-queued 1: the first request waits for a worker, every other one is refused at once.
    const { endpoint, stats } = await start(["--max-queued", "1"]);
    const d = dealer(endpoint, { sendHighWaterMark: 200_000 });
    const N = 200_000;
    // At most W requests unanswered: a burst of up to W replies (~300 B each, the long service
    // name is echoed), far more than the 1000-message pipes and the kernel's socket buffers
    // hold, within what the broker holds for one peer (--peer-backlog, --backlog-bytes).
    const W = 40_000;
    const service = `nobody-${"x".repeat(240)}`;
    let got = 0;
    let sent = 0;
    let errors = 0;
    let windowFull = false;
    let progressed: () => void = () => {};
    const reading = (async () => {
      for await (const m of d) {
        got++;
        progressed();
        if (got === 20_000) {
          // The reader stalls (a GC pause, a busy moment) until the broker has answered a whole
          // window, so its replies meet full pipes; then it reads on.
          await waitFor(async () => windowFull && (await stats()).refused >= sent - 1, {
            timeout: 30_000,
            what: "the broker answering a whole window while the reader stalls",
          });
        }
        if (String(m[3]) === "zg.mdp.error") errors++;
        if (got === N - 1) return;
      }
    })();
    const frames = request(service, "x");
    for (; sent < N; sent++) {
      if (sent - got >= W) {
        windowFull = true;
        const moved = new Promise<boolean>((r) => {
          progressed = () => {
            if (sent - got <= W / 2) r(true);
          };
        });
        // Replies that never come (dropped) leave the window stuck: stop sending and judge.
        const stuck = await Promise.race([moved.then(() => false), delay(10_000).then(() => true)]);
        progressed = () => {};
        if (stuck) break;
      }
      await d.send(frames);
    }
    if (sent === N)
      await Promise.race([
        reading,
        waitFor(async () => (await stats()).refused >= N - 1, {
          timeout: 60_000,
          what: "all requests but one refused",
        }).then(() => new Promise((r) => setTimeout(r, 2000))),
      ]);
    const s = await stats();
    console.log(
      `reply burst: ${sent} of ${N} requests sent, ${got} replies (${errors} errors), broker dropped ${s.dropped}, held and delivered later ${s.deferred}`,
    );
    expect(got).toBe(N - 1);
    expect(errors).toBe(N - 1);
    expect(s.dropped).toBe(0);
    expect(s.deferred, "precondition: the stall made the broker hold replies").toBeGreaterThan(0);
  }, 60_000);

  it("7: one greedy client pipelining without reading: an honest client's p50 stays within 3x its unloaded p50", async () => {
    const { endpoint, stats } = await start([]);
    // Two workers that do some work (10-30 ms a request, like a real service), so latencies are
    // the service's, not scheduling noise. With fair queuing an honest request waits only for
    // the first worker to free up (with one worker it waits for exactly one greedy request: 2x).
    for (let i = 0; i < 2; i++) {
      const worker = closeAfter(
        new MajordomoWorker({
          broker: endpoint,
          service: "echo",
          handler: async (r) => {
            await delay(10 + Math.random() * 20);
            return r;
          },
        }),
      );
      await worker.start();
    }
    const client = closeAfter(
      new MajordomoClient({ broker: endpoint, attempts: 1, timeout: 10_000 }),
    );
    await client.start();
    const measure = async (n: number): Promise<number[]> => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await client.request("echo", ["honest"]);
        ms.push(performance.now() - t0);
      }
      return ms;
    };
    await measure(10); // warm-up
    const unloaded = percentiles(await measure(60));
    const greedy = spawn(
      process.execPath,
      [
        fileURLToPath(new URL("./fixtures/greedy-client.mjs", import.meta.url)),
        endpoint,
        "echo",
        "1000000",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    onTestFinished(() => void greedy.kill("SIGKILL"));
    await waitFor(async () => ((await stats()).perService["echo"]?.queued ?? 0) >= 900, {
      timeout: 20_000,
      what: "the greedy client's requests queued",
    });
    const loaded = percentiles(await measure(60));
    const s = await stats();
    console.log(
      `fairness: honest p50 unloaded ${unloaded.p50.toFixed(3)} ms, under the greedy flood ${loaded.p50.toFixed(3)} ms (${(loaded.p50 / unloaded.p50).toFixed(2)}x); echo served ${s.perService["echo"]?.served}, refused ${s.refused}`,
    );
    expect(loaded.p50).toBeLessThanOrEqual(3 * unloaded.p50);
  });
});
