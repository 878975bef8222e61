import * as zmq from "zeromq";
import {
  bindAll,
  Component,
  createSocket,
  endpointsOption,
  integerOption,
  SocketLoop,
  type BoundEndpoints,
  type ComponentOptions,
  type Message,
} from "@zg/core";

/** Default bound on the topics a {@link LastValueCache} remembers. Project value (the Guide's `lvcache` is unbounded). */
export const DEFAULT_LVC_MAX_TOPICS = 100_000;

/** Options of {@link LastValueCache}. */
export interface LastValueCacheOptions extends ComponentOptions {
  /** The publisher(s) to cache, connected with a SUB subscribed to everything. */
  upstream: string | readonly string[];
  /** Where subscribers connect (an XPUB). */
  bind: string | readonly string[];
  /** Topics remembered; past it a new topic is forwarded but not cached (counted). @defaultValue {@link DEFAULT_LVC_MAX_TOPICS} */
  maxTopics?: number;
  /** Largest message accepted from upstream, bytes; 0 = no limit (ZMQ_MAXMSGSIZE). @defaultValue 1114112 */
  maxMessageSize?: number;
}

/** Counters of a {@link LastValueCache}. */
export interface LastValueCacheStats {
  /** Topics cached now. */
  topics: number;
  /** Messages forwarded from upstream. */
  forwarded: number;
  /** Cached values sent to a new subscription. */
  replayed: number;
  /** Subscriptions seen. */
  subscriptions: number;
  /** New topics not cached (over `maxTopics`). */
  uncached: number;
  /** Malformed subscription messages dropped. */
  protocolErrors: number;
}

/** Events of a {@link LastValueCache} (a closed map). */
export interface LastValueCacheEvents {
  /** Bad input on the XPUB (a subscription message that is not 0x00/0x01 + topic): counted and dropped. */
  "protocol:invalid": { socket: "subscribers"; reason: string };
}

/**
 * The Guide's last value cache (ch. 5, "Last Value Caching", `lvcache`): a
 * proxy between a publisher and its subscribers that remembers the last
 * message per topic (the first frame) and answers a new subscription with
 * the cached values of every topic it matches (prefix), so a late subscriber
 * does not wait for the next update. Built on two socket loops (SUB upstream,
 * XPUB with `verbosity: "allSubs"` downstream), not zeromq.js `Proxy`.
 *
 * As in the Guide, a replayed value goes out on the XPUB, so other
 * subscribers of that topic receive it again.
 */
export class LastValueCache extends Component<
  LastValueCacheEvents,
  LastValueCacheStats,
  BoundEndpoints
> {
  readonly #upstream: string[];
  readonly #bind: string[];
  readonly #maxTopics: number;
  readonly #maxMessageSize: number;
  readonly #cache = new Map<string, Message>();
  #xpub: SocketLoop | undefined;
  readonly #stats = { forwarded: 0, replayed: 0, subscriptions: 0, uncached: 0, protocolErrors: 0 };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: LastValueCacheOptions) {
    super("LastValueCache", options);
    this.#upstream = endpointsOption("upstream", options.upstream);
    this.#bind = endpointsOption("bind", options.bind);
    this.#maxTopics = integerOption("maxTopics", options.maxTopics, DEFAULT_LVC_MAX_TOPICS, {
      min: 1,
    });
    this.#maxMessageSize = integerOption("maxMessageSize", options.maxMessageSize, 1_114_112);
  }

  /** Counters. */
  stats(): LastValueCacheStats {
    return { topics: this.#cache.size, ...this.#stats };
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const xpub = this.own(createSocket(zmq.XPublisher, { linger: 0 }));
    xpub.verbosity = "allSubs";
    this.#xpub = this.own(
      new SocketLoop(xpub, {
        name: "subscribers",
        logger: this.logger,
        onMessage: (m) => this.#onSubscription(m),
      }),
    ).start();
    const endpoints = await bindAll(xpub, this.#bind);
    const maxMessageSize = this.#maxMessageSize === 0 ? -1 : this.#maxMessageSize;
    const sub = this.own(createSocket(zmq.Subscriber, { linger: 0, maxMessageSize }));
    sub.subscribe();
    for (const e of this.#upstream) sub.connect(e);
    this.own(
      new SocketLoop(sub, {
        name: "upstream",
        logger: this.logger,
        onMessage: (m) => this.#onUpstream(m),
      }),
    ).start();
    return { endpoints };
  }

  #onUpstream(message: Message): void {
    const topic = message[0]?.toString("latin1") ?? "";
    if (this.#cache.has(topic) || this.#cache.size < this.#maxTopics)
      this.#cache.set(topic, message);
    else this.#stats.uncached++;
    this.#stats.forwarded++;
    this.#xpub?.post(message);
  }

  #onSubscription([event]: Message): void {
    if (event === undefined || event.length === 0 || (event[0] !== 0 && event[0] !== 1)) {
      this.#stats.protocolErrors++;
      this.emit("protocol:invalid", {
        socket: "subscribers",
        reason: "not a subscription message",
      });
      return;
    }
    if (event[0] !== 1) return; // unsubscribe
    this.#stats.subscriptions++;
    const prefix = event.subarray(1).toString("latin1");
    for (const [topic, message] of this.#cache) {
      if (!topic.startsWith(prefix)) continue;
      this.#stats.replayed++;
      this.#xpub?.post(message);
    }
  }
}
