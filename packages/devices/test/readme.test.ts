import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { runScript } from "@zg/testing";
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
  const section = readme.slice(readme.indexOf("## Quick start"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toBeDefined();
  expect((code as string).trim().split("\n").length).toBeLessThanOrEqual(15);
  const dir = fileURLToPath(new URL("../.tmp/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}quick-start.ts`;
  writeFileSync(file, code as string);
  const r = await runScript(file);
  expect(r.timedOut, r.output).toBe(false);
  expect(r.code, r.output).toBe(0);
}, 20_000);
