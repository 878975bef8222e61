import { quantile } from "@zg/core/pure";
import type { ClientReport, WorkerReport } from "./ipc.js";

/** One line of the per-service table. */
export interface ServiceRow {
  /** e.g. `mdp echo`, `ppp (ppqueue)`. */
  name: string;
  workers: number;
  queued: number;
  /** Replies per second over the last interval. */
  rate: number;
  /** Broker-side latency, ms. */
  p50: number;
  p99: number;
  /** Requests expired (MDP `"504"`); undefined where the broker has no such count. */
  expired: number | undefined;
  /** Workers purged after heartbeat silence; undefined where not counted per service. */
  purged: number | undefined;
  /** Heartbeats sent (broker + workers); undefined where not counted. */
  heartbeats: number | undefined;
  /** Worker restarts by the launcher. */
  restarts: number;
}

/** What one status screen shows. */
export interface StatusModel {
  uptimeMs: number;
  clock: string;
  endpoints: string[];
  rows: ServiceRow[];
  /** Free-form summary lines (broker totals, Titanic, clients). */
  notes: string[];
  /** Recent launcher events, newest last. */
  events: string[];
}

type Json = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});

/** The `/stats` JSON of the two brokers, as read by the launcher. */
export interface BrokerSnapshots {
  /** `/stats` of zg-majordomo-broker (components `majordomo_broker` and `titanic`). */
  majordomo: Json | undefined;
  /** `/stats` of zg-ppqueue (component `ppqueue`). */
  ppqueue: Json | undefined;
  /** `/stats` of the federated second Majordomo broker (with `--federation`). */
  majordomoB?: Json | undefined;
  /** When they were read (ms, monotonic). */
  at: number;
}

/** Per-service inputs from the demo processes and the launcher. */
export interface DemoInputs {
  /** Worker reports by service key (`mdp echo`, `ppp`). */
  workers: Map<string, WorkerReport[]>;
  /** The demo client's report. */
  client: ClientReport | undefined;
  /** Restarts by service key. */
  restarts: Map<string, number>;
}

/** Workers the broker removed for silence, a failed send or a protocol violation (not a clean DISCONNECT). */
function purgedOf(counts: Json): number {
  return num(counts["expired"]) + num(counts["unreachable"]) + num(counts["violation"]);
}

/**
 * Builds the table rows and notes from two successive broker snapshots (for
 * rates) and the demo inputs.
 */
export function buildRows(
  prev: BrokerSnapshots | undefined,
  cur: BrokerSnapshots,
  demo: DemoInputs,
): { rows: ServiceRow[]; notes: string[] } {
  const dt = prev === undefined ? 0 : Math.max(0.001, (cur.at - prev.at) / 1000);
  const rate = (now: number, before: number | undefined): number =>
    dt === 0 || before === undefined ? 0 : Math.max(0, (now - before) / dt);
  const rows: ServiceRow[] = [];
  const notes: string[] = [];

  const md = obj(obj(cur.majordomo?.["components"])["majordomo_broker"]);
  const mdPrev = obj(obj(prev?.majordomo?.["components"])["majordomo_broker"]);
  const perService = obj(md["perService"]);
  const perServicePrev = obj(mdPrev["perService"]);
  const removed = obj(
    obj(obj(cur.majordomo?.["components"])["majordomo_workers_removed"])["perService"],
  );
  for (const service of Object.keys(perService).sort()) {
    if (service.startsWith("mmi.") || service.startsWith("titanic.")) continue;
    const s = obj(perService[service]);
    const before =
      perServicePrev[service] === undefined
        ? undefined
        : num(obj(perServicePrev[service])["served"]);
    const key = `mdp ${service}`;
    rows.push({
      name: key,
      workers: num(s["workers"]),
      queued: num(s["queued"]),
      rate: rate(num(s["served"]), before),
      p50: num(s["p50"]),
      p99: num(s["p99"]),
      expired: num(s["expired"]),
      purged: purgedOf(obj(removed[service])),
      heartbeats: (demo.workers.get(key) ?? []).reduce(
        (sum, w) => sum + (w.heartbeatsSent ?? 0),
        0,
      ),
      restarts: demo.restarts.get(key) ?? 0,
    });
  }
  if (cur.majordomo !== undefined) {
    notes.push(
      `majordomo broker: ${num(md["workers"])} workers, ${num(md["requests"])} requests, ${num(md["replies"])} replies, ` +
        `workers expired ${num(md["workersExpired"])}, heartbeats to workers ${num(md["heartbeatsSent"])}, requests re-queued ${num(md["requeued"])}, expired ${num(md["expired"])}, refused ${num(md["refused"])}`,
    );
    const ti = obj(obj(cur.majordomo["components"])["titanic"]);
    const store = obj(ti["store"]);
    notes.push(
      `titanic: accepted ${num(ti["accepted"])}, completed ${num(ti["completed"])}, pending ${num(store["pending"])}, ` +
        `dispatch retries ${num(ti["dispatchFailures"])}, log ${Math.round(num(store["bytes"]) / 1024)} KiB`,
    );
  }

  notes.push(
    ...federationNotes(md),
    ...federationNotes(obj(obj(cur.majordomoB?.["components"])["majordomo_broker"])),
  );

  const pp = obj(obj(cur.ppqueue?.["components"])["ppqueue"]);
  const ppPrev = obj(obj(prev?.ppqueue?.["components"])["ppqueue"]);
  if (cur.ppqueue !== undefined) {
    const latency = obj(pp["latency"]);
    const workerHeartbeats = (demo.workers.get("ppp") ?? []).reduce(
      (sum, w) => sum + (w.heartbeatsSent ?? 0),
      0,
    );
    rows.push({
      name: "ppp (ppqueue)",
      workers: num(pp["workers"]),
      queued: num(pp["queued"]),
      rate: rate(
        num(pp["repliesForwarded"]),
        prev?.ppqueue === undefined ? undefined : num(ppPrev["repliesForwarded"]),
      ),
      p50: num(latency["p50"]),
      p99: num(latency["p99"]),
      expired: undefined,
      purged: num(pp["workersPurged"]),
      heartbeats: num(pp["heartbeatsSent"]) + workerHeartbeats,
      restarts: demo.restarts.get("ppp") ?? 0,
    });
  }

  if (demo.client !== undefined) {
    const parts = Object.entries(demo.client.flows).map(([flow, f]) => {
      const sorted = [...f.latencies].sort((a, b) => a - b);
      const p50 = sorted.length === 0 ? "-" : `${quantile(sorted, 0.5).toFixed(1)} ms`;
      return `${flow} ${f.ok} ok/${f.failed} failed (p50 ${p50})`;
    });
    notes.push(`demo clients (totals; p50 of the last second): ${parts.join(", ")}`);
    for (const [flow, f] of Object.entries(demo.client.flows)) {
      if (f.lastError !== undefined) notes.push(`  ${flow}: last failure: ${f.lastError}`);
    }
  }
  return { rows, notes };
}

/** One line per peer of a federated broker's `stats().federation` (none when not federated). */
export function federationNotes(broker: Json): string[] {
  const fed = obj(broker["federation"]);
  if (typeof fed["name"] !== "string") return [];
  const lines = [
    `federation ${fed["name"]}: forwarded ${num(fed["forwarded"])}, returned ${num(fed["returned"])}, failed over ${num(fed["failed"])}, requests from peers ${num(fed["requestsIn"])}`,
  ];
  const perPeer = obj(fed["perPeer"]);
  for (const peer of Object.keys(perPeer).sort()) {
    const p = obj(perPeer[peer]);
    lines.push(
      `  peer ${peer}: ${num(p["up"]) === 1 ? "up" : "DOWN"}, ${num(p["services"])} services, ${num(p["workers"])} workers, capacity ${num(p["idleWorkers"])}, ` +
        `in flight ${num(p["inFlight"])}, forwarded ${num(p["forwarded"])}, returned ${num(p["returned"])}, failed ${num(p["failed"])}, losses ${num(p["losses"])}`,
    );
  }
  return lines;
}

const COLUMNS = [
  "SERVICE",
  "WORKERS",
  "QUEUED",
  "REQ/S",
  "P50 ms",
  "P99 ms",
  "EXPIRED",
  "PURGED",
  "HEARTBEATS",
  "RESTARTS",
] as const;

function cell(v: number | undefined, digits = 0): string {
  return v === undefined ? "-" : v.toFixed(digits);
}

function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Renders a status screen as plain lines (no colours, no cursor movement). */
export function renderStatus(model: StatusModel): string[] {
  const table = [
    [...COLUMNS],
    ...model.rows.map((r) => [
      r.name,
      cell(r.workers),
      cell(r.queued),
      cell(r.rate, 1),
      cell(r.p50, 1),
      cell(r.p99, 1),
      cell(r.expired),
      cell(r.purged),
      cell(r.heartbeats),
      cell(r.restarts),
    ]),
  ];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length)));
  const lines = [
    `zg reference system   up ${formatUptime(model.uptimeMs)}   ${model.clock}   Ctrl-C stops everything`,
    ...model.endpoints,
    "",
    ...table.map((row) =>
      row
        .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
        .join("  "),
    ),
    "",
    ...model.notes,
  ];
  if (model.events.length > 0)
    lines.push("", "recent events:", ...model.events.map((e) => `  ${e}`));
  return lines;
}
