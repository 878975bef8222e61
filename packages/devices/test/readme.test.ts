import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { runReadmeQuickStart } from "@zg/testing";
import {
  DEFAULT_CAPTURE_BUFFER,
  DEFAULT_CLOCK_RESOLUTIONS,
  DEFAULT_DUMP_FRAME_BYTES,
  DEFAULT_LOG_BUFFER,
  DEFAULT_LOG_FILE_BYTES,
  DEFAULT_LOG_MAX_FILES,
  DEFAULT_LOG_RESEND,
  DEFAULT_LOG_ROTATE_INTERVAL,
  DEFAULT_LOG_WINDOW,
  DEFAULT_TICK_BUFFER,
  DEFAULT_TRACE_MAX_PEERS,
  DEFAULT_TRACE_PEER_IDLE,
  MAX_CLOCK_PERIOD,
  MIN_CLOCK_PERIOD,
  resolutionName,
} from "../src/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const fmt = (n: number) => (n < 10_000 ? String(n) : n.toLocaleString("en-US").replace(/,/g, " "));

test("the README options table states the exported defaults", () => {
  const rows: [string, string][] = [
    [
      "DEFAULT_CLOCK_RESOLUTIONS",
      DEFAULT_CLOCK_RESOLUTIONS.map(resolutionName)
        .join(", ")
        .replace(/(\d+)(ms|s|m)\b/g, (_, n: string, u: string) => `${n} ${u === "m" ? "min" : u}`),
    ],
    ["MIN_CLOCK_PERIOD", `${MIN_CLOCK_PERIOD} ms`],
    ["MAX_CLOCK_PERIOD", `${fmt(MAX_CLOCK_PERIOD)} ms`],
    ["DEFAULT_TICK_BUFFER", `${DEFAULT_TICK_BUFFER}`],
    ["DEFAULT_CAPTURE_BUFFER", fmt(DEFAULT_CAPTURE_BUFFER)],
    ["DEFAULT_LOG_BUFFER", fmt(DEFAULT_LOG_BUFFER)],
    ["DEFAULT_LOG_WINDOW", fmt(DEFAULT_LOG_WINDOW)],
    ["DEFAULT_LOG_RESEND", `${fmt(DEFAULT_LOG_RESEND)} ms`],
    ["DEFAULT_LOG_FILE_BYTES", fmt(DEFAULT_LOG_FILE_BYTES)],
    ["DEFAULT_LOG_ROTATE_INTERVAL", `${fmt(DEFAULT_LOG_ROTATE_INTERVAL)} ms`],
    ["DEFAULT_LOG_MAX_FILES", fmt(DEFAULT_LOG_MAX_FILES)],
    ["DEFAULT_TRACE_MAX_PEERS", fmt(DEFAULT_TRACE_MAX_PEERS)],
    ["DEFAULT_TRACE_PEER_IDLE", `${fmt(DEFAULT_TRACE_PEER_IDLE)} ms`],
    ["DEFAULT_DUMP_FRAME_BYTES", `${DEFAULT_DUMP_FRAME_BYTES}`],
  ];
  for (const [name, value] of rows) expect(readme).toContain(`| \`${name}\` | ${value} |`);
});

test("the README quick start runs: starts, uses and closes, and the process exits", async () => {
  const { lines, run } = await runReadmeQuickStart(readme, new URL("../.tmp/", import.meta.url));
  expect(lines).toBeLessThanOrEqual(15);
  expect(run.timedOut, run.output).toBe(false);
  expect(run.code, run.output).toBe(0);
}, 20_000);
