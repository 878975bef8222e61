// The README's part-2 option tables must match the exported defaults (conventions §3: stops drift).
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import * as pirate from "../src/index.js";

const PART2 = [
  "DEFAULT_MDP_HEARTBEAT_INTERVAL",
  "DEFAULT_MDP_HEARTBEAT_LIVENESS",
  "DEFAULT_MDP_REQUEST_EXPIRY",
  "DEFAULT_MDP_SERVICE_TTL",
  "DEFAULT_MDP_MAX_QUEUED",
  "DEFAULT_MDP_MAX_SERVICES",
  "DEFAULT_MDP_MAX_QUEUED_PER_CLIENT",
  "DEFAULT_MDP_MAX_QUEUED_BYTES",
  "DEFAULT_MDP_MAX_PENDING_SERVICES",
  "DEFAULT_MDP_MAX_SERVICE_STATS",
  "DEFAULT_MDP_REQUEST_TIMEOUT",
  "DEFAULT_MDP_MAX_MESSAGE_SIZE",
  "DEFAULT_MDP_PEER_BACKLOG",
  "DEFAULT_MDP_BACKLOG_BYTES",
  "DEFAULT_MDP_SEND_QUEUE_LIMIT",
  "DEFAULT_MDP_REQUEUE_LIMIT",
  "DEFAULT_MDP_RECONNECT_DELAY",
  "DEFAULT_MDP_CLIENT_TIMEOUT",
  "DEFAULT_MDP_CLIENT_ATTEMPTS",
  "DEFAULT_MDP_MAX_IN_FLIGHT",
  "DEFAULT_MDP_FEDERATION_STATE_INTERVAL",
  "DEFAULT_MDP_FEDERATION_PEER_LIVENESS",
  "DEFAULT_MDP_FEDERATION_FORWARD_TIMEOUT",
  "DEFAULT_MDP_FEDERATION_MAX_HOPS",
  "DEFAULT_TITANIC_FSYNC_INTERVAL",
  "DEFAULT_TITANIC_DISPATCH_INTERVAL",
  "DEFAULT_TITANIC_DISPATCH_TIMEOUT",
  "DEFAULT_TITANIC_DISPATCH_CONCURRENCY",
  "DEFAULT_TITANIC_FIRST_POLL",
  "DEFAULT_TITANIC_MAX_POLL",
  "DEFAULT_TITANIC_MAX_BODY",
  "DEFAULT_TITANIC_COMPACT_MIN_BYTES",
  "DEFAULT_TITANIC_RESYNC_LIMIT",
] as const;

test("README part-2 sections state the exported Majordomo and Titanic defaults", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const part2 = readme.slice(
    readme.indexOf("<!-- part 2: Majordomo and Titanic sections below -->"),
  );
  const stated = new Map<string, number>();
  for (const m of part2.matchAll(/`(DEFAULT_[A-Z0-9_]+)` = (\d[\d ]*)/g)) {
    stated.set(m[1] as string, Number((m[2] as string).replace(/ /g, "")));
  }
  for (const name of PART2) {
    expect(stated.get(name), name).toBe((pirate as unknown as Record<string, number>)[name]);
  }
  expect(part2).toContain('`"always"` (default)');
  expect(part2).toContain(pirate.MDP_ERROR_MARKER);
});
