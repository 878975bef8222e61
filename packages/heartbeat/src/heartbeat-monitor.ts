import * as zmq from "zeromq";
import {
  Component,
  connectAll,
  createSocket,
  endpointsOption,
  isZgError,
  lingerOption,
  SocketLoop,
  type Clock,
  type ComponentOptions,
  type FrameLike,
  type LingerOptions,
  type Message,
} from "@zg/core";
import {
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_LIVENESS,
  missedHeartbeat,
} from "./constants.js";
import { PresenceTracker } from "./presence-tracker.js";
import { decodeHeartbeat, HEARTBEAT_HEADER } from "./protocol/wire.js";

/** Liveness of one publisher as a {@link HeartbeatMonitor} sees it. */
export type PublisherState = "unknown" | "alive" | "silent" | "dead";

/** Options of {@link HeartbeatMonitor}. Durations in milliseconds. */
export interface HeartbeatMonitorOptions extends ComponentOptions, LingerOptions {
  /** Endpoints of the publishers to watch; each gets its own SUB socket, so every message is attributed to its publisher. */
  publishers: string | readonly string[];
  /** Topic prefixes to subscribe to; heartbeats are always subscribed. @defaultValue `[""]` (everything) */
  topics?: readonly FrameLike[];
  /**
   * Interval assumed until a publisher announces its own in a heartbeat.
   * @defaultValue {@link DEFAULT_HEARTBEAT_INTERVAL}
   */
  interval?: number;
  /** Missed intervals before a publisher is dead. @defaultValue {@link DEFAULT_HEARTBEAT_LIVENESS} */
  liveness?: number;
  /** The application's messages (heartbeats never reach it). */
  onMessage?: (message: Message, publisher: string) => void;
  /** Expiry granularity. @defaultValue 10 */
  granularity?: number;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
}

/** Events of a {@link HeartbeatMonitor}. */
export interface HeartbeatMonitorEvents {
  /** First message from a publisher, or the first after it was dead (`returned`). */
  "publisher:alive": { publisher: string; returned: boolean };
  /** Nothing from a publisher heard before, for 1.5 of its intervals (a heartbeat really missing). */
  "publisher:silent": { publisher: string; silentFor: number };
  /** Nothing for interval × liveness (or never heard within that time after start). */
  "publisher:dead": { publisher: string; silentFor: number };
}

/** Counters of a {@link HeartbeatMonitor}. */
export interface HeartbeatMonitorStats {
  received: number;
  heartbeats: number;
  protocolErrors: number;
  unknownCommands: number;
  clampedIntervals: number;
  alive: number;
  dead: number;
}

/**
 * The receiving half of the one-way heartbeat for PUB→SUB: one SUB per
 * publisher, any message counts as a sign of life, and each publisher is
 * reported `alive`, `silent` or `dead` by its own announced interval. This is
 * what lets a subscriber tell "no data" from "publisher dead", which a bare
 * SUB cannot. Owns its sockets.
 *
 * @example
 * ```ts
 * const monitor = new HeartbeatMonitor({ publishers: [a, b], onMessage: (m, from) => use(m) });
 * monitor.on("publisher:dead", ({ publisher }) => failover(publisher));
 * await monitor.start();
 * await monitor.close();
 * ```
 */
export class HeartbeatMonitor extends Component<HeartbeatMonitorEvents, HeartbeatMonitorStats> {
  readonly #linger: number;
  readonly #options: HeartbeatMonitorOptions;
  readonly #publishers: string[];
  readonly #tracker: PresenceTracker<string>;
  readonly #heard = new Set<string>();
  readonly #counters = { received: 0, heartbeats: 0, protocolErrors: 0, unknownCommands: 0 };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: HeartbeatMonitorOptions) {
    super("HeartbeatMonitor", options);
    this.#linger = lingerOption(options.linger);
    this.#options = options;
    this.#publishers = endpointsOption("publishers", options.publishers);
    this.#tracker = new PresenceTracker<string>({
      interval: options.interval ?? DEFAULT_HEARTBEAT_INTERVAL,
      liveness: options.liveness ?? DEFAULT_HEARTBEAT_LIVENESS,
      silentAfter: missedHeartbeat(options.liveness ?? DEFAULT_HEARTBEAT_LIVENESS),
      logger: this.logger,
      ...(options.granularity === undefined ? {} : { granularity: options.granularity }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    this.#tracker.on("peer:silent", ({ key, silentFor }) => {
      if (this.#heard.has(key)) this.emit("publisher:silent", { publisher: key, silentFor });
    });
    this.#tracker.on("peer:expired", ({ key, silentFor }) =>
      this.emit("publisher:dead", { publisher: key, silentFor }),
    );
  }

  /**
   * The state of one publisher (by the endpoint given in `publishers`):
   * `unknown` before start and until first heard, then `alive`, `silent` or
   * `dead` (also when never heard within interval × liveness of start).
   */
  publisherState(publisher: string): PublisherState {
    const p = this.#tracker.get(publisher);
    if (p === undefined)
      return this.state !== "idle" && this.#publishers.includes(publisher) ? "dead" : "unknown";
    if (p.state === "silent") return "silent";
    return this.#heard.has(publisher) ? "alive" : "unknown";
  }

  protected onStart(): Promise<void> {
    this.own(() => this.#tracker.close());
    const topics = this.#options.topics ?? [""];
    for (const publisher of this.#publishers) {
      const sub = createSocket(zmq.Subscriber, { linger: this.#linger });
      sub.subscribe(HEARTBEAT_HEADER);
      for (const t of topics) sub.subscribe(typeof t === "string" ? t : Buffer.from(t));
      const loop = this.own(
        new SocketLoop(sub, {
          name: "heartbeat-monitor",
          logger: this.logger,
          onMessage: (m) => this.#onMessage(m, publisher),
        }),
      );
      connectAll(sub, [publisher]);
      loop.start();
      this.#tracker.seen(publisher); // judged from start: never heard within L·I = dead
    }
    return Promise.resolve();
  }

  stats(): HeartbeatMonitorStats {
    const t = this.#tracker.stats();
    let alive = 0;
    for (const p of this.#publishers) if (this.publisherState(p) === "alive") alive++;
    return {
      ...this.#counters,
      clampedIntervals: t.clampedIntervals,
      alive,
      dead: this.#publishers.length - t.peers,
    };
  }

  #onMessage(message: Message, publisher: string): void {
    this.#counters.received++;
    let interval: number | undefined;
    let data = false;
    try {
      const d = decodeHeartbeat(message);
      if (d.kind === "data") data = true;
      else if (d.kind === "unknown") {
        this.#counters.unknownCommands++;
        this.logger.warn("unknown heartbeat command dropped", { code: d.code, publisher });
      } else {
        this.#counters.heartbeats++;
        interval = d.frame.interval;
      }
    } catch (error) {
      this.#counters.protocolErrors++;
      this.logger.warn("bad heartbeat frame dropped", {
        publisher,
        error: isZgError(error) ? error.message : String(error),
      });
    }
    const r = this.#tracker.seen(publisher, interval);
    if (r === "returned") this.emit("publisher:alive", { publisher, returned: true });
    else if (!this.#heard.has(publisher))
      this.emit("publisher:alive", { publisher, returned: false });
    this.#heard.add(publisher);
    if (data) this.#options.onMessage?.(message, publisher);
  }
}
