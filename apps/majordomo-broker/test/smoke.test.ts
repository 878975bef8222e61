import { describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import {
  builtBin,
  expectCleanStop,
  expectFatalExit,
  RECEIVE_FAULT_PRELOAD,
  runAppToExit,
  spawnApp,
} from "@zg/app-kit/testing";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MajordomoClient, MajordomoWorker, TitanicClient } from "@zg/pirate";
import { closeAfter, delay, tempDir, waitFor } from "@zg/testing";

const bin = builtBin(import.meta.url);

describe("zg-majordomo-broker (built bin)", () => {
  it("starts, serves one round trip through an MDP worker, exports metrics, and stops cleanly on SIGTERM", async () => {
    const app = spawnApp(bin, ["--endpoint", "tcp://127.0.0.1:*", "--metrics", "127.0.0.1:0"]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ app: "majordomo-broker" });
    const [endpoint] = ready.endpoints["broker"] ?? [];
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);

    const worker = closeAfter(
      new MajordomoWorker({
        broker: endpoint ?? "",
        service: "echo",
        handler: (request) => request,
      }),
    );
    await worker.start();
    const client = closeAfter(new MajordomoClient({ broker: endpoint ?? "" }));
    await client.start();
    const reply = await client.request("echo", ["hello"]);
    expect(reply.map(String)).toEqual(["hello"]);

    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_majordomo_broker_per_service_workers\{service="echo"\} 1$/m);

    // A worker that leaves is counted per service and reason.
    await worker.close();
    await waitFor(
      async () =>
        (await (await fetch(String(ready["metrics"]))).text()).match(
          /^zg_majordomo_workers_removed_per_service_disconnected_total\{service="echo"\} 1$/m,
        ),
      {
        timeout: 5000,
        what: "the removal counted in the metrics",
      },
    );

    await expectCleanStop(app);
  });

  it("on SIGTERM finishes a request already in a worker's hands before closing", async () => {
    const app = spawnApp(bin, ["--endpoint", "tcp://127.0.0.1:*"]);
    const ready = await app.ready();
    const [endpoint] = ready.endpoints["broker"] ?? [];
    let started!: () => void;
    const handling = new Promise<void>((r) => (started = r));
    const worker = closeAfter(
      new MajordomoWorker({
        broker: endpoint ?? "",
        service: "slow",
        handler: async (request) => {
          started();
          await delay(400);
          return request;
        },
      }),
    );
    await worker.start();
    const client = closeAfter(
      new MajordomoClient({ broker: endpoint ?? "", attempts: 1, timeout: 5000 }),
    );
    await client.start();
    const reply = client.request("slow", ["in flight"]);
    await handling;
    const stopped = expectCleanStop(app);
    expect((await reply).map(String)).toEqual(["in flight"]);
    await stopped;
  });

  it("runs Titanic in the same process with --titanic: a request survives through the store", async () => {
    const dir = join(tempDir(), "titanic");
    const app = spawnApp(bin, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--titanic",
      "--data-dir",
      dir,
      "--fsync",
      "never",
    ]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ titanic: { directory: dir, fsync: "never" } });
    const [endpoint] = ready.endpoints["broker"] ?? [];

    const worker = closeAfter(
      new MajordomoWorker({
        broker: endpoint ?? "",
        service: "echo",
        handler: (request) => request,
      }),
    );
    await worker.start();
    const client = closeAfter(new TitanicClient({ broker: endpoint ?? "" }));
    await client.start();
    const reply = await client.request("echo", ["durable hello"], { firstPoll: 20, maxPoll: 100 });
    expect(reply.map(String)).toEqual(["durable hello"]);

    await expectCleanStop(app);
  });

  it("refuses an unusable Titanic data directory with one line naming --data-dir", async () => {
    const file = join(tempDir(), "not-a-dir");
    await writeFile(file, "x");
    const r = await runAppToExit(bin, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--titanic",
      "--data-dir",
      file,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^zg-majordomo-broker: error: cannot use .*not-a-dir as a data directory: not a directory \(E\w+\); change --data-dir \(or ZG_MAJORDOMO_BROKER_DATA_DIR\)\n$/,
    );
  });

  it("with --titanic on a data directory another Titanic holds: exits 1 with one line naming the directory and the holder's pid", async () => {
    const dir = join(tempDir(), "titanic");
    const first = spawnApp(bin, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--titanic",
      "--data-dir",
      dir,
    ]);
    await first.ready();
    const r = await runAppToExit(bin, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--titanic",
      "--data-dir",
      dir,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `zg-majordomo-broker: error: Titanic data directory ${dir} is locked by pid ${first.pid}: another Titanic is using it; change --data-dir (or ZG_MAJORDOMO_BROKER_DATA_DIR)\n`,
    );
    await expectCleanStop(first);
  });

  it("refuses a port in use with one line naming --endpoint", async () => {
    const holder = new zmq.Router({ linger: 0 });
    await holder.bind("tcp://127.0.0.1:*");
    try {
      const r = await runAppToExit(bin, ["--endpoint", holder.lastEndpoint ?? ""]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `zg-majordomo-broker: error: cannot bind ${holder.lastEndpoint}: address already in use; change --endpoint (or ZG_MAJORDOMO_BROKER_ENDPOINT)\n`,
      );
    } finally {
      holder.close();
    }
  });

  it("refuses a heartbeat interval the broker rejects, naming the option", async () => {
    const r = await runAppToExit(bin, [
      "--endpoint",
      "tcp://127.0.0.1:*",
      "--heartbeat-liveness",
      "0",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "zg-majordomo-broker: error: --heartbeat-liveness: must be at least 1, got 0; change --heartbeat-liveness (or ZG_MAJORDOMO_BROKER_HEARTBEAT_LIVENESS)\n",
    );
  });
  it("exits 1 with one fatal line when a component's socket reader dies", async () => {
    const app = spawnApp(bin, ["--endpoint", "tcp://127.0.0.1:*"], {
      execArgv: RECEIVE_FAULT_PRELOAD,
    });
    await app.ready();
    const line = await expectFatalExit(app);
    expect(line.component).toBe("majordomo_broker");
    console.log(`majordomo-broker: 1 receive fault → exit 1, fatal line: ${String(line.msg)}`);
  });
});
