import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";

/**
 * `stats()` fields that are levels (a value that goes up and down: queue
 * lengths, peers known now, a latency quantile) and so become Prometheus
 * Gauges. Every other numeric field counts events since start, never goes
 * down, and becomes a Counter named `…_total`. Fields nested under a name in
 * this set (`latency.p99`) are levels too. See docs/events.md ("Stats").
 */
export const GAUGE_FIELDS: ReadonlySet<string> = new Set([
  "queued",
  "workers",
  "idleWorkers",
  "busyWorkers",
  "busy",
  "peers",
  "silent",
  "alive",
  "dead",
  "services",
  "serversAlive",
  "inFlight",
  "pending",
  "connected",
  "clients",
  "subtrees",
  "entries",
  "sequence",
  "generation",
  "latency",
  "interval",
  "liveness",
  "heartbeatInterval",
  "heartbeatLiveness",
  "silentAfter",
  "sendQueueLimit",
  "maxWorkers",
  "maxQueued",
  "up",
  "state",
  "period",
  "maxLateness",
  "buffered",
  "publishers",
  "sessions",
  "iterators",
  "keys",
  "active",
  "snapshotStreams",
]);

/** One numeric value found in a stats snapshot. */
export interface StatsSample {
  /** Prometheus metric name, e.g. `zg_majordomo_broker_services_workers` (a counter's ends in `_total`). */
  readonly name: string;
  /** `counter` for a monotonically increasing count, `gauge` for a level (see {@link GAUGE_FIELDS}). */
  readonly kind: "counter" | "gauge";
  /** Label values, e.g. `{ service: "echo" }`. */
  readonly labels: Readonly<Record<string, string>>;
  /** The value. */
  readonly value: number;
}

/**
 * Which keys of a stats object are tables keyed by a name (a `Map`, a record
 * of objects, or an array of objects with that field): key → label name.
 * `{ services: "service" }` turns `services.echo.workers` into
 * `…_services_workers{service="echo"}`.
 */
export type LabelHints = Readonly<Record<string, string>>;

/** The hints used when an app gives none. */
export const DEFAULT_LABEL_HINTS: LabelHints = {
  services: "service",
  perService: "service",
  endpoints: "endpoint",
  servers: "server",
};

/** `requestsReceived` → `requests_received`, anything else non-alphanumeric → `_`. */
export function metricName(part: string): string {
  return part
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^a-zA-Z0-9_]/g, "_")
    .toLowerCase();
}

function entriesOf(value: unknown): [string, unknown][] | undefined {
  if (value instanceof Map) return [...value.entries()].map(([k, v]) => [String(k), v]);
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return Object.entries(value);
  return undefined;
}

/**
 * Flattens a component's `stats()` snapshot into numeric samples: numbers,
 * booleans (0/1) and bigints become samples named by their path; nested
 * objects extend the name; tables named in `hints` become labels. Strings and
 * arrays of numbers are skipped.
 */
export function flattenStats(
  prefix: string,
  stats: unknown,
  hints: LabelHints = DEFAULT_LABEL_HINTS,
  gauges: ReadonlySet<string> = GAUGE_FIELDS,
): StatsSample[] {
  const out: StatsSample[] = [];
  const walk = (
    name: string,
    value: unknown,
    labels: Record<string, string>,
    level: boolean,
  ): void => {
    if (typeof value === "number" || typeof value === "bigint") {
      const v = Number(value);
      if (!Number.isFinite(v)) return;
      if (level) out.push({ name, kind: "gauge", labels, value: v });
      else out.push({ name: `${name}_total`, kind: "counter", labels, value: v });
      return;
    }
    if (typeof value === "boolean") {
      out.push({ name, kind: "gauge", labels, value: value ? 1 : 0 });
      return;
    }
    const entries = entriesOf(value);
    if (!entries) return;
    for (const [k, v] of entries) {
      const label = hints[k];
      const child = `${name}_${metricName(k)}`;
      // A level field: a number, or a group of quantiles (`latency.p99`); a table
      // under a gauge name (`services.echo.served`) is classified field by field.
      const isLevel = level || (gauges.has(k) && label === undefined && !Array.isArray(v));
      if (Array.isArray(v)) {
        v.forEach((item: unknown, index) => {
          if (typeof item !== "object" || item === null) return;
          const rec = item as Record<string, unknown>;
          const labelName = label ?? "index";
          const id = rec[labelName] ?? rec["name"] ?? rec["service"] ?? rec["identity"] ?? index;
          walk(
            child,
            item,
            {
              ...labels,
              [labelName]:
                typeof id === "string" || typeof id === "number" ? String(id) : String(index),
            },
            isLevel,
          );
        });
        continue;
      }
      const inner = entriesOf(v);
      if (
        label !== undefined &&
        inner &&
        inner.every(([, x]) => typeof x === "object" && x !== null)
      ) {
        for (const [entryKey, entry] of inner)
          walk(child, entry, { ...labels, [label]: entryKey }, isLevel);
      } else {
        walk(child, v, labels, isLevel);
      }
    }
  };
  walk(metricName(prefix), stats, {}, false);
  return out;
}

/** A component whose counters the metrics endpoint exports. */
export interface StatsSource {
  /** Used in metric names: `zg_<name>_<field>`. */
  readonly name: string;
  /** The counter snapshot. */
  stats(): unknown;
  /** Table keys to turn into labels. */
  readonly labelHints?: LabelHints;
}

/** JSON.stringify that writes Maps as objects and bigints as numbers. */
export function statsToJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown): unknown =>
    v instanceof Map
      ? Object.fromEntries(v as Map<unknown, unknown>)
      : typeof v === "bigint"
        ? Number(v)
        : v instanceof Set
          ? [...(v as Set<unknown>)]
          : v,
  );
}

/**
 * The `--metrics host:port` HTTP endpoint: `GET /metrics` is every source's
 * `stats()` in the Prometheus text format (prom-client, plus the process
 * metrics prom-client collects by default), `GET /stats` the same snapshots
 * as JSON (what the reference-system status screen reads).
 */
export class MetricsServer {
  readonly #registry = new Registry();
  readonly #metrics = new Map<string, { metric: Gauge | Counter; labelNames: string }>();
  readonly #sources: () => readonly StatsSource[];
  readonly #app: string;
  #server: Server | undefined;

  constructor(app: string, sources: () => readonly StatsSource[]) {
    this.#app = app;
    this.#sources = sources;
    collectDefaultMetrics({ register: this.#registry, prefix: "zg_process_" });
  }

  /**
   * The Prometheus text of the current snapshots: counters (`…_total`) carry
   * the component's own count since start (never lower than the last scrape
   * while the component lives), levels are gauges.
   */
  async prometheus(): Promise<string> {
    const seen = new Set<string>();
    for (const source of this.#sources()) {
      for (const s of flattenStats(
        `zg_${source.name}`,
        source.stats(),
        source.labelHints ?? DEFAULT_LABEL_HINTS,
      )) {
        const labelNames = Object.keys(s.labels).sort().join(",");
        let entry = this.#metrics.get(s.name);
        if (!entry) {
          const config = {
            name: s.name,
            help: `${source.name} stats() field ${s.name.slice(`zg_${metricName(source.name)}_`.length)}`,
            labelNames: labelNames === "" ? [] : labelNames.split(","),
            registers: [this.#registry],
          };
          entry = {
            metric: s.kind === "counter" ? new Counter(config) : new Gauge(config),
            labelNames,
          };
          this.#metrics.set(s.name, entry);
        }
        if (entry.labelNames !== labelNames) continue;
        if (!seen.has(s.name)) {
          entry.metric.reset();
          seen.add(s.name);
        }
        if (entry.metric instanceof Counter) entry.metric.inc(s.labels, Math.max(0, s.value));
        else entry.metric.set(s.labels, s.value);
      }
    }
    for (const [name, entry] of this.#metrics) if (!seen.has(name)) entry.metric.reset();
    return this.#registry.metrics();
  }

  /** The JSON of the current snapshots: `{ app, components: { name: stats } }`. */
  json(): string {
    const components: Record<string, unknown> = {};
    for (const s of this.#sources()) components[s.name] = s.stats();
    return statsToJson({ app: this.#app, pid: process.pid, components });
  }

  /**
   * Listens on `address` (`host:port`, port 0 = any) and resolves with the
   * base URL. Rejects with the listen error (e.g. `EADDRINUSE`).
   */
  async listen(address: string): Promise<string> {
    const cut = address.lastIndexOf(":");
    const host = address.slice(0, cut).replace(/^\[(.*)\]$/, "$1");
    const port = Number(address.slice(cut + 1));
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      const reply = (status: number, type: string, body: string): void => {
        res.writeHead(status, { "content-type": type, connection: "close" }).end(body);
      };
      if (req.method !== "GET") return reply(405, "text/plain", "method not allowed\n");
      if (path === "/metrics") {
        this.prometheus().then(
          (text) => reply(200, this.#registry.contentType, text),
          (error: unknown) => reply(500, "text/plain", `${String(error)}\n`),
        );
      } else if (path === "/stats") {
        reply(200, "application/json", this.json());
      } else {
        reply(404, "text/plain", "try /metrics or /stats\n");
      }
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#server = server;
    const bound = server.address() as AddressInfo;
    const shownHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
    return `http://${shownHost}:${bound.port}`;
  }

  /** Stops listening and drops open connections. Idempotent. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
