import {
  assertArgument,
  Component,
  endpointsOption,
  type BoundEndpoints,
  type ComponentOptions,
} from "@zg/core";
import type { NamesFeed, NamesFeedPublisher } from "../feed/feed.js";
import { Beacon, type BeaconOptions } from "../discovery/beacon.js";
import type { RouterFeedOptions } from "../feed/router-feed.js";
import { feedOption, toggleOption, watchIntervalOption } from "../internal/options.js";
import { readWithStat, watchFile } from "../internal/watch-file.js";
import { parseNamesFile, type NamesTable } from "../names/names-file.js";

/** Options of {@link ZnsServer}. Durations in ms. */
export interface ZnsServerOptions extends ComponentOptions {
  /** Path of the names file (ZPL, see {@link parseNamesFile}). */
  names: string;
  /** Feed endpoint agents connect to (one). @defaultValue "tcp://127.0.0.1:*" */
  endpoints?: string | readonly [string];
  /** How often the names file is checked for changes. @defaultValue {@link DEFAULT_WATCH_INTERVAL} (250) */
  watchInterval?: number;
  /** The feed implementation. @defaultValue {@link routerFeed}(feedOptions) */
  feed?: NamesFeed;
  /** Options of the default feed (sync interval, linger). */
  feedOptions?: RouterFeedOptions;
  /**
   * Announce the feed port with ZRE beacons (UDP discovery), so agents with
   * no server configured find this one; `true` for the defaults. The feed
   * endpoint must then be reachable from the LAN (e.g. `tcp://*:5671`).
   * @defaultValue false
   */
  announce?: boolean | Omit<BeaconOptions, "announce" | "format">;
}

/** Events of {@link ZnsServer}. */
export interface ZnsServerEvents {
  /** The names file was (re)loaded and published. */
  "names:loaded": { names: number; reloads: number };
  /** The names file changed but is not valid: the last good table stays published. */
  "names:invalid": { error: Error };
}

/** Stats of {@link ZnsServer}. */
export interface ZnsServerStats {
  /** Logical names in the published table (a level). */
  entries: number;
  /** Successful reloads after the first load. */
  reloads: number;
  /** Changed files that could not be read or were not valid. */
  fileErrors: number;
  /** Counters of the feed publisher. */
  feed: Record<string, number>;
}

/**
 * The central ZNS server (the notes' "central server"): loads the names file,
 * checks it every `watchInterval` ms, and publishes the table to every agent
 * over the names feed, snapshot first, then each change. An invalid edit is
 * reported (`names:invalid`) and the last good table stays live. `start()`
 * resolves with the feed endpoints; it throws `ZG_DECODE` when the names file
 * is not valid at start.
 *
 * @example
 * ```ts
 * const server = new ZnsServer({ names: "/etc/zns/names.zpl", endpoints: "tcp://*:5670" });
 * const { endpoints } = await server.start();
 * await server.close();
 * ```
 */
export class ZnsServer extends Component<ZnsServerEvents, ZnsServerStats, BoundEndpoints> {
  readonly #path: string;
  readonly #endpoint: string;
  readonly #watchInterval: number;
  readonly #feed: NamesFeed;
  #publisher: NamesFeedPublisher | undefined;
  #table: NamesTable | undefined;
  readonly #announce: Omit<BeaconOptions, "announce" | "format"> | undefined;
  #reloads = 0;
  #fileErrors = 0;

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: ZnsServerOptions) {
    super("ZnsServer", options);
    assertArgument(
      typeof options.names === "string" && options.names.length > 0,
      "names: a file path is required",
    );
    this.#path = options.names;
    const endpoints = endpointsOption("endpoints", options.endpoints, ["tcp://127.0.0.1:*"]);
    assertArgument(endpoints.length === 1, "endpoints must name exactly one endpoint");
    this.#endpoint = endpoints[0] as string;
    this.#watchInterval = watchIntervalOption(options.watchInterval);
    this.#announce = toggleOption(options.announce);
    this.#feed = feedOption(options);
  }

  /** The table being published (undefined before start). */
  get table(): NamesTable | undefined {
    return this.#table;
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const { text, stat } = await readWithStat(this.#path);
    this.#table = parseNamesFile(text, { source: this.#path });
    const publisher = this.own(this.#feed.publisher(this.#endpoint));
    this.#publisher = publisher;
    const { endpoints } = await publisher.start();
    publisher.publish(this.#table);
    this.own(
      watchFile(
        this.#path,
        this.#watchInterval,
        (t) => this.#reload(t),
        (e) => this.#invalid(e),
        stat,
      ),
    );
    if (this.#announce !== undefined) {
      const port = Number(/:(\d+)$/.exec(endpoints[0] ?? "")?.[1]);
      const beacon = this.own(
        new Beacon({ logger: this.logger, ...this.#announce, announce: port }),
      );
      await beacon.start();
    }
    this.logger.info("names loaded", {
      file: this.#path,
      names: this.#table.names.size,
      endpoints,
    });
    return { endpoints };
  }

  #reload(text: string): void {
    let table: NamesTable;
    try {
      table = parseNamesFile(text, { source: this.#path });
    } catch (e) {
      this.#invalid(e as Error);
      return;
    }
    this.#table = table;
    this.#reloads++;
    this.#publisher?.publish(table);
    this.logger.info("names reloaded", { names: table.names.size });
    this.emit("names:loaded", { names: table.names.size, reloads: this.#reloads });
  }

  #invalid(error: Error): void {
    this.#fileErrors++;
    this.logger.warn("names file not valid, keeping the last good table", { error: error.message });
    this.emit("names:invalid", { error });
  }

  stats(): ZnsServerStats {
    return {
      entries: this.#table?.names.size ?? 0,
      reloads: this.#reloads,
      fileErrors: this.#fileErrors,
      feed: this.#publisher?.stats() ?? {},
    };
  }
}
