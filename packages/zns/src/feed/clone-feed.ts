import { CloneClient, CloneServer, type CloneServerEndpoints } from "@zg/clone";
import { deferred, parseEndpoint, ZgError, type Logger } from "@zg/core";
import { tableFromJson, tableToJson, type NamesTable } from "../names/names-file.js";
import type { NamesFeed, NamesFeedPublisher, NamesFeedSubscriber } from "./feed.js";

/** Key prefix of the names in a Clone map, `"zns/"`: names under `zns/names/<name>`, the table's header at `zns/meta`. */
export const CLONE_FEED_SUBTREE = "zns/";

/** Options of {@link cloneFeed}. Durations in ms. */
export interface CloneFeedOptions {
  /** Key prefix (a CHP subtree). @defaultValue {@link CLONE_FEED_SUBTREE} */
  subtree?: string;
  /** Clone client: server silence before it re-syncs (and the agent's answers turn stale). @defaultValue @zg/clone `DEFAULT_SERVER_TTL` (5000) */
  serverTtl?: number;
  /** Clone server HUGZ interval. @defaultValue @zg/clone `DEFAULT_HUGZ_INTERVAL` (1000) */
  hugzInterval?: number;
  /** Clone client: wait for the subscription before the snapshot request. @defaultValue @zg/clone `DEFAULT_SUBSCRIBE_WAIT` (1500) */
  subscribeWait?: number;
  /**
   * Directory of the Clone server's log (`@zg/clone` `dataDir`). Give one when
   * the central server restarts: a restarted Clone server without it starts
   * its sequence at 0 again, and clients that did not fail over in between
   * ignore the reused sequence numbers. @defaultValue none (in memory)
   */
  dataDir?: string;
  /** Logger of the Clone components. */
  logger?: Logger;
}

const pick = <T extends object, K extends keyof T>(
  o: T,
  keys: readonly K[],
): Partial<Pick<T, K>> => {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
};

/**
 * The names feed over Clone (12/CHP, `@zg/clone`), the notes' "pubsub state
 * / refresh" hint: the server side is a `CloneServer` bound at
 * `tcp://host:P` (publisher P+1, collector P+2) plus a `CloneClient` that
 * writes one key per name (`zns/names/<name>` = the entry's JSON, removed
 * names deleted) and the header `zns/meta`; agents mirror the `zns/` subtree
 * with a `CloneClient`, so they get snapshot-plus-updates and re-sync from a
 * restarted server. `tcp://host:*` picks a free P. Agents connect to the
 * endpoint the publisher's `start()` returns (`tcp://host:P`).
 *
 * Experimental (exported as `Experimental_cloneFeed`; {@link routerFeed} is
 * the default). Give `dataDir` when the central server may restart: a Clone
 * server without one starts its sequence at 0 again and agents ignore the
 * reused numbers. Agents mirror the whole Clone map (the feed's own server
 * holds only the names), because a Clone client notices a sequence gap, and
 * re-syncs, only then: updates published while an agent re-subscribes to a
 * restarted server are not lost.
 *
 * @example
 * ```ts
 * const feed = Experimental_cloneFeed();
 * const server = new ZnsServer({ names: "names.zpl", feed });
 * const agent = new ZnsAgent({ servers: (await server.start()).endpoints, feed });
 * ```
 */
export function cloneFeed(options: CloneFeedOptions = {}): NamesFeed {
  const subtree = options.subtree ?? CLONE_FEED_SUBTREE;
  return {
    publisher: (endpoint) => new ClonePublisher(endpoint, subtree, options),
    subscriber: (endpoints) => new CloneSubscriber(endpoints, subtree, options),
  };
}

class ClonePublisher implements NamesFeedPublisher {
  readonly #endpoint: string;
  readonly #subtree: string;
  readonly #options: CloneFeedOptions;
  #server: CloneServer | undefined;
  #writer: CloneClient | undefined;
  #published = new Map<string, string>();
  #queue: Promise<void> = Promise.resolve();
  #failures = 0;
  #closed: Promise<void> | undefined;
  readonly #done = deferred<Error | undefined>();
  readonly closed: Promise<Error | undefined> = this.#done.promise;

  constructor(endpoint: string, subtree: string, options: CloneFeedOptions) {
    this.#endpoint = endpoint;
    this.#subtree = subtree;
    this.#options = options;
  }

  async start(): Promise<{ endpoints: string[] }> {
    const parsed = parseEndpoint(this.#endpoint);
    if (parsed.transport !== "tcp" || parsed.host === undefined)
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `clone feed: ${this.#endpoint} is not tcp://host:port`,
      );
    const host = parsed.host === "*" ? "0.0.0.0" : parsed.host;
    let endpoints: CloneServerEndpoints | undefined;
    for (let attempt = 0; endpoints === undefined; attempt++) {
      // The 12/CHP convention P, P+1, P+2: a wildcard picks P at random and retries when taken.
      const port =
        parsed.port === "*" || parsed.port === 0
          ? 20_000 + Math.floor(Math.random() * 40_000)
          : parsed.port!;
      const server = new CloneServer({
        bind: `tcp://${parsed.host}:${port}`,
        ...pick(this.#options, ["hugzInterval", "logger", "dataDir"]),
      });
      try {
        endpoints = await server.start();
        this.#server = server;
      } catch (e) {
        await server.close();
        if (parsed.port !== "*" && parsed.port !== 0) throw e;
        if (attempt >= 20) throw e;
      }
    }
    void this.#server!.closed.then((error) => {
      if (error !== undefined) this.#done.resolve(error);
    });
    const local = `tcp://${host === "0.0.0.0" ? "127.0.0.1" : host}:${Number(/:(\d+)$/.exec(endpoints.snapshot)?.[1])}`;
    this.#writer = new CloneClient({
      servers: local,
      ...pick(this.#options, ["serverTtl", "subscribeWait", "logger"]),
    });
    await this.#writer.start();
    await this.#writer.waitSynced();
    const port = Number(/:(\d+)$/.exec(endpoints.snapshot)?.[1]);
    return { endpoints: [`tcp://${parsed.host}:${port}`.replace("tcp://*:", "tcp://0.0.0.0:")] };
  }

  publish(table: NamesTable): void {
    const json = JSON.parse(tableToJson(table)) as {
      version: number;
      defaultEnv?: string;
      names: { name: string }[];
    };
    const next = new Map<string, string>();
    next.set(
      `${this.#subtree}meta`,
      JSON.stringify({ version: json.version, defaultEnv: json.defaultEnv }),
    );
    for (const entry of json.names)
      next.set(`${this.#subtree}names/${entry.name}`, JSON.stringify(entry));
    const previous = this.#published;
    this.#published = next;
    const writer = this.#writer;
    if (writer === undefined) return;
    this.#queue = this.#queue.then(async () => {
      const work: Promise<unknown>[] = [];
      for (const [key, value] of next)
        if (previous.get(key) !== value) work.push(writer.set(key, value));
      for (const key of previous.keys()) if (!next.has(key)) work.push(writer.delete(key));
      const results = await Promise.allSettled(work);
      this.#failures += results.filter((r) => r.status === "rejected").length;
    });
  }

  stats(): Record<string, number> {
    return { entries: Math.max(0, this.#published.size - 1), setFailures: this.#failures };
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#queue.catch(() => undefined);
      await this.#writer?.close();
      await this.#server?.close();
      this.#done.resolve(undefined);
    })();
    return this.#closed;
  }
}

class CloneSubscriber implements NamesFeedSubscriber {
  readonly #client: CloneClient;
  readonly #subtree: string;
  #heard: number | undefined;
  #scheduled = false;
  #protocolErrors = 0;
  #tables = 0;
  #closed: Promise<void> | undefined;
  readonly #done = deferred<Error | undefined>();
  readonly closed: Promise<Error | undefined> = this.#done.promise;

  constructor(endpoints: readonly string[], subtree: string, options: CloneFeedOptions) {
    this.#subtree = subtree;
    // The whole map (the feed's own Clone server holds only the names): a Clone client
    // detects a sequence gap, and re-syncs, only when it mirrors every key.
    this.#client = new CloneClient({
      servers: endpoints,
      ...pick(options, ["serverTtl", "subscribeWait", "logger"]),
    });
  }

  async start(onTable: (table: NamesTable) => void): Promise<void> {
    const rebuild = (): void => {
      if (this.#scheduled) return;
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        if (this.#client.syncState !== "active") return;
        this.#heard = performance.now();
        const meta = this.#client.getString(`${this.#subtree}meta`);
        const names: unknown[] = [];
        for (const [, value] of this.#client.entries(`${this.#subtree}names/`)) {
          try {
            names.push(JSON.parse(value.toString("utf8")));
          } catch {
            this.#protocolErrors++;
          }
        }
        try {
          const header = meta === undefined ? { version: 1 } : (JSON.parse(meta) as object);
          const table = tableFromJson(JSON.stringify({ ...header, names }));
          this.#tables++;
          onTable(table);
        } catch {
          this.#protocolErrors++;
        }
      });
    };
    this.#client.on("snapshot:applied", rebuild);
    this.#client.on("update:applied", rebuild);
    void this.#client.closed.then((error) => {
      if (error !== undefined) this.#done.resolve(error);
    });
    await this.#client.start();
  }

  lastHeard(): number | undefined {
    // HUGZ keep the Clone client active; it leaves "active" when its server falls silent.
    if (this.#client.syncState === "active") this.#heard = performance.now();
    return this.#heard;
  }

  stats(): Record<string, number> {
    return { ...this.#client.stats(), tables: this.#tables, tableErrors: this.#protocolErrors };
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#client.close();
      this.#done.resolve(undefined);
    })();
    return this.#closed;
  }
}
