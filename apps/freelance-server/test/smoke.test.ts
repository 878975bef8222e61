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
import { FreelanceClient } from "@zg/pirate";
import { closeAfter } from "@zg/testing";

const bin = builtBin(import.meta.url);

describe("zg-freelance-server (built bin)", () => {
  it("serves a 10/FLP round trip (model 3) and stops cleanly on SIGTERM", async () => {
    const app = spawnApp(bin, ["--endpoint", "tcp://127.0.0.1:*"]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ app: "freelance-server", model: 3 });
    const [endpoint] = ready.endpoints["server"] ?? [];
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);

    const client = closeAfter(new FreelanceClient({ servers: [endpoint ?? ""], model: 3 }));
    await client.start();
    const reply = await client.request(["hello"]);
    expect(reply.map(String)).toEqual(["OK"]);

    await expectCleanStop(app);
  });

  it("refuses a port in use with one line naming --endpoint", async () => {
    const holder = new zmq.Router({ linger: 0 });
    await holder.bind("tcp://127.0.0.1:*");
    try {
      const r = await runAppToExit(bin, ["--endpoint", holder.lastEndpoint ?? "", "--model", "1"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `zg-freelance-server: error: cannot bind ${holder.lastEndpoint}: address already in use; change --endpoint (or ZG_FREELANCE_SERVER_ENDPOINT)\n`,
      );
    } finally {
      holder.close();
    }
  });

  it("refuses an unknown model with one line and exit code 2", async () => {
    const r = await runAppToExit(bin, ["--endpoint", "tcp://127.0.0.1:*", "--model", "4"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "zg-freelance-server: error: --model: expected 1, 2 or 3, got 4; change --model (or ZG_FREELANCE_SERVER_MODEL)\n",
    );
  });
  it("exits 1 with one fatal line when a component's socket reader dies", async () => {
    const app = spawnApp(bin, ["--endpoint", "tcp://127.0.0.1:*"], {
      execArgv: RECEIVE_FAULT_PRELOAD,
    });
    await app.ready();
    const line = await expectFatalExit(app);
    expect(line.component).toBe("freelance_server");
    console.log(`freelance-server: 1 receive fault → exit 1, fatal line: ${String(line.msg)}`);
  });
});
