import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { builtBin, expectCleanStop, runAppToExit, spawnApp } from "@zg/app-kit/testing";
import { LogPublisher } from "@zg/devices";
import { closeAfter, tempDir, waitFor } from "@zg/testing";

const bin = builtBin(import.meta.url);
const cli = join(dirname(bin), "zg-log.js");

describe("zg-log-broker and zg-log tail (built bins)", () => {
  it("stores records in --dir, and zg-log tail replays them filtered, as text or JSON; the broker stops cleanly", async () => {
    const dir = join(tempDir(), "logs");
    const app = spawnApp(bin, ["--dir", dir, "--endpoint", "tcp://127.0.0.1:*"]);
    const ready = await app.ready();
    const [endpoint] = ready.endpoints["endpoint"] ?? [];
    expect(ready).toMatchObject({ app: "log-broker", dir, stored: 0 });

    const pub = closeAfter(new LogPublisher({ broker: endpoint ?? "", app: "shop" }));
    await pub.start();
    for (let i = 0; i < 20; i++) pub.log(i % 2 === 0 ? "info" : "warn", `event ${i}`, { i });
    await waitFor(() => pub.stats().acknowledged === 20, { what: "20 records acknowledged" });
    expect((await readdir(dir)).some((f) => f.endsWith(".jsonl"))).toBe(true);

    const json = await runAppToExit(cli, [
      "tail",
      "--broker",
      endpoint ?? "",
      "--level",
      "W",
      "--last",
      "3",
      "--json",
      "--no-follow",
    ]);
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string; level: string; app: string });
    expect(lines.map((l) => l.msg)).toEqual(["event 15", "event 17", "event 19"]);
    expect(lines.every((l) => l.level === "warn" && l.app === "shop")).toBe(true);

    const text = await runAppToExit(cli, [
      "tail",
      "--broker",
      endpoint ?? "",
      "--app",
      "shop",
      "--since",
      "10m",
      "--no-follow",
    ]);
    expect(text.code, text.stderr).toBe(0);
    const rows = text.stdout.trim().split("\n");
    expect(rows).toHaveLength(20);
    expect(rows[1]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z WARN {2}shop\[\d+\]@\S+ event 1 \{"i":1\}$/);

    await expectCleanStop(app);
  }, 30_000);

  it("zg-log refuses bad input with one line", async () => {
    const cases: [string[], RegExp][] = [
      [["tail", "--level", "loud"], /^zg-log: error: --level: expected D, I, W, E/],
      [["tail", "--since", "yesterday"], /^zg-log: error: --since: expected a duration/],
      [["tail", "--last", "-1"], /^zg-log: error: /],
      [["tail", "--colour"], /^zg-log: error: Unknown option '--colour'; see --help\n$/],
      [["follow"], /^zg-log: error: expected the command "tail"/],
      [["tail", "--broker", "localhost:5570"], /^zg-log: error: --broker: not a ZeroMQ endpoint/],
    ];
    for (const [args, want] of cases) {
      const r = await runAppToExit(cli, args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(want);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
  }, 30_000);

  it("zg-log-broker lists every option with its default in --help", async () => {
    const r = await runAppToExit(bin, ["--help"]);
    expect(r.code).toBe(0);
    for (const text of [
      "--dir <dir>",
      "default: ./zg-logs",
      "default: tcp://127.0.0.1:5570",
      "ZG_LOG_BROKER_MAX_FILES",
      "--log-broker",
    ]) {
      expect(r.stdout).toContain(text);
    }
  });
});
