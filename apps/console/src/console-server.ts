import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isHostPort, listenOn } from "@zg/app-kit";
import { assertArgument, Component, durationOption, type ComponentOptions } from "@zg/core";
import { LogTail, type LogLevel } from "@zg/devices";
import { HeartbeatRouter } from "@zg/heartbeat";
import { ConsoleModel, type LogLine } from "./model.js";

/** Default poll period of each target's `/stats`, ms (the reference system's status refresh). */
export const DEFAULT_CONSOLE_POLL_INTERVAL = 1000;
/**
 * Bytes an SSE client may leave unread before it misses ticks (project-chosen):
 * every tick is a whole snapshot, so a skipped one loses nothing but freshness,
 * and a slow browser never makes the console buffer without bound.
 */
export const MAX_CONSOLE_CLIENT_BUFFER = 1024 * 1024;
/** Most page connections (SSE streams) at once (project-chosen). */
export const MAX_CONSOLE_CLIENTS = 64;

/** A `/stats` URL to poll, with the name the page shows. */
export interface ConsoleTarget {
  name: string;
  url: string;
}

/** Options of {@link ConsoleServer}. */
export interface ConsoleServerOptions extends ComponentOptions {
  /** `host:port` to serve the page on (port 0 = any free port). */
  listen: string;
  /** The apps' `/stats` URLs (app-kit `--metrics`). */
  targets: readonly ConsoleTarget[];
  /** Poll period, ms. @defaultValue {@link DEFAULT_CONSOLE_POLL_INTERVAL} */
  pollInterval?: number;
  /** Time-series window, ms. @defaultValue 300 000 (`DEFAULT_CONSOLE_WINDOW`) */
  window?: number;
  /** A `zg-log-broker`'s endpoints: warnings and errors of every app go to the error console. */
  logs?: readonly string[];
  /** Least severe level taken from the log broker. @defaultValue "warn" */
  logLevel?: LogLevel;
  /** Endpoints to bind a presence `HeartbeatRouter` to (peers connect a `HeartbeatDealer`). */
  presence?: readonly string[];
  /** Heartbeat interval assumed for presence peers that announce none, ms. */
  presenceInterval?: number;
}

/** Counters of a {@link ConsoleServer}. */
export interface ConsoleServerStats {
  /** Polls made (all targets). */
  polls: number;
  /** Polls that got no answer. */
  pollFailures: number;
  /** Targets answering now. */
  up: number;
  /** Open page streams now. */
  clients: number;
  /** Snapshots pushed to pages. */
  pushed: number;
  /** Snapshots not pushed to a page that had not read the previous ones. */
  skipped: number;
  /** Page connections refused (beyond {@link MAX_CONSOLE_CLIENTS}). */
  refused: number;
  /** Lines received from the log broker. */
  logLines: number;
}

/** What {@link ConsoleServer.start} resolves with. */
export interface ConsoleStarted {
  /** The page, e.g. `http://127.0.0.1:5590/`. */
  url: string;
  /** Where presence peers connect (empty without `presence`). */
  presence: string[];
}

const PUBLIC = new URL("../public/", import.meta.url);
const STATIC: Readonly<Record<string, string>> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/console.js": "console.js",
  "/console.css": "console.css",
};
const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/**
 * The console: polls every target's `/stats`, follows presence and the log
 * broker, keeps a bounded window ({@link ConsoleModel}) and pushes a snapshot
 * to every open page over Server-Sent Events after each poll round. A target
 * that stops answering is shown as down, then up again when it answers.
 *
 * @example
 * ```ts
 * const console = new ConsoleServer({ listen: "127.0.0.1:0", targets: [{ name: "majordomo", url: "http://127.0.0.1:9100/stats" }] });
 * const { url } = await console.start();
 * ```
 */
export class ConsoleServer extends Component<
  Record<never, never>,
  ConsoleServerStats,
  ConsoleStarted
> {
  readonly model: ConsoleModel;
  readonly #options: ConsoleServerOptions;
  readonly #pollInterval: number;
  readonly #clients = new Set<ServerResponse>();
  readonly #inFlight = new Set<string>();
  readonly #stats: ConsoleServerStats = {
    polls: 0,
    pollFailures: 0,
    up: 0,
    clients: 0,
    pushed: 0,
    skipped: 0,
    refused: 0,
    logLines: 0,
  };
  #server: Server | undefined;
  #router: HeartbeatRouter | undefined;
  #files = new Map<string, Buffer>();

  constructor(options: ConsoleServerOptions) {
    super("ConsoleServer", options);
    this.#options = options;
    this.#pollInterval = durationOption(
      "pollInterval",
      options.pollInterval,
      DEFAULT_CONSOLE_POLL_INTERVAL,
      { min: 10 },
    );
    assertArgument(
      isHostPort(options.listen),
      `listen must be host:port, got ${JSON.stringify(options.listen)}`,
    );
    const names = new Set<string>();
    for (const t of options.targets) {
      assertArgument(!names.has(t.name), `target ${t.name} given twice`);
      names.add(t.name);
      assertArgument(URL.canParse(t.url), `target ${t.name}: not a URL: ${JSON.stringify(t.url)}`);
    }
    this.model = new ConsoleModel(options.window === undefined ? {} : { window: options.window });
  }

  stats(): ConsoleServerStats {
    return { ...this.#stats, clients: this.#clients.size };
  }

  protected async onStart(): Promise<ConsoleStarted> {
    for (const file of new Set(Object.values(STATIC)))
      this.#files.set(file, await readFile(new URL(file, PUBLIC)));
    const now = Date.now();
    for (const t of this.#options.targets) this.model.addTarget(t.name, t.url, now);

    let presence: string[] = [];
    if (this.#options.presence !== undefined && this.#options.presence.length > 0) {
      const router = this.own(
        new HeartbeatRouter({
          endpoints: this.#options.presence,
          ...(this.#options.presenceInterval === undefined
            ? {}
            : { interval: this.#options.presenceInterval }),
          logger: this.logger,
        }),
      );
      for (const type of ["peer:joined", "peer:silent", "peer:expired", "peer:returned"] as const)
        router.on(type, (e) => {
          this.model.presence({ type, key: e.key }, Date.now());
          this.#push();
        });
      presence = (await router.start()).endpoints;
      this.#router = router;
    }

    if (this.#options.logs !== undefined && this.#options.logs.length > 0) {
      const tail = this.own(
        new LogTail({
          broker: this.#options.logs,
          request: { level: this.#options.logLevel ?? "warn", last: 200 },
          logger: this.logger,
        }),
      );
      await tail.start();
      void this.#follow(tail);
    }

    const server = createServer((req, res) => this.#route(req, res));
    this.own(() => this.#closeServer());
    const shown = await listenOn(server, this.#options.listen);
    this.#server = server;

    this.setInterval(() => void this.#pollAll(), this.#pollInterval);
    void this.#pollAll();
    return { url: `http://${shown}/`, presence };
  }

  async #follow(tail: LogTail): Promise<void> {
    try {
      for await (const { record } of tail.records()) {
        this.#stats.logLines += 1;
        const line: LogLine = {
          time: record.time,
          level: record.level,
          app: record.app,
          msg: record.msg,
        };
        this.model.log(line);
      }
    } catch (error) {
      this.logger.warn("log tail ended", { error: String(error) });
    }
  }

  async #pollAll(): Promise<void> {
    await Promise.all(this.#options.targets.map((t) => this.#poll(t)));
    if (!this.running) return;
    const tracker = this.#router?.tracker;
    if (tracker !== undefined) {
      const now = Date.now();
      for (const key of this.model.presentPeers()) {
        const state = tracker.get(key)?.state;
        if (state === "alive" || state === "silent") this.model.refreshPresence(key, state, now);
      }
    }
    this.#stats.up = this.model.snapshot(Date.now()).totals.targetsUp;
    this.#push();
  }

  async #poll(t: ConsoleTarget): Promise<void> {
    if (this.#inFlight.has(t.name)) return; // the previous poll of a slow target is still out
    this.#inFlight.add(t.name);
    try {
      this.#stats.polls += 1;
      let result: { stats: unknown } | { error: string };
      try {
        const res = await fetch(t.url, {
          signal: AbortSignal.any([
            this.closeSignal,
            AbortSignal.timeout(Math.max(200, this.#pollInterval)),
          ]),
        });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        result = { stats: await res.json() };
      } catch (error) {
        this.#stats.pollFailures += 1;
        const e = error as Error & { cause?: { code?: string } };
        result = { error: e.cause?.code ?? (e.name === "TimeoutError" ? "timeout" : e.message) };
      }
      if (this.running) this.model.poll(t.name, result, Date.now(), performance.now());
    } finally {
      this.#inFlight.delete(t.name);
    }
  }

  #push(): void {
    if (this.#clients.size === 0) return;
    const data = `event: snapshot\ndata: ${JSON.stringify(this.model.snapshot(Date.now()))}\n\n`;
    for (const res of this.#clients) {
      if (res.writableLength > MAX_CONSOLE_CLIENT_BUFFER) {
        this.#stats.skipped += 1;
        continue;
      }
      res.write(data);
      this.#stats.pushed += 1;
    }
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const reply = (status: number, type: string, body: string | Buffer): void => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" }).end(body);
    };
    if (req.method !== "GET") return reply(405, "text/plain", "method not allowed\n");
    const file = STATIC[path];
    if (file !== undefined) {
      const body = this.#files.get(file);
      if (body === undefined) return reply(404, "text/plain", "not found\n");
      return reply(200, TYPES[file.split(".").pop() ?? ""] ?? "text/plain", body);
    }
    if (path === "/api/snapshot")
      return reply(200, "application/json", JSON.stringify(this.model.snapshot(Date.now())));
    if (path === "/events") {
      if (this.#clients.size >= MAX_CONSOLE_CLIENTS) {
        this.#stats.refused += 1;
        return reply(503, "text/plain", "too many console pages open\n");
      }
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write(
        `retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(this.model.snapshot(Date.now()))}\n\n`,
      );
      this.#clients.add(res);
      const gone = (): void => {
        this.#clients.delete(res);
      };
      req.on("close", gone);
      res.on("error", gone);
      return;
    }
    reply(404, "text/plain", "not found\n");
  }

  async #closeServer(): Promise<void> {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
