import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { runScript } from "@zg/testing";
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
  const section = readme.slice(readme.indexOf("## Quick start"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(code).toBeDefined();
  expect((code as string).trim().split("\n").length).toBeLessThanOrEqual(15);
  // Inside the package (self-reference "@zg/heartbeat" resolves to src/ through the @zg/source condition).
  const dir = fileURLToPath(new URL("../.tmp/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}quick-start.ts`;
  writeFileSync(file, code as string);
  const r = await runScript(file);
  expect(r.timedOut, r.output).toBe(false);
  expect(r.code, r.output).toBe(0);
}, 20_000);
