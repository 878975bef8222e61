// The README's part-1 option tables must match the exported defaults (conventions §3: stops drift).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
import { runScript, tempDir } from "@zg/testing";
import * as pirate from "../src/index.js";

const PART1 = [
  "DEFAULT_MAX_QUEUED",
  "DEFAULT_MAX_WORKERS",
  "DEFAULT_CLIENT_EXPIRY",
  "DEFAULT_MAX_CLIENTS",
  "DEFAULT_ASYNC_CLIENT_BUFFER",
  "DEFAULT_LAZY_PIRATE_TIMEOUT",
  "DEFAULT_LAZY_PIRATE_ATTEMPTS",
  "DEFAULT_PPP_HEARTBEAT_INTERVAL",
  "DEFAULT_PPP_HEARTBEAT_LIVENESS",
  "DEFAULT_PPP_EXPIRY_GRANULARITY",
  "DEFAULT_PPP_RECONNECT_DELAY",
  "DEFAULT_PPP_RECONNECT_MAX_DELAY",
  "DEFAULT_FL1_TIMEOUT",
  "DEFAULT_FL1_ATTEMPTS",
  "DEFAULT_FL2_TIMEOUT",
  "DEFAULT_FL3_TIMEOUT",
  "DEFAULT_FL3_PING_INTERVAL",
  "DEFAULT_FL3_SERVER_TTL",
  "DEFAULT_FL3_RESEND_INTERVAL",
  "DEFAULT_FL3_CONNECT_PING",
  "DEFAULT_MDP_MAX_MESSAGE_SIZE",
] as const;

test("README option tables state the exported part-1 defaults", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const stated = new Map<string, number>();
  for (const m of readme.matchAll(
    /(\d[\d ]*)(?: ms)?(?: per attempt)? \(`(DEFAULT_[A-Z0-9_]+)`\)/g,
  )) {
    stated.set(m[2] as string, Number((m[1] as string).replace(/ /g, "")));
  }
  for (const name of PART1) {
    expect(stated.get(name), name).toBe((pirate as unknown as Record<string, number>)[name]);
  }
  expect(pirate.DEFAULT_OVERFLOW_POLICY).toBe("backpressure");
  expect(readme).toContain('`"backpressure"` (default)');
});

test("the README quick start runs as written (starts, uses, closes; the process exits)", async () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const block = /## Quick start[^\n]*\n+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(block).toBeDefined();
  const lines = (block as string).trim().split("\n");
  expect(lines.length).toBeLessThanOrEqual(15); // conventions §7
  const src = fileURLToPath(new URL("../src/index.ts", import.meta.url));
  const file = join(tempDir("zg-readme-"), "quickstart.mts");
  writeFileSync(
    file,
    (block as string).replace(/from "@zg\/pirate"/, `from ${JSON.stringify(src)}`),
  );
  const r = await runScript(file);
  expect(r.timedOut, r.output).toBe(false);
  expect(r.code, r.output).toBe(0);
  expect(r.stdout).toContain("echo hello");
}, 20_000);
