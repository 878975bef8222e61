// The console's state: a pure model fed by the pollers, the presence router and
// the log tail, with a bounded window in memory. No sockets, no timers: every
// input carries its time, so the unit tests drive it directly.
import { durationOption, integerOption } from "@zg/core";

/** Default length of the time-series window kept in memory, ms (5 minutes; project-chosen). */
export const DEFAULT_CONSOLE_WINDOW = 300_000;
/** Default number of log lines and console events kept (project-chosen). */
export const DEFAULT_CONSOLE_MAX_LOGS = 500;
/** Most points kept per series, whatever the window and poll interval (project-chosen). */
export const MAX_CONSOLE_POINTS = 3600;
/** Most service rows and presence peers shown (a bound against a runaway target). */
export const MAX_CONSOLE_ROWS = 200;

type Json = Record<string, unknown>;
const num = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isFinite(v) ? v : undefined;
const obj = (v: unknown): Json =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : {};

/** One point of a service's time series. */
export interface SeriesPoint {
  /** Wall time, ms since the epoch. */
  t: number;
  /** Replies per second since the previous poll. */
  rate: number;
  /** Broker-side latency quantiles, ms. */
  p50: number;
  p99: number;
  /** Live workers. */
  workers: number;
}

/** One broker service (or a load-balancing queue's one pool), as the page shows it. */
export interface ServiceRow {
  /** `target/component/service`, stable across polls. */
  key: string;
  target: string;
  component: string;
  service: string;
  workers: number;
  /** Idle workers, where the broker counts them. */
  idle: number | undefined;
  queued: number;
  /** Replies per second over the last poll interval. */
  rate: number;
  p50: number;
  p99: number;
  /** Requests expired (MDP `"504"`); undefined where not counted. */
  expired: number | undefined;
  /** Workers purged (silence, failed send, protocol violation). */
  purged: number | undefined;
  /** Requests re-queued or re-dispatched after a worker died. */
  requeued: number | undefined;
  /** Replies served since the broker started (the counter behind `rate`). */
  served: number;
  /** False when its target is down (the last values are kept and shown greyed). */
  up: boolean;
  series: SeriesPoint[];
}

/** A data source (a `/stats` URL) and whether it answers. */
export interface TargetState {
  name: string;
  url: string;
  up: boolean;
  /** Wall time of the last change between up and down (or of the first poll). */
  since: number;
  /** Wall time of the last answer. */
  lastOk: number | undefined;
  lastError: string | undefined;
  polls: number;
  failures: number;
}

/** A presence peer ("robots come and go"). */
export interface PeerState {
  key: string;
  state: "alive" | "silent" | "expired";
  since: number;
  joined: number;
  returned: number;
}

/** One line of the error console: a log record from the log broker, or the console's own event. */
export interface LogLine {
  /** Wall time, ms since the epoch. */
  time: number;
  level: "debug" | "info" | "warn" | "error";
  /** The app that logged it (`console` for the console's own events). */
  app: string;
  msg: string;
}

/** What a presence source reports. */
export type PresenceInput =
  | { type: "peer:joined"; key: string }
  | { type: "peer:silent"; key: string }
  | { type: "peer:expired"; key: string }
  | { type: "peer:returned"; key: string };

/** What the page receives: the whole state, small enough to send every tick. */
export interface ConsoleSnapshot {
  time: number;
  window: number;
  targets: TargetState[];
  services: ServiceRow[];
  presence: PeerState[];
  logs: LogLine[];
  totals: { workers: number; rate: number; services: number; targetsUp: number; peers: number };
}

/** Options of {@link ConsoleModel}. */
export interface ConsoleModelOptions {
  /** Time-series window, ms. @defaultValue {@link DEFAULT_CONSOLE_WINDOW} */
  window?: number;
  /** Log lines kept. @defaultValue {@link DEFAULT_CONSOLE_MAX_LOGS} */
  maxLogs?: number;
}

interface RowSource {
  component: string;
  service: string;
  workers: number;
  idle: number | undefined;
  queued: number;
  served: number;
  p50: number;
  p99: number;
  expired: number | undefined;
  purged: number | undefined;
  requeued: number | undefined;
}

/**
 * The service rows in one `/stats` document (app-kit's `{ components: { name: stats } }`):
 * a Majordomo broker's `perService` (MMI and Titanic's internal services left out),
 * with purges from its `<name>_workers_removed` table (`majordomo_workers_removed` for `majordomo_broker`); a load-balancing queue
 * (`repliesForwarded`, `latency`) as one pool named after the component.
 * Unknown shapes give no rows, never an exception.
 */
export function serviceRowsOf(stats: unknown): RowSource[] {
  const components = obj(obj(stats)["components"]);
  const rows: RowSource[] = [];
  for (const [component, raw] of Object.entries(components)) {
    const c = obj(raw);
    const perService = obj(c["perService"]);
    if (Object.keys(perService).length > 0 && num(c["replies"]) !== undefined) {
      // zg-majordomo-broker registers its removal counts as `majordomo_workers_removed`.
      const removedOf =
        components[`${component}_workers_removed`] ??
        components[`${component.replace(/_broker$/, "")}_workers_removed`];
      const removed = obj(obj(removedOf)["perService"]);
      for (const [service, sraw] of Object.entries(perService)) {
        if (service.startsWith("mmi.") || service.startsWith("titanic.")) continue;
        const s = obj(sraw);
        const r = obj(removed[service]);
        rows.push({
          component,
          service,
          workers: num(s["workers"]) ?? 0,
          idle: num(s["idleWorkers"]),
          queued: num(s["queued"]) ?? 0,
          served: num(s["served"]) ?? 0,
          p50: num(s["p50"]) ?? 0,
          p99: num(s["p99"]) ?? 0,
          expired: num(s["expired"]),
          purged:
            (num(r["expired"]) ?? 0) + (num(r["unreachable"]) ?? 0) + (num(r["violation"]) ?? 0),
          requeued: num(s["requeued"]),
        });
      }
    } else if (num(c["repliesForwarded"]) !== undefined && num(c["workers"]) !== undefined) {
      const latency = obj(c["latency"]);
      rows.push({
        component,
        service: component,
        workers: num(c["workers"]) ?? 0,
        idle: num(c["idleWorkers"]),
        queued: num(c["queued"]) ?? 0,
        served: num(c["repliesForwarded"]) ?? 0,
        p50: num(latency["p50"]) ?? 0,
        p99: num(latency["p99"]) ?? 0,
        expired: undefined,
        purged: num(c["workersPurged"]),
        requeued: num(c["redispatched"]),
      });
    }
  }
  return rows.slice(0, MAX_CONSOLE_ROWS);
}

/**
 * The console's state, bounded: series older than the window are dropped,
 * logs beyond `maxLogs` too, and rows and peers are capped at
 * {@link MAX_CONSOLE_ROWS}. Every input carries its wall time.
 */
export class ConsoleModel {
  readonly window: number;
  readonly #maxLogs: number;
  readonly #targets = new Map<string, TargetState & { at: number | undefined }>();
  readonly #rows = new Map<string, ServiceRow>();
  readonly #peers = new Map<string, PeerState>();
  readonly #logs: LogLine[] = [];

  constructor(options: ConsoleModelOptions = {}) {
    this.window = durationOption("window", options.window, DEFAULT_CONSOLE_WINDOW, { min: 1 });
    this.#maxLogs = integerOption("maxLogs", options.maxLogs, DEFAULT_CONSOLE_MAX_LOGS, {
      min: 1,
      max: 100_000,
    });
  }

  /** Declares a data source. */
  addTarget(name: string, url: string, now: number): void {
    this.#targets.set(name, {
      name,
      url,
      up: false,
      since: now,
      lastOk: undefined,
      lastError: undefined,
      polls: 0,
      failures: 0,
      at: undefined,
    });
  }

  /** Names of the declared targets with their URLs. */
  targets(): { name: string; url: string }[] {
    return [...this.#targets.values()].map((t) => ({ name: t.name, url: t.url }));
  }

  /**
   * Records one poll of `target`: its `/stats` JSON, or the error when it did
   * not answer. `now` is wall time (ms since the epoch), `at` a monotonic time
   * for the rates.
   */
  poll(
    target: string,
    result: { stats: unknown } | { error: string },
    now: number,
    at: number = now,
  ): void {
    const t = this.#targets.get(target);
    if (t === undefined) return;
    t.polls += 1;
    if ("error" in result) {
      t.failures += 1;
      t.lastError = result.error;
      if (t.up || t.polls === 1) {
        t.up = false;
        t.since = now;
        this.log({
          time: now,
          level: "error",
          app: "console",
          msg: `${target} is down: ${result.error}`,
        });
      }
      t.at = undefined;
      for (const row of this.#rows.values()) if (row.target === target) row.up = false;
      return;
    }
    if (!t.up) {
      if (t.polls > 1)
        this.log({ time: now, level: "info", app: "console", msg: `${target} is up again` });
      t.up = true;
      t.since = now;
    }
    t.lastOk = now;
    t.lastError = undefined;
    const dt = t.at === undefined ? 0 : (at - t.at) / 1000;
    t.at = at;
    const seen = new Set<string>();
    for (const src of serviceRowsOf(result.stats)) {
      const key = `${target}/${src.component}/${src.service}`;
      seen.add(key);
      let row = this.#rows.get(key);
      if (row === undefined) {
        if (this.#rows.size >= MAX_CONSOLE_ROWS) continue;
        row = { key, target, ...src, rate: 0, up: true, series: [] };
        this.#rows.set(key, row);
      }
      const before = row.served;
      const rate = dt > 0 && src.served >= before ? (src.served - before) / dt : 0;
      if (row.up && src.workers !== row.workers && row.series.length > 0) {
        this.log({
          time: now,
          level: src.workers < row.workers ? "warn" : "info",
          app: "console",
          msg: `${target} ${src.service}: workers ${row.workers} → ${src.workers}`,
        });
      }
      Object.assign(row, src, { rate, up: true });
      row.series.push({ t: now, rate, p50: src.p50, p99: src.p99, workers: src.workers });
      this.#trim(row.series, now);
    }
    for (const row of this.#rows.values())
      if (row.target === target && !seen.has(row.key)) row.up = false;
  }

  /** Records a presence event. */
  presence(event: PresenceInput, now: number): void {
    let peer = this.#peers.get(event.key);
    if (peer === undefined) {
      if (this.#peers.size >= MAX_CONSOLE_ROWS) return;
      peer = { key: event.key, state: "alive", since: now, joined: 0, returned: 0 };
      this.#peers.set(event.key, peer);
    }
    const state =
      event.type === "peer:silent" ? "silent" : event.type === "peer:expired" ? "expired" : "alive";
    if (event.type === "peer:joined") peer.joined += 1;
    if (event.type === "peer:returned") peer.returned += 1;
    peer.state = state;
    peer.since = now;
    const verb = event.type.slice("peer:".length);
    this.log({
      time: now,
      level: state === "expired" ? "warn" : "info",
      app: "console",
      msg: `presence: ${event.key} ${verb}`,
    });
  }

  /**
   * Brings a present peer's state up to date without an event (the tracker
   * reports going silent, but not hearing from a silent peer again): `alive`
   * or `silent` as the presence table has it now. Expired peers stay expired
   * until `peer:returned`.
   */
  refreshPresence(key: string, state: "alive" | "silent", now: number): void {
    const peer = this.#peers.get(key);
    if (peer === undefined || peer.state === "expired" || peer.state === state) return;
    peer.state = state;
    peer.since = now;
  }

  /** Keys of the peers not expired. */
  presentPeers(): string[] {
    return [...this.#peers.values()].filter((p) => p.state !== "expired").map((p) => p.key);
  }

  /** Adds a line to the error console (oldest dropped beyond `maxLogs`). */
  log(line: LogLine): void {
    this.#logs.push(line);
    if (this.#logs.length > this.#maxLogs) this.#logs.splice(0, this.#logs.length - this.#maxLogs);
  }

  /** The whole state for the page (copies; the series are trimmed to the window first). */
  snapshot(now: number): ConsoleSnapshot {
    const services = [...this.#rows.values()]
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((r) => {
        this.#trim(r.series, now);
        return { ...r, series: [...r.series] };
      });
    const targets = [...this.#targets.values()].map(({ at: _at, ...t }) => ({ ...t }));
    const presence = [...this.#peers.values()]
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((p) => ({ ...p }));
    const live = services.filter((s) => s.up);
    return {
      time: now,
      window: this.window,
      targets,
      services,
      presence,
      logs: [...this.#logs],
      totals: {
        workers: live.reduce((n, s) => n + s.workers, 0),
        rate: live.reduce((n, s) => n + s.rate, 0),
        services: live.length,
        targetsUp: targets.filter((t) => t.up).length,
        peers: presence.filter((p) => p.state !== "expired").length,
      },
    };
  }

  #trim(series: SeriesPoint[], now: number): void {
    let drop = 0;
    while (drop < series.length && (series[drop]?.t ?? now) < now - this.window) drop += 1;
    if (series.length - drop > MAX_CONSOLE_POINTS) drop = series.length - MAX_CONSOLE_POINTS;
    if (drop > 0) series.splice(0, drop);
  }
}
