import {
  bindAll,
  Component,
  createRouter,
  endpointsOption,
  heartbeatIntervalOption,
  identityFromKey,
  identityKey,
  isZgError,
  lingerOption,
  SocketLoop,
  ZgError,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type Frame,
  type FrameLike,
  type LingerOptions,
  type Message,
  type RouterSocketOptions,
} from "@zg/core";
import {
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_LIVENESS,
  missedHeartbeat,
} from "./constants.js";
import { PresenceTracker, type PresenceEvents } from "./presence-tracker.js";
import { decodeHeartbeat, encodeHeartbeat } from "./protocol/wire.js";
import { TransportMonitor } from "./transport-heartbeat.js";

/** Options of {@link HeartbeatRouter}. Durations in milliseconds. */
export interface HeartbeatRouterOptions extends ComponentOptions, LingerOptions {
  /** Endpoints to bind, e.g. `tcp://127.0.0.1:*`. */
  endpoints: string | readonly string[];
  /**
   * Interval for peers that announce none; a peer's PING may carry its own.
   * @defaultValue {@link DEFAULT_HEARTBEAT_INTERVAL} (Guide `ppqueue` `HEARTBEAT_INTERVAL`)
   */
  interval?: number;
  /** Missed intervals before a peer expires. @defaultValue {@link DEFAULT_HEARTBEAT_LIVENESS} (Guide `HEARTBEAT_LIVENESS`) */
  liveness?: number;
  /**
   * Stop pinging a peer once it is silent (one probe, then nothing until it is
   * heard), so a peer returning from an outage finds no flood of stale pings.
   * @defaultValue true
   */
  pauseWhenSilent?: boolean;
  /** The application's messages: `body` is everything after the routing id. Heartbeat commands never reach it. */
  onMessage?: (identity: Frame, body: Message) => void;
  /** Most peers tracked; more are refused (still served, not tracked). @defaultValue 1_000_000 */
  maxPeers?: number;
  /** Expiry sweep granularity. @defaultValue 10 (battery G ≤ 10 ms) */
  granularity?: number;
  /**
   * Extra ROUTER socket options (HWMs, ZMTP heartbeats from
   * {@link transportHeartbeatOptions}, …). `mandatory: true`, `sendTimeout: 0`,
   * `handover: true` and `linger: 0` are the defaults.
   */
  socket?: Partial<RouterSocketOptions>;
  /** Time source for liveness. @defaultValue systemClock */
  clock?: Clock;
}

/** Events of a {@link HeartbeatRouter}: the presence events, keyed by {@link identityKey}. */
export type HeartbeatRouterEvents = PresenceEvents<string>;

/** Counters of a {@link HeartbeatRouter}. */
export interface HeartbeatRouterStats {
  peers: number;
  silent: number;
  joined: number;
  expired: number;
  returned: number;
  pingsSent: number;
  pongsSent: number;
  pingsReceived: number;
  pongsReceived: number;
  heartbeatsReceived: number;
  dataReceived: number;
  dataSent: number;
  /** Malformed heartbeat frames (bad version, command frame, properties): counted, logged, dropped. */
  protocolErrors: number;
  /** Heartbeat messages with an unknown command code: counted, logged, dropped. */
  unknownCommands: number;
  clampedIntervals: number;
  /** Sends that found the peer gone (EHOSTUNREACH). Expiry is still decided by silence alone. */
  unreachable: number;
}

/**
 * The ROUTER side of ping-pong heartbeating ("belts and braces", Guide ch. 4):
 * binds a ROUTER, tracks every peer in a {@link PresenceTracker} (each judged
 * by the interval it announces), pings a peer only when nothing else went to
 * it for its interval, answers every PING with a PONG, counts any message as
 * a sign of life, and purges peers silent for interval × liveness.
 * Application messages pass through {@link send} and `onMessage`.
 *
 * Wire form: README "Wire format". The ROUTER socket is created and owned by
 * the component.
 *
 * @example
 * ```ts
 * const router = new HeartbeatRouter({ endpoints: "tcp://127.0.0.1:*", onMessage: (id, body) => router.send(id, body) });
 * const [endpoint] = (await router.start()).endpoints;
 * router.on("peer:expired", ({ key }) => forget(key));
 * await router.close();
 * ```
 */
export class HeartbeatRouter extends Component<
  HeartbeatRouterEvents,
  HeartbeatRouterStats,
  BoundEndpoints
> {
  readonly #linger: number;
  readonly interval: number;
  readonly #options: HeartbeatRouterOptions;
  readonly #endpoints: string[];
  readonly #tracker: PresenceTracker<string>;
  #loop: SocketLoop | undefined;
  readonly #counters = {
    pingsSent: 0,
    pongsSent: 0,
    pingsReceived: 0,
    pongsReceived: 0,
    heartbeatsReceived: 0,
    dataReceived: 0,
    dataSent: 0,
    protocolErrors: 0,
    unknownCommands: 0,
    unreachable: 0,
  };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: HeartbeatRouterOptions) {
    super("HeartbeatRouter", options);
    this.#linger = lingerOption(options.linger);
    this.#options = options;
    this.#endpoints = endpointsOption("endpoints", options.endpoints);
    this.interval = heartbeatIntervalOption(
      "interval",
      options.interval,
      DEFAULT_HEARTBEAT_INTERVAL,
    );
    this.#tracker = new PresenceTracker<string>({
      interval: this.interval,
      liveness: options.liveness ?? DEFAULT_HEARTBEAT_LIVENESS,
      pauseWhenSilent: options.pauseWhenSilent ?? true,
      silentAfter: missedHeartbeat(options.liveness ?? DEFAULT_HEARTBEAT_LIVENESS),
      sendHeartbeat: (key) => this.#ping(key),
      logger: this.logger,
      ...(options.maxPeers === undefined ? {} : { maxPeers: options.maxPeers }),
      ...(options.granularity === undefined ? {} : { granularity: options.granularity }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    for (const type of ["peer:joined", "peer:silent", "peer:expired", "peer:returned"] as const) {
      this.#tracker.on(type, (e) => this.emit(type, e as never));
    }
  }

  /** The presence table (read it; feed it only through this component). */
  get tracker(): PresenceTracker<string> {
    return this.#tracker;
  }

  /** Liveness of one peer by routing id, or `undefined` when it is not tracked (never seen or expired). */
  peer(identity: Uint8Array): ReturnType<PresenceTracker<string>["get"]> {
    return this.#tracker.get(identityKey(identity));
  }

  /**
   * Observes the owned socket's connections (the ZMTP heartbeat's verdicts
   * arrive as `connection:lost`). Call after {@link start}; the monitor is
   * closed with the component.
   *
   * @throws {@link ZgError} `ZG_STATE` before start.
   */
  monitorTransport(): TransportMonitor {
    if (this.#loop === undefined)
      throw new ZgError("ZG_STATE", "monitorTransport() needs a started HeartbeatRouter");
    return this.own(new TransportMonitor(this.#loop.socket, { logger: this.logger }));
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const socket = createRouter({ linger: this.#linger, handover: true, ...this.#options.socket });
    this.own(() => this.#tracker.close());
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "heartbeat-router",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
        onSendFailure: (_m, outcome) => {
          if (outcome === "unreachable") this.#counters.unreachable++;
        },
      }),
    );
    const bound = await bindAll(socket, this.#endpoints);
    this.#loop.start();
    return { endpoints: bound };
  }

  /**
   * Queues an application message to `identity` (never blocks). Postpones the
   * next ping to that peer.
   *
   * @returns false when it was refused (send queue full or closed).
   */
  send(identity: FrameLike, body: readonly FrameLike[]): boolean {
    const loop = this.#loop;
    if (loop === undefined || !this.running) return false;
    const id = typeof identity === "string" ? Buffer.from(identity) : identity;
    this.#counters.dataSent++;
    this.#tracker.sent(identityKey(id));
    return loop.post([id, ...body]);
  }

  stats(): HeartbeatRouterStats {
    const t = this.#tracker.stats();
    return {
      peers: t.peers,
      silent: t.silent,
      joined: t.joined,
      expired: t.expired,
      returned: t.returned,
      clampedIntervals: t.clampedIntervals,
      ...this.#counters,
    };
  }

  #ping(key: string): void {
    if (this.#loop === undefined || !this.running) return;
    this.#counters.pingsSent++;
    this.#loop.post([identityFromKey(key), ...encodeHeartbeat("ping")]);
  }

  #onMessage(message: Message): void {
    const id = message[0];
    if (id === undefined) return;
    const key = identityKey(id);
    const body = message.slice(1);
    let decoded;
    try {
      decoded = decodeHeartbeat(body);
    } catch (error) {
      this.#tracker.seen(key); // malformed, but the peer is alive
      this.#counters.protocolErrors++;
      this.logger.warn("bad heartbeat frame dropped", {
        error: isZgError(error) ? error.message : String(error),
      });
      return;
    }
    if (decoded.kind === "data") {
      this.#tracker.seen(key);
      this.#counters.dataReceived++;
      this.#options.onMessage?.(id, body);
      return;
    }
    if (decoded.kind === "unknown") {
      this.#tracker.seen(key);
      this.#counters.unknownCommands++;
      this.logger.warn("unknown heartbeat command dropped", { code: decoded.code });
      return;
    }
    const { command, interval } = decoded.frame;
    this.#tracker.seen(key, interval);
    if (command === "ping") {
      this.#counters.pingsReceived++;
      this.#counters.pongsSent++;
      this.#tracker.sent(key);
      this.#loop?.post([id, ...encodeHeartbeat("pong")]);
    } else if (command === "pong") {
      this.#counters.pongsReceived++;
    } else {
      this.#counters.heartbeatsReceived++;
    }
  }
}
