import { mkdirSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { hostname, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import {
  abortError,
  assertArgument,
  Component,
  deferred,
  ZgError,
  durationOption,
  endpointsOption,
  systemClock,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type Frame,
} from "@zg/core";
import { FreelanceServer } from "@zg/pirate";
import { Beacon, type BeaconOptions } from "../discovery/beacon.js";
import type { NamesFeed, NamesFeedSubscriber } from "../feed/feed.js";
import type { RouterFeedOptions } from "../feed/router-feed.js";
import { feedOption, toggleOption, watchIntervalOption } from "../internal/options.js";
import { readWithStat, watchFile } from "../internal/watch-file.js";
import {
  isLogicalName,
  parseNamesFile,
  resolveEntry,
  tableFromJson,
  tableToJson,
  type NamesTable,
} from "../names/names-file.js";
import { decodeLookup, encodeAnswer, type LookupErrorCode, type Resolution } from "./protocol.js";

/** A server silent this long makes feed answers stale, 3000 ms (three sync intervals; Guide ch. 4 "consider a server gone after 2–3 silent intervals"). */
export const DEFAULT_SERVER_TIMEOUT = 3000;
/** Cache lifetime of an answer when the names file sets no `ttl`, 1000 ms (project choice: a change reaches clients within about a second). */
export const DEFAULT_NAME_TTL = 1000;
/** Largest lookup request the agent accepts, 4096 bytes (a name is at most 200 characters). */
export const DEFAULT_LOOKUP_MAX_MESSAGE_SIZE = 4096;

/**
 * The per-user runtime directory of the agent: `$ZNS_RUNTIME_DIR`, else
 * `$XDG_RUNTIME_DIR/zns`, else `<tmpdir>/zns-<user>`.
 */
export function defaultRuntimeDir(): string {
  const env = process.env;
  if (env["ZNS_RUNTIME_DIR"]) return env["ZNS_RUNTIME_DIR"];
  if (env["XDG_RUNTIME_DIR"]) return join(env["XDG_RUNTIME_DIR"], "zns");
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = String(process.getuid?.() ?? "user");
  }
  return join(tmpdir(), `zns-${user}`);
}

/** The agent's lookup endpoint in `runtimeDir`: `ipc://<runtimeDir>/agent` (the notes' `ipc://zns`). */
export function agentEndpoint(runtimeDir = defaultRuntimeDir()): string {
  return `ipc://${join(runtimeDir, "agent")}`;
}

/** Options of {@link ZnsAgent}. Durations in ms. */
export interface ZnsAgentOptions extends ComponentOptions {
  /** Feed endpoints of the central server(s); none: local file and cache only. */
  servers?: string | readonly string[];
  /** Where the socket and the cache live. @defaultValue {@link defaultRuntimeDir}() */
  runtimeDir?: string;
  /** Lookup endpoint the agent binds (one). @defaultValue {@link agentEndpoint}(runtimeDir) */
  endpoints?: string | readonly [string];
  /** A local names file (ZPL); its names win over the feed's. Watched for changes. */
  localFile?: string;
  /** Environment of lookups that name none. @defaultValue the table's `default-env`, else none (base rules only) */
  env?: string;
  /** This host's name for per-host rules. @defaultValue `os.hostname()` */
  host?: string;
  /** Feed answers are stale when no server was heard for this long. @defaultValue {@link DEFAULT_SERVER_TIMEOUT} */
  serverTimeout?: number;
  /** Cache lifetime of answers without a `ttl` in the file. @defaultValue {@link DEFAULT_NAME_TTL} */
  defaultTtl?: number;
  /** Keep the last feed table in `<runtimeDir>/table.json`, read at start. @defaultValue true */
  cache?: boolean;
  /** How often the local file is checked. @defaultValue {@link DEFAULT_WATCH_INTERVAL} */
  watchInterval?: number;
  /** The feed implementation. @defaultValue {@link routerFeed}(feedOptions) */
  feed?: NamesFeed;
  /** Time source of the stale rule (the feed's `lastHeard()` must use the same). @defaultValue systemClock */
  clock?: Clock;
  /** Options of the default feed. */
  feedOptions?: RouterFeedOptions;
  /**
   * With no `servers`: listen for ZRE beacons of a {@link ZnsServer} with
   * `announce` and subscribe to the first one heard (`tcp://<address>:<port>`);
   * `true` for the defaults. @defaultValue false
   */
  discover?: boolean | Omit<BeaconOptions, "announce" | "format">;
}

/** Events of {@link ZnsAgent}. */
export interface ZnsAgentEvents {
  /** A new table from the feed (or the cache file at start). */
  "table:updated": { source: "feed" | "cache"; names: number };
  /** The central server fell silent: feed answers now carry `stale: true`. */
  "feed:stale": { silentFor: number | undefined };
  /** A central server was found by UDP discovery. */
  "server:discovered": { endpoint: string };
  /** The central server is heard again. */
  "feed:synced": Record<never, never>;
  /** The local names file changed but is not valid (the last good one stays). */
  "names:invalid": { error: Error };
  /** A malformed lookup (answered `400`/`505`). */
  "protocol:invalid": { reason: string };
}

/** Stats of {@link ZnsAgent}. */
export interface ZnsAgentStats {
  lookups: number;
  answered: number;
  notFound: number;
  protocolErrors: number;
  staleAnswers: number;
  feedTables: number;
  /** Names in the feed table (a level). */
  feed: { entries: number };
  /** Names in the local file (a level). */
  local: { entries: number };
  /** True while feed answers are stale. */
  stale: boolean;
  fileErrors: number;
}

/**
 * The local ZNS daemon (the notes' "runs locally, reached over ipc://zns"):
 * answers lookups on `ipc://<runtimeDir>/agent` as a 10/FLP Freelance server
 * (lookups are idempotent, so clients retry or shotgun freely), keeps the
 * central server's table (and a copy on disk), and keeps answering from that
 * cache and from its local ZPL file while the server is down, with
 * `stale: true` on answers from feed data the server has not confirmed for
 * `serverTimeout` ms. Answers: local file first, then the feed table.
 *
 * @example
 * ```ts
 * const agent = new ZnsAgent({ servers: "tcp://zns.example.com:5670" });
 * const { endpoints } = await agent.start(); // [ipc://…/agent]
 * await agent.close();
 * ```
 */
export class ZnsAgent extends Component<ZnsAgentEvents, ZnsAgentStats, BoundEndpoints> {
  /** The lookup endpoint. */
  readonly endpoint: string;
  /** The runtime directory. */
  readonly runtimeDir: string;
  readonly #servers: readonly string[];
  readonly #localFile: string | undefined;
  readonly #env: string | undefined;
  readonly #host: string;
  readonly #serverTimeout: number;
  readonly #defaultTtl: number;
  readonly #cache: boolean;
  readonly #watchInterval: number;
  readonly #feed: NamesFeed;
  readonly #clock: Clock;
  readonly #discover: Omit<BeaconOptions, "announce" | "format"> | undefined;
  #subscriber: NamesFeedSubscriber | undefined;
  #feedTable: NamesTable | undefined;
  #localTable: NamesTable | undefined;
  #stale = true;
  #writing: Promise<void> = Promise.resolve();
  readonly #synced = deferred<void>();
  readonly #stats = {
    lookups: 0,
    answered: 0,
    notFound: 0,
    protocolErrors: 0,
    staleAnswers: 0,
    feedTables: 0,
    fileErrors: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: ZnsAgentOptions = {}) {
    super("ZnsAgent", options);
    this.runtimeDir = options.runtimeDir ?? defaultRuntimeDir();
    const endpoints = endpointsOption("endpoints", options.endpoints, [
      agentEndpoint(this.runtimeDir),
    ]);
    assertArgument(endpoints.length === 1, "endpoints must name exactly one endpoint");
    this.endpoint = endpoints[0] as string;
    this.#servers =
      options.servers === undefined ||
      (Array.isArray(options.servers) && options.servers.length === 0)
        ? []
        : endpointsOption("servers", options.servers);
    this.#localFile = options.localFile;
    assertArgument(
      options.env === undefined || isLogicalName(options.env),
      "env: not a valid environment name",
    );
    this.#env = options.env;
    this.#host = options.host ?? hostname();
    this.#serverTimeout = durationOption(
      "serverTimeout",
      options.serverTimeout,
      DEFAULT_SERVER_TIMEOUT,
      { min: 10 },
    );
    this.#defaultTtl = durationOption("defaultTtl", options.defaultTtl, DEFAULT_NAME_TTL);
    this.#cache = options.cache ?? true;
    this.#watchInterval = watchIntervalOption(options.watchInterval);
    this.#discover = toggleOption(options.discover);
    this.#feed = feedOption(options);
    this.#clock = options.clock ?? systemClock;
  }

  get #cachePath(): string {
    return join(this.runtimeDir, "table.json");
  }

  protected async onStart(): Promise<BoundEndpoints> {
    mkdirSync(this.runtimeDir, { recursive: true, mode: 0o700 });
    if (this.#cache) await this.#loadCache();
    if (this.#localFile !== undefined) {
      const path = this.#localFile;
      const { text, stat } = await readWithStat(path);
      this.#localTable = parseNamesFile(text, { source: path });
      this.own(
        watchFile(
          path,
          this.#watchInterval,
          (t) => this.#reloadLocal(t, path),
          (e) => this.#localInvalid(e),
          stat,
        ),
      );
    }
    const server = this.own(
      new FreelanceServer({
        endpoints: this.endpoint,
        model: 3,
        handler: (body) => this.#lookup(body),
        maxMessageSize: DEFAULT_LOOKUP_MAX_MESSAGE_SIZE,
        ...(this.logger ? { logger: this.logger } : {}),
      }),
    );
    server.on("protocol:invalid", (e) => {
      this.#stats.protocolErrors++;
      this.emit("protocol:invalid", e);
    });
    await server.start();
    if (this.#servers.length > 0) await this.#subscribe(this.#servers);
    else if (this.#discover !== undefined) {
      const beacon = this.own(new Beacon({ logger: this.logger, ...this.#discover }));
      beacon.on("peer:joined", ({ address, port }) => {
        if (this.#subscriber !== undefined || this.stopping) return;
        const endpoint = `tcp://${address}:${port}`;
        this.logger.info("central server discovered", { endpoint });
        this.emit("server:discovered", { endpoint });
        this.#subscribe([endpoint]).catch((e: Error) =>
          this.logger.warn("feed subscribe failed", { error: e.message }),
        );
      });
      await beacon.start();
    }
    this.setInterval(() => this.#checkStale(), Math.max(50, Math.floor(this.#serverTimeout / 4)));
    this.logger.info("agent ready", { endpoint: this.endpoint, servers: this.#servers });
    return { endpoints: [this.endpoint] };
  }

  async #subscribe(endpoints: readonly string[]): Promise<void> {
    const sub = this.own(this.#feed.subscriber(endpoints));
    this.#subscriber = sub;
    await sub.start((table) => this.#onFeedTable(table));
  }

  /** Looks a name up in-process, as a lookup over ipc would. Undefined: unknown name. */
  resolve(name: string, env = ""): Resolution | undefined {
    const r = this.#answer(name, env);
    return "code" in r ? undefined : r;
  }

  /**
   * Resolves once a table from a live central server has arrived (at once
   * if one has); `start()` does not wait for it, since the agent answers from
   * its local file and cache meanwhile.
   *
   * @throws {@link ZgError} `ZG_TIMEOUT` after `timeout` ms, `ZG_ABORTED`.
   */
  async whenSynced(options: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
    const timeout = durationOption("timeout", options.timeout, DEFAULT_SERVER_TIMEOUT);
    const signals = [
      AbortSignal.timeout(timeout),
      this.closeSignal,
      ...(options.signal ? [options.signal] : []),
    ];
    const signal = AbortSignal.any(signals);
    if (signal.aborted) throw this.#syncError(options.signal, timeout);
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(this.#syncError(options.signal, timeout));
      signal.addEventListener("abort", onAbort, { once: true });
      void this.#synced.promise.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  #syncError(signal: AbortSignal | undefined, timeout: number): ZgError {
    if (signal?.aborted) return abortError(signal);
    if (this.stopping) return new ZgError("ZG_CLOSED", "agent closed before it synced");
    return new ZgError("ZG_TIMEOUT", `no table from a central server within ${timeout} ms`, {
      details: { timeout },
    });
  }

  /** True while answers from feed data are stale. */
  get stale(): boolean {
    return this.#stale;
  }

  stats(): ZnsAgentStats {
    return {
      ...this.#stats,
      feed: { entries: this.#feedTable?.names.size ?? 0 },
      local: { entries: this.#localTable?.names.size ?? 0 },
      stale: this.#stale,
    };
  }

  #lookup(body: Frame[]): Frame[] {
    this.#stats.lookups++;
    const request = decodeLookup(body);
    if ("code" in request) {
      this.#stats.protocolErrors++;
      this.logger.debug("bad lookup", { reason: request.reason });
      this.emit("protocol:invalid", { reason: request.reason });
      return encodeAnswer(request);
    }
    return encodeAnswer(this.#answer(request.name, request.env));
  }

  #answer(name: string, env: string): Resolution | { code: LookupErrorCode; reason: string } {
    const where = (table: NamesTable): { env: string | undefined; host: string } => ({
      env: env !== "" ? env : (this.#env ?? table.defaultEnv),
      host: this.#host,
    });
    const tryTable = (
      table: NamesTable | undefined,
    ): ReturnType<typeof resolveEntry> | undefined => {
      const entry = table?.names.get(name);
      if (entry === undefined) return undefined;
      const r = resolveEntry(entry, where(table!));
      return r.connect.length + r.bind.length > 0 ? r : undefined;
    };
    const local = tryTable(this.#localTable);
    if (local !== undefined) {
      this.#stats.answered++;
      return {
        connect: local.connect,
        bind: local.bind,
        source: "local",
        stale: false,
        ttl: local.ttl ?? this.#defaultTtl,
      };
    }
    const fed = tryTable(this.#feedTable);
    if (fed !== undefined) {
      this.#checkStale();
      this.#stats.answered++;
      if (this.#stale) this.#stats.staleAnswers++;
      return {
        connect: fed.connect,
        bind: fed.bind,
        source: this.#stale ? "cache" : "feed",
        stale: this.#stale,
        ttl: fed.ttl ?? this.#defaultTtl,
      };
    }
    this.#stats.notFound++;
    return { code: "404", reason: `unknown name ${name}` };
  }

  #checkStale(): void {
    const heard = this.#subscriber?.lastHeard();
    const silentFor = heard === undefined ? undefined : this.#clock.now() - heard;
    const stale = silentFor === undefined || silentFor > this.#serverTimeout;
    if (stale === this.#stale) return;
    this.#stale = stale;
    if (stale) {
      this.logger.warn("central server silent: answers are stale", { silentFor });
      this.emit("feed:stale", { silentFor });
    } else {
      this.logger.info("central server heard: answers are current");
      this.emit("feed:synced", {});
    }
  }

  #onFeedTable(table: NamesTable): void {
    this.#feedTable = table;
    this.#stats.feedTables++;
    this.#synced.resolve();
    this.#checkStale();
    this.emit("table:updated", { source: "feed", names: table.names.size });
    if (this.#cache) {
      const json = tableToJson(table);
      const tmp = `${this.#cachePath}.${process.pid}.tmp`;
      this.#writing = this.#writing
        .then(() => writeFile(tmp, json, { mode: 0o600 }))
        .then(() => rename(tmp, this.#cachePath))
        .catch((e: Error) => this.logger.warn("cannot write the cache file", { error: e.message }));
    }
  }

  async #loadCache(): Promise<void> {
    let json: string;
    try {
      json = await readFile(this.#cachePath, "utf8");
    } catch {
      return; // no cache yet
    }
    try {
      this.#feedTable = tableFromJson(json);
      this.emit("table:updated", { source: "cache", names: this.#feedTable.names.size });
    } catch (e) {
      this.#stats.fileErrors++;
      this.logger.warn("cache file not valid, ignored", { error: (e as Error).message });
    }
  }

  #reloadLocal(text: string, path: string): void {
    try {
      this.#localTable = parseNamesFile(text, { source: path });
    } catch (e) {
      this.#localInvalid(e as Error);
    }
  }

  #localInvalid(error: Error): void {
    this.#stats.fileErrors++;
    this.logger.warn("local names file not valid, keeping the last good one", {
      error: error.message,
    });
    this.emit("names:invalid", { error });
  }

  protected override async onClose(): Promise<void> {
    await this.#writing;
  }
}
