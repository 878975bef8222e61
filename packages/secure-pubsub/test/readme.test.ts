import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { runReadmeQuickStart } from "@zg/testing";
import {
  DEFAULT_CERT_RELOAD_INTERVAL,
  DEFAULT_LOGIN_TIMEOUT,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_PENDING_LOGINS,
  DEFAULT_MAX_SUBSCRIPTIONS,
  DEFAULT_REFRESH_INTERVAL,
  DEFAULT_REFRESH_LIVENESS,
  DEFAULT_REQUEST_TIMEOUT,
  DEFAULT_ZAP_POLICY_TIMEOUT,
  DEFAULT_GRACE_WINDOW,
  DEFAULT_ROTATE_INTERVAL,
  DEFAULT_ROTATE_AFTER,
  DEFAULT_EPOCH_HISTORY,
  REPLAY_WINDOW_SIZE,
} from "../src/index.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const fmt = (n: number) => (n < 10_000 ? String(n) : n.toLocaleString("en-US").replace(/,/g, " "));

test("the README options table states the exported defaults", () => {
  const rows: [string, string][] = [
    ["DEFAULT_CERT_RELOAD_INTERVAL", `${fmt(DEFAULT_CERT_RELOAD_INTERVAL)} ms`],
    ["DEFAULT_ZAP_POLICY_TIMEOUT", `${fmt(DEFAULT_ZAP_POLICY_TIMEOUT)} ms`],
    ["DEFAULT_REFRESH_INTERVAL", `${fmt(DEFAULT_REFRESH_INTERVAL)} ms`],
    ["DEFAULT_REFRESH_LIVENESS", `${DEFAULT_REFRESH_LIVENESS}`],
    ["DEFAULT_LOGIN_TIMEOUT", `${fmt(DEFAULT_LOGIN_TIMEOUT)} ms`],
    ["DEFAULT_MAX_CLIENTS", fmt(DEFAULT_MAX_CLIENTS)],
    ["DEFAULT_MAX_PENDING_LOGINS", fmt(DEFAULT_MAX_PENDING_LOGINS)],
    ["DEFAULT_MAX_SUBSCRIPTIONS", fmt(DEFAULT_MAX_SUBSCRIPTIONS)],
    ["DEFAULT_REQUEST_TIMEOUT", `${fmt(DEFAULT_REQUEST_TIMEOUT)} ms`],
    ["DEFAULT_GRACE_WINDOW", `${fmt(DEFAULT_GRACE_WINDOW)} ms`],
    ["DEFAULT_ROTATE_INTERVAL", `${fmt(DEFAULT_ROTATE_INTERVAL)} ms`],
    ["DEFAULT_ROTATE_AFTER", fmt(DEFAULT_ROTATE_AFTER)],
    ["DEFAULT_EPOCH_HISTORY", fmt(DEFAULT_EPOCH_HISTORY)],
    ["REPLAY_WINDOW_SIZE", `${REPLAY_WINDOW_SIZE}`],
  ];
  for (const [name, value] of rows) expect(readme).toContain(`| \`${name}\` | ${value} |`);
});

test("the README quick start runs: starts, uses and closes, and the process exits", async () => {
  const { lines, run } = await runReadmeQuickStart(readme, new URL("../.tmp/", import.meta.url));
  expect(lines).toBeLessThanOrEqual(15);
  expect(run.timedOut, run.output).toBe(false);
  expect(run.code, run.output).toBe(0);
  expect(run.output).toContain("hello");
}, 20_000);
