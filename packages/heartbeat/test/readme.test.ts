import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { runReadmeQuickStart } from "@zg/testing";
import {
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_LIVENESS,
  MAX_HEARTBEAT_INTERVAL,
  MAX_TRANSPORT_HEARTBEAT_TTL,
  MIN_HEARTBEAT_INTERVAL,
} from "../src/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const fmt = (n: number) => (n < 10_000 ? String(n) : n.toLocaleString("en-US").replace(/,/g, " "));

test("the README options table states the exported defaults", () => {
  const rows: [string, string][] = [
    ["DEFAULT_HEARTBEAT_INTERVAL", `${fmt(DEFAULT_HEARTBEAT_INTERVAL)} ms`],
    ["DEFAULT_HEARTBEAT_LIVENESS", `${DEFAULT_HEARTBEAT_LIVENESS}`],
    ["MIN_HEARTBEAT_INTERVAL", `${MIN_HEARTBEAT_INTERVAL} ms`],
    ["MAX_HEARTBEAT_INTERVAL", `${fmt(MAX_HEARTBEAT_INTERVAL)} ms`],
    ["MAX_TRANSPORT_HEARTBEAT_TTL", `${fmt(MAX_TRANSPORT_HEARTBEAT_TTL)} ms`],
  ];
  for (const [name, value] of rows) expect(readme).toContain(`| \`${name}\` | ${value} |`);
});

test("the README wire table matches the codec", () => {
  expect(readme).toContain("`ZGHB01`, 6 ASCII bytes");
  expect(readme).toContain("`0x01` HEARTBEAT (one-way), `0x02` PING, `0x03` PONG");
});

test("the README quick start runs: starts, uses and closes, and the process exits", async () => {
  const { lines, run } = await runReadmeQuickStart(readme, new URL("../.tmp/", import.meta.url));
  expect(lines).toBeLessThanOrEqual(15);
  expect(run.timedOut, run.output).toBe(false);
  expect(run.code, run.output).toBe(0);
}, 20_000);
