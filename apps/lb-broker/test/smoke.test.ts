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
import { LazyPirateClient } from "@zg/pirate";
import { closeAfter } from "@zg/testing";

const bin = builtBin(import.meta.url);

describe("zg-lb-broker (built bin)", () => {
  it("starts, serves one round trip through a READY worker, and stops cleanly on SIGTERM", async () => {
    const app = spawnApp(bin, [
      "--frontend",
      "tcp://127.0.0.1:*",
      "--backend",
      "tcp://127.0.0.1:*",
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    const [frontend] = ready.endpoints["frontend"] ?? [];
    const [backend] = ready.endpoints["backend"] ?? [];

    // A worker as in lbbroker.c: REQ, sends READY, then echoes each [client][""][body].
    const worker = new zmq.Request({ linger: 0 });
    worker.connect(backend ?? "");
    await worker.send("READY");
    const serving = (async () => {
      const request = await worker.receive();
      await worker.send(request);
    })();
    const client = closeAfter(
      new LazyPirateClient({ server: frontend ?? "", timeout: 2500, attempts: 3 }),
    );
    await client.start();
    const reply = await client.request(["hello"]);
    expect(reply.map(String)).toEqual(["hello"]);
    await serving;
    worker.close();

    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_lb_broker_replies_forwarded_total 1$/m);

    await expectCleanStop(app);
  });

  it("refuses a backend port in use with one line naming --backend", async () => {
    const holder = new zmq.Router({ linger: 0 });
    await holder.bind("tcp://127.0.0.1:*");
    try {
      const r = await runAppToExit(bin, [
        "--frontend",
        "tcp://127.0.0.1:*",
        "--backend",
        holder.lastEndpoint ?? "",
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `zg-lb-broker: error: cannot bind ${holder.lastEndpoint}: address already in use; change --backend (or ZG_LB_BROKER_BACKEND)\n`,
      );
    } finally {
      holder.close();
    }
  });

  it("refuses a malformed endpoint with one line and exit code 2", async () => {
    const r = await runAppToExit(bin, ["--frontend", "127.0.0.1:5555"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'zg-lb-broker: error: --frontend: not a ZeroMQ endpoint: "127.0.0.1:5555" (expected e.g. tcp://127.0.0.1:5555); change --frontend (or ZG_LB_BROKER_FRONTEND)\n',
    );
  });
  it("exits 1 with one fatal line when a component's socket reader dies", async () => {
    const app = spawnApp(
      bin,
      ["--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*"],
      { execArgv: RECEIVE_FAULT_PRELOAD },
    );
    await app.ready();
    const line = await expectFatalExit(app);
    expect(line.component).toBe("lb_broker");
    console.log(`lb-broker: 1 receive fault → exit 1, fatal line: ${String(line.msg)}`);
  });
});
