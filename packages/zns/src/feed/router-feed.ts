import { randomBytes } from "node:crypto";
import {
  bindAll,
  Component,
  connectAll,
  createDealer,
  createRouter,
  durationOption,
  lingerOption,
  SocketLoop,
  type BoundEndpoints,
  type ComponentOptions,
  type Frame,
  type Logger,
} from "@zg/core";
import type { Dealer, Router } from "zeromq";
import { tableFromJson, tableToJson, type NamesTable } from "../names/names-file.js";
import type { NamesFeed, NamesFeedPublisher, NamesFeedSubscriber } from "./feed.js";
import { decodeFeed, encodeFeed } from "./protocol.js";

/** Agent sync interval, 1000 ms: also the feed heartbeat (Guide Clone `clonecli6` pings each second). */
export const DEFAULT_SYNC_INTERVAL = 1000;
/** Largest feed message a server accepts (SYNCs are tiny), 64 KiB. */
export const DEFAULT_FEED_MAX_MESSAGE_SIZE = 65_536;

/** Options of {@link routerFeed}. Durations in ms. */
export interface RouterFeedOptions extends ComponentOptions {
  /** How often an agent sends SYNC (and so how fast it notices a restarted server). @defaultValue {@link DEFAULT_SYNC_INTERVAL} */
  syncInterval?: number;
  /** Socket linger in ms. @defaultValue 0 */
  linger?: number;
}

/** Events of the router feed. */
export interface RouterFeedEvents {
  "protocol:invalid": { reason: string };
}

/** The feed socket's loop (closes the socket with it). */
function feedLoop(
  socket: Router | Dealer,
  logger: Logger,
  onMessage: (m: Frame[]) => void,
): SocketLoop {
  return new SocketLoop(socket, { name: "feed", logger, onMessage }).start();
}

/** Stats of the router feed publisher. */
export interface RouterFeedPublisherStats {
  [key: string]: number;
  /** Agents heard within three sync intervals (a level). */
  clients: number;
  syncs: number;
  tablesSent: number;
  protocolErrors: number;
}

/**
 * The project's own names feed (ZNSF01): a ROUTER on the server, a DEALER per
 * agent. The agent sends `SYNC <version>` every `syncInterval`; the server
 * answers `HUGZ` when that version is current, else the whole `TABLE`, and
 * pushes each new table at once to every agent heard within three sync
 * intervals. Versions carry a random server epoch, so a restarted server
 * always sends its table again. Snapshot-plus-updates like Clone (ch. 5), with
 * the whole table as the one key; {@link NamesFeed} is the seam for a Clone feed.
 */
export class RouterFeedPublisher
  extends Component<RouterFeedEvents, RouterFeedPublisherStats, BoundEndpoints>
  implements NamesFeedPublisher
{
  readonly #endpoint: string;
  readonly #linger: number;
  readonly #subscriberTtl: number;
  readonly #epoch = randomBytes(4).toString("hex");
  #counter = 0;
  #version = "";
  #json = "";
  #loop: SocketLoop | undefined;
  readonly #subscribers = new Map<string, { id: Frame; seen: number }>();
  readonly #stats = { syncs: 0, tablesSent: 0, protocolErrors: 0 };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(endpoint: string, options: RouterFeedOptions = {}) {
    super("RouterFeedPublisher", options);
    this.#endpoint = endpoint;
    this.#linger = lingerOption(options.linger);
    this.#subscriberTtl =
      3 * durationOption("syncInterval", options.syncInterval, DEFAULT_SYNC_INTERVAL, { min: 10 });
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const socket = createRouter({
      linger: this.#linger,
      sendTimeout: 0,
      maxMessageSize: DEFAULT_FEED_MAX_MESSAGE_SIZE,
    });
    this.own(() => socket.close()); // until the loop owns it (a failed bind)
    const endpoints = await bindAll(socket, [this.#endpoint]);
    this.#loop = this.own(feedLoop(socket, this.logger, (m) => this.#onMessage(m)));
    return { endpoints };
  }

  publish(table: NamesTable): void {
    this.#version = `${this.#epoch}.${++this.#counter}`;
    this.#json = tableToJson(table);
    const now = performance.now();
    for (const [key, sub] of this.#subscribers) {
      if (now - sub.seen > this.#subscriberTtl) this.#subscribers.delete(key);
      else this.#sendTable(sub.id);
    }
  }

  stats(): RouterFeedPublisherStats {
    return { clients: this.#subscribers.size, ...this.#stats };
  }

  #sendTable(id: Frame): void {
    if (this.#version === "") return;
    this.#stats.tablesSent++;
    this.#loop?.post([
      id,
      ...encodeFeed({ type: "TABLE", version: this.#version, json: this.#json }),
    ]);
  }

  #onMessage(message: Frame[]): void {
    const [id, ...frames] = message;
    const decoded = id === undefined ? "no routing id" : decodeFeed(frames);
    if (typeof decoded === "string" || decoded.type !== "SYNC") {
      this.#stats.protocolErrors++;
      const reason = typeof decoded === "string" ? decoded : `unexpected ${decoded.type}`;
      this.logger.warn("bad feed message", { reason });
      this.emit("protocol:invalid", { reason });
      return;
    }
    this.#stats.syncs++;
    this.#subscribers.set(id!.toString("hex"), { id: id!, seen: performance.now() });
    if (this.#version === "") return; // nothing published yet
    if (decoded.version === this.#version)
      this.#loop?.post([id!, ...encodeFeed({ type: "HUGZ", version: this.#version })]);
    else this.#sendTable(id!);
  }
}

/** Stats of the router feed subscriber. */
export interface RouterFeedSubscriberStats {
  [key: string]: number;
  syncs: number;
  tables: number;
  hugz: number;
  protocolErrors: number;
}

/** The agent side of the ZNSF01 feed (see {@link RouterFeedPublisher}). */
export class RouterFeedSubscriber
  extends Component<RouterFeedEvents, RouterFeedSubscriberStats>
  implements NamesFeedSubscriber
{
  readonly #endpoints: readonly string[];
  readonly #linger: number;
  readonly #syncInterval: number;
  #version = "";
  #lastHeard: number | undefined;
  #onTable: (table: NamesTable) => void = () => {};
  #loop: SocketLoop | undefined;
  readonly #stats = { syncs: 0, tables: 0, hugz: 0, protocolErrors: 0 };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(endpoints: readonly string[], options: RouterFeedOptions = {}) {
    super("RouterFeedSubscriber", options);
    this.#endpoints = [...endpoints];
    this.#linger = lingerOption(options.linger);
    this.#syncInterval = durationOption(
      "syncInterval",
      options.syncInterval,
      DEFAULT_SYNC_INTERVAL,
      { min: 10 },
    );
  }

  override start(onTable?: (table: NamesTable) => void): Promise<void> {
    if (onTable !== undefined) this.#onTable = onTable;
    return super.start();
  }

  protected onStart(): Promise<void> {
    // SYNCs are idempotent and repeated: never queue more than a few for a server that is down.
    const socket = createDealer({
      linger: this.#linger,
      sendHighWaterMark: 4,
      sendTimeout: 0,
      reconnectInterval: 100,
      reconnectMaxInterval: 1000,
    });
    connectAll(socket, this.#endpoints);
    this.#loop = this.own(feedLoop(socket, this.logger, (m) => this.#onMessage(m)));
    this.#sync();
    this.setInterval(() => this.#sync(), this.#syncInterval);
    return Promise.resolve();
  }

  lastHeard(): number | undefined {
    return this.#lastHeard;
  }

  stats(): RouterFeedSubscriberStats {
    return { ...this.#stats };
  }

  #sync(): void {
    this.#stats.syncs++;
    this.#loop?.post(encodeFeed({ type: "SYNC", version: this.#version }));
  }

  #onMessage(frames: Frame[]): void {
    const decoded = decodeFeed(frames);
    if (typeof decoded === "string" || decoded.type === "SYNC") {
      this.#protocolError(typeof decoded === "string" ? decoded : "unexpected SYNC");
      return;
    }
    if (decoded.type === "HUGZ") {
      this.#stats.hugz++;
      if (decoded.version === this.#version) this.#lastHeard = performance.now();
      else this.#sync(); // the server moved on: ask again
      return;
    }
    let table: NamesTable;
    try {
      table = tableFromJson(decoded.json);
    } catch (e) {
      this.#protocolError((e as Error).message);
      return;
    }
    this.#stats.tables++;
    this.#version = decoded.version;
    this.#lastHeard = performance.now();
    try {
      this.#onTable(table);
    } catch (e) {
      this.logger.error("table handler failed", { error: (e as Error).message });
    }
  }

  #protocolError(reason: string): void {
    this.#stats.protocolErrors++;
    this.logger.warn("bad feed message", { reason });
    this.emit("protocol:invalid", { reason });
  }
}

/**
 * The default {@link NamesFeed}: ZNSF01 over ROUTER/DEALER
 * ({@link RouterFeedPublisher}, {@link RouterFeedSubscriber}).
 */
export function routerFeed(options: RouterFeedOptions = {}): NamesFeed {
  return {
    publisher: (endpoint) => new RouterFeedPublisher(endpoint, options),
    subscriber: (endpoints) => new RouterFeedSubscriber(endpoints, options),
  };
}
