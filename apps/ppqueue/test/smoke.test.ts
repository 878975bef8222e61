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
import { LazyPirateClient, PirateWorker } from "@zg/pirate";
import { closeAfter } from "@zg/testing";

const bin = builtBin(import.meta.url);
const ephemeral = ["--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*"];

describe("zg-ppqueue (built bin)", () => {
  it("starts, serves one round trip through a PirateWorker, and stops cleanly on SIGTERM", async () => {
    const app = spawnApp(bin, [...ephemeral, "--heartbeat-interval", "250"]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ app: "ppqueue", heartbeatInterval: 250, heartbeatLiveness: 3 });
    const [frontend] = ready.endpoints["frontend"] ?? [];
    const [backend] = ready.endpoints["backend"] ?? [];
    expect(frontend).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);

    const worker = closeAfter(
      new PirateWorker({ queue: backend ?? "", heartbeatInterval: 250, handler: (m) => m }),
    );
    await worker.start();
    const client = closeAfter(
      new LazyPirateClient({ server: frontend ?? "", timeout: 2500, attempts: 3 }),
    );
    await client.start();
    const reply = await client.request(["hello"]);
    expect(reply.map(String)).toEqual(["hello"]);

    await expectCleanStop(app);
  });

  it("refuses a frontend port in use with one line naming --frontend", async () => {
    const holder = new zmq.Router({ linger: 0 });
    await holder.bind("tcp://127.0.0.1:*");
    try {
      const r = await runAppToExit(bin, [
        "--frontend",
        holder.lastEndpoint ?? "",
        "--backend",
        "tcp://127.0.0.1:*",
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `zg-ppqueue: error: cannot bind ${holder.lastEndpoint}: address already in use; change --frontend (or ZG_PPQUEUE_FRONTEND)\n`,
      );
    } finally {
      holder.close();
    }
  });

  it("refuses a malformed option with one line and exit code 2", async () => {
    const r = await runAppToExit(bin, [...ephemeral, "--heartbeat-interval", "often"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'zg-ppqueue: error: --heartbeat-interval: expected a duration in ms (e.g. 2500, 2500ms, 2.5s), got "often"; change --heartbeat-interval (or ZG_PPQUEUE_HEARTBEAT_INTERVAL)\n',
    );
    const overflow = await runAppToExit(bin, [...ephemeral], {
      env: { ZG_PPQUEUE_OVERFLOW: "explode" },
    });
    expect(overflow.code).toBe(2);
    expect(overflow.stderr).toMatch(
      /^zg-ppqueue: error: ZG_PPQUEUE_OVERFLOW: expected one of backpressure, drop-newest, drop-oldest, got "explode"; change --overflow/,
    );
  });

  it("lists every option with its default in --help", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "--frontend <endpoints>",
      "default: tcp://127.0.0.1:5555",
      "default: tcp://127.0.0.1:5556",
      "default: 1000 ms",
      "ZG_PPQUEUE_HEARTBEAT_LIVENESS",
      "--max-message-size",
      "default: 16777216   env: ZG_PPQUEUE_MAX_MESSAGE_SIZE",
      "--metrics",
    ]) {
      expect(r.stdout).toContain(text);
    }
  });
  it("exits 1 with one fatal line when a component's socket reader dies", async () => {
    const app = spawnApp(bin, [...ephemeral], { execArgv: RECEIVE_FAULT_PRELOAD });
    await app.ready();
    const line = await expectFatalExit(app);
    expect(line.component).toBe("ppqueue");
    console.log(`ppqueue: 1 receive fault → exit 1, fatal line: ${String(line.msg)}`);
  });
});
