import { describe, expect, it } from "vitest";
import { buildRows, federationNotes, renderStatus, type BrokerSnapshots } from "../src/status.js";

const snapshot = (at: number, served: number, forwarded: number): BrokerSnapshots => ({
  at,
  majordomo: {
    components: {
      majordomo_broker: {
        workers: 3,
        requests: 10,
        replies: 9,
        workersExpired: 1,
        requeued: 1,
        expired: 0,
        refused: 0,
        perService: {
          echo: { workers: 2, queued: 0, served, expired: 0, p50: 0.5, p99: 2 },
          "titanic.request": { workers: 1, queued: 0, served: 1, expired: 0, p50: 1, p99: 1 },
          "mmi.service": { workers: 0, queued: 0, served: 1, expired: 0, p50: 0, p99: 0 },
        },
      },
      majordomo_workers_removed: {
        perService: { echo: { expired: 1, disconnected: 3, unreachable: 1, violation: 0 } },
      },
      titanic: {
        accepted: 4,
        completed: 3,
        dispatchFailures: 0,
        store: { pending: 1, bytes: 2048 },
      },
    },
  },
  ppqueue: {
    components: {
      ppqueue: {
        workers: 2,
        queued: 1,
        repliesForwarded: forwarded,
        workersPurged: 1,
        heartbeatsSent: 5,
        latency: { p50: 1, p99: 3 },
      },
    },
  },
});

describe("status", () => {
  it("computes per-service rows and rates from two snapshots", () => {
    const { rows, notes } = buildRows(snapshot(0, 10, 100), snapshot(2000, 30, 120), {
      workers: new Map([
        ["ppp", [{ type: "worker", handled: 1, heartbeatsSent: 2, connects: 1 }]],
        [
          "mdp echo",
          [
            { type: "worker", handled: 3, heartbeatsSent: 4, connects: 1 },
            { type: "worker", handled: 3, heartbeatsSent: 1, connects: 2 },
          ],
        ],
      ]),
      client: {
        type: "client",
        flows: { "mdp echo": { ok: 5, failed: 1, latencies: [1, 2, 3], lastError: "timeout" } },
        config: { "echo-period": 100 },
      },
      restarts: new Map([["mdp echo", 2]]),
    });
    expect(rows).toEqual([
      {
        name: "mdp echo",
        workers: 2,
        queued: 0,
        rate: 10,
        p50: 0.5,
        p99: 2,
        expired: 0,
        purged: 2,
        heartbeats: 5,
        restarts: 2,
      },
      {
        name: "ppp (ppqueue)",
        workers: 2,
        queued: 1,
        rate: 10,
        p50: 1,
        p99: 3,
        expired: undefined,
        purged: 1,
        heartbeats: 7,
        restarts: 0,
      },
    ]);
    expect(notes.join("\n")).toContain("titanic: accepted 4, completed 3, pending 1");
    expect(notes.join("\n")).toContain("mdp echo 5 ok/1 failed (p50 2.0 ms)");
    expect(notes.join("\n")).toContain("mdp echo: last failure: timeout");
  });

  it("renders an aligned plain-text table", () => {
    const lines = renderStatus({
      uptimeMs: 65_000,
      clock: "12:00:00",
      endpoints: ["broker tcp://127.0.0.1:1"],
      rows: [
        {
          name: "mdp echo",
          workers: 2,
          queued: 0,
          rate: 10,
          p50: 0.5,
          p99: 2,
          expired: 0,
          purged: undefined,
          heartbeats: undefined,
          restarts: 1,
        },
      ],
      notes: ["note"],
      events: ["12:00:00 killed mdp-echo-1"],
    });
    expect(lines[0]).toBe("zg reference system   up 1:05   12:00:00   Ctrl-C stops everything");
    expect(lines[3]).toBe(
      "SERVICE   WORKERS  QUEUED  REQ/S  P50 ms  P99 ms  EXPIRED  PURGED  HEARTBEATS  RESTARTS",
    );
    expect(lines[4]).toBe(
      "mdp echo        2       0   10.0     0.5     2.0        0       -           -         1",
    );
    expect(lines.at(-1)).toBe("  12:00:00 killed mdp-echo-1");
  });

  it("shows a federated broker's peers (none when not federated)", () => {
    expect(federationNotes({ workers: 1 })).toEqual([]);
    const lines = federationNotes({
      federation: {
        name: "A",
        forwarded: 7,
        returned: 6,
        failed: 1,
        requestsIn: 0,
        perPeer: {
          B: {
            up: 1,
            services: 2,
            workers: 3,
            idleWorkers: 1,
            inFlight: 0,
            forwarded: 7,
            returned: 6,
            failed: 1,
            losses: 1,
          },
        },
      },
    });
    expect(lines).toEqual([
      "federation A: forwarded 7, returned 6, failed over 1, requests from peers 0",
      "  peer B: up, 2 services, 3 workers, capacity 1, in flight 0, forwarded 7, returned 6, failed 1, losses 1",
    ]);
  });
});
