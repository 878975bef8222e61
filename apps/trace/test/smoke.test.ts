import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { parseJsonLine } from "@zg/devices";
import { MajordomoBroker, MajordomoClient, MajordomoWorker } from "@zg/pirate";
import { closeAfter, tcpEndpoint, tempDir } from "@zg/testing";

const bin = builtBin(import.meta.url);

describe("zg-trace (built bin)", () => {
  it("in front of a Majordomo broker: a client's round trip works and its MDP frames are in the capture and the dump", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint() }));
    const { endpoints } = await broker.start();
    const dir = tempDir();
    const capture = join(dir, "mdp.jsonl");
    const dump = join(dir, "mdp.txt");
    const app = spawnApp(bin, [
      "--frontend",
      "tcp://127.0.0.1:*",
      "--backend",
      endpoints[0] ?? "",
      "--capture",
      capture,
      "--dump",
      dump,
      "--metrics",
      "127.0.0.1:0",
    ]);
    const ready = await app.ready();
    expect(ready).toMatchObject({ app: "trace", mode: "router-dealer", capture, dump });
    const [frontend] = ready.endpoints["frontend"] ?? [];
    expect(frontend).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);

    const worker = closeAfter(
      new MajordomoWorker({ broker: frontend ?? "", service: "echo", handler: (m) => m }),
    );
    await worker.start();
    const client = closeAfter(new MajordomoClient({ broker: frontend ?? "" }));
    await client.start();
    const reply = await client.request("echo", ["hello"]);
    expect(reply.map(String)).toEqual(["hello"]);
    const metrics = await (await fetch(String(ready["metrics"]))).text();
    expect(metrics).toMatch(/^zg_trace_forwarded_f2b_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^zg_trace_jsonl_dropped_total 0$/m);
    await client.close();
    await worker.close();
    await expectCleanStop(app);

    const records = (await readFile(capture, "utf8"))
      .split("\n")
      .filter((l) => l !== "")
      .map(parseJsonLine);
    const text = records.map((r) => r.frames.map((f) => f.toString("latin1")));
    expect(records.filter((r) => r.dir === "f2b").map((r) => r.frames.map(String))).toContainEqual([
      "",
      "MDPC01",
      "echo",
      "hello",
    ]);
    expect(text.some((m) => m[1] === "MDPW01")).toBe(true); // the worker's READY, heartbeats, reply
    expect(records.filter((r) => r.dir === "b2f").map((r) => r.frames.map(String))).toContainEqual([
      "",
      "MDPC01",
      "echo",
      "hello",
    ]);
    const human = await readFile(dump, "utf8");
    expect(human).toMatch(
      /frontend → backend peer [0-9a-f]+ \(4 frames\)\n {2}\[000\] \n {2}\[006\] MDPC01\n {2}\[004\] echo\n {2}\[005\] hello\n/,
    );
  }, 30_000);

  it("refuses bad options with one line naming the option", async () => {
    const mode = await runAppToExit(bin, ["--mode", "pair"]);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toMatch(
      /^zg-trace: error: --mode: expected one of router-dealer, xsub-xpub, pull-push, got "pair"/,
    );
    const bind = await runAppToExit(bin, ["--frontend", "tcp://127.0.0.1:*", "--backend-bind"]);
    expect(bind.code).toBe(2);
    expect(bind.stderr).toBe(
      "zg-trace: error: --backend-bind: router-dealer connects one DEALER per client; change --backend-bind (or ZG_TRACE_BACKEND_BIND)\n",
    );
    const file = await runAppToExit(bin, [
      "--frontend",
      "tcp://127.0.0.1:*",
      "--capture",
      "/nonexistent/dir/x.jsonl",
    ]);
    expect(file.code).toBe(1);
    expect(file.stderr).toMatch(
      /^zg-trace: error: --capture: cannot open \/nonexistent\/dir\/x\.jsonl: ENOENT/,
    );
  });

  it("lists every option with its default in --help", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "--mode <text>",
      "default: router-dealer",
      "default: tcp://127.0.0.1:5555",
      "default: tcp://127.0.0.1:5556",
      "--capture <text>",
      "ZG_TRACE_DUMP",
      "--metrics",
    ]) {
      expect(r.stdout).toContain(text);
    }
  });
});
