import {
  Backoff,
  Component,
  connectAll,
  createDealer,
  durationOption,
  endpointsOption,
  heartbeatIntervalOption,
  isZgError,
  lingerOption,
  livenessOption,
  ReconnectingLink,
  systemClock,
  ZgError,
  type Clock,
  type ComponentOptions,
  type DealerSocketOptions,
  type FrameLike,
  type LingerOptions,
  type Message,
  type SendOutcome,
} from "@zg/core";
import {
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_LIVENESS,
  missedHeartbeat,
} from "./constants.js";
import { decodeHeartbeat, encodeHeartbeat } from "./protocol/wire.js";
import { TransportMonitor } from "./transport-heartbeat.js";

/** Options of {@link HeartbeatDealer}. Durations in milliseconds. */
export interface HeartbeatDealerOptions extends ComponentOptions, LingerOptions {
  /**
   * Endpoint(s) of the {@link HeartbeatRouter} (or any peer speaking the wire
   * form) to connect to. Required; the deprecated `endpoints` is read when it is absent.
   */
  router?: string | readonly string[];
  /** @deprecated Since 0.2: use {@link HeartbeatDealerOptions.router} (same meaning). */
  endpoints?: string | readonly string[];
  /**
   * The interval this side pings at when idle, announced to the peer in every
   * PING so the peer judges this link by it.
   * @defaultValue {@link DEFAULT_HEARTBEAT_INTERVAL} (Guide `ppworker` `HEARTBEAT_INTERVAL`)
   */
  interval?: number;
  /** Missed intervals before the peer is declared dead. @defaultValue {@link DEFAULT_HEARTBEAT_LIVENESS} */
  liveness?: number;
  /**
   * One probe PING after the peer was last heard, then none until it is heard
   * again: pings never pile up for a dead peer. @defaultValue true
   */
  pauseWhenSilent?: boolean;
  /**
   * After the peer is declared dead, wait this long, then close the socket
   * (linger 0: whatever was queued for the dead peer, stale pings included, is
   * discarded) and open a new one (Guide `ppworker`/`mdwrkapi`). Negative: keep
   * the socket and wait to hear from the peer. @defaultValue `interval`
   */
  reconnectDelay?: number;
  /** Routing id of the DEALER, kept across reconnects so the peer reports `peer:returned`. */
  routingId?: string;
  /** The application's messages from the peer. Heartbeat commands never reach it. */
  onMessage?: (body: Message) => void;
  /**
   * Extra DEALER socket options (HWMs, ZMTP heartbeats from
   * {@link transportHeartbeatOptions}, …). Defaults: `linger: 0`,
   * `immediate: true` (nothing is queued for a peer whose connection is not
   * complete).
   */
  socket?: Partial<DealerSocketOptions>;
  /** Time source for liveness. @defaultValue systemClock */
  clock?: Clock;
}

/** Events of a {@link HeartbeatDealer}. */
export interface HeartbeatDealerEvents {
  /** The peer was heard for the first time. */
  "peer:joined": { interval: number };
  /** Nothing heard for 1.5 intervals (a ping or pong really missing). */
  "peer:silent": { silentFor: number };
  /** Nothing heard for interval × liveness: the peer is dead. */
  "peer:expired": { silentFor: number };
  /** The peer was heard again after it expired. */
  "peer:returned": { downFor: number };
  /** A new socket replaced the old one after the peer expired. */
  "link:reconnected": { attempt: number };
}

/** Counters of a {@link HeartbeatDealer}. */
export interface HeartbeatDealerStats {
  pingsSent: number;
  pongsSent: number;
  pingsReceived: number;
  pongsReceived: number;
  heartbeatsReceived: number;
  dataReceived: number;
  dataSent: number;
  protocolErrors: number;
  unknownCommands: number;
  /** Times the peer was declared dead. */
  expired: number;
  reconnects: number;
  /** Due pings skipped because data was already queued (the line was not idle). */
  pingsSkipped: number;
  /** Messages discarded because they were still queued when the peer expired. */
  discarded: number;
}

/**
 * The DEALER side of ping-pong heartbeating: pings only when nothing else went
 * out for one interval, answers every PING with a PONG, counts any message as
 * a pong, and declares the peer dead after interval × liveness of silence.
 * Pings are never queued for a dead peer: one probe per silence
 * (`pauseWhenSilent`), `immediate: true`, at most one ping in flight and none
 * while data is queued, and a fresh socket (linger 0) after death.
 *
 * The DEALER socket is created and owned by the component.
 *
 * @example
 * ```ts
 * const link = new HeartbeatDealer({ router: endpoint, interval: 250, onMessage: (body) => handle(body) });
 * await link.start();
 * link.on("peer:expired", () => logger.warn("server gone"));
 * link.post(["hello"]);
 * await link.close();
 * ```
 */
export class HeartbeatDealer extends Component<HeartbeatDealerEvents, HeartbeatDealerStats> {
  readonly #linger: number;
  readonly interval: number;
  readonly liveness: number;
  readonly #options: HeartbeatDealerOptions;
  readonly #endpoints: string[];
  readonly #clock: Clock;
  readonly #link: ReconnectingLink;
  #heard = false;
  #dead = false;
  #transport: TransportMonitor | undefined;
  /** The loop on which a ping is still being written (at most one ping in flight per socket). */
  #pingInFlight: unknown;
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
    pingsSkipped: 0,
    discarded: 0,
  };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: HeartbeatDealerOptions) {
    super("HeartbeatDealer", options);
    this.#linger = lingerOption(options.linger);
    this.#options = options;
    this.#endpoints = endpointsOption("router", options.router ?? options.endpoints);
    this.interval = heartbeatIntervalOption(
      "interval",
      options.interval,
      DEFAULT_HEARTBEAT_INTERVAL,
    );
    this.liveness = livenessOption("liveness", options.liveness, DEFAULT_HEARTBEAT_LIVENESS);
    const reconnectDelay =
      options.reconnectDelay !== undefined && options.reconnectDelay < 0
        ? -1
        : durationOption("reconnectDelay", options.reconnectDelay, this.interval);
    this.#clock = options.clock ?? systemClock;
    this.#link = new ReconnectingLink({
      name: "heartbeat-dealer",
      logger: this.logger,
      clock: this.#clock,
      socket: () => {
        const socket = createDealer({
          linger: this.#linger,
          immediate: true,
          ...(options.routingId === undefined ? {} : { routingId: options.routingId }),
          ...options.socket,
        });
        connectAll(socket, this.#endpoints);
        return socket;
      },
      heartbeat: {
        interval: this.interval,
        liveness: this.liveness,
        pauseWhenSilent: options.pauseWhenSilent ?? true,
        silentAfter: missedHeartbeat(this.liveness),
        send: () => this.#ping(),
      },
      // A fixed delay (Guide ppworker/mdwrkapi reconnect after a fixed interval).
      reconnect:
        reconnectDelay < 0 ? false : new Backoff({ initial: reconnectDelay, max: reconnectDelay }),
      holdDuringDelay: true, // a peer heard again before the delay ends keeps its socket
      onConnect: () => this.#ping(), // hello: tells the peer we exist and which interval to judge us by
      onMessage: (m) => this.#onMessage(m),
      onSendFailure: (_m, outcome) => {
        if (outcome === "closed") this.#counters.discarded++;
      },
    });
    this.#link.on("link:silent", ({ silentFor }) => this.emit("peer:silent", { silentFor }));
    this.#link.on("link:lost", ({ silentFor }) => {
      this.#dead = true;
      this.emit("peer:expired", { silentFor });
    });
    this.#link.on("link:connected", ({ attempt }) => {
      if (attempt === 0) return;
      this.#transport?.close();
      this.#transport = undefined;
      this.emit("link:reconnected", { attempt });
    });
    this.#link.on("link:restored", ({ downFor }) => {
      this.#dead = false;
      this.emit("peer:returned", { downFor });
    });
  }

  /** True while the peer is considered alive (heard within interval × liveness). */
  get alive(): boolean {
    return this.#heard && !this.#dead;
  }

  protected onStart(): Promise<void> {
    this.own(async () => {
      this.#transport?.close();
      await this.#link.close();
    });
    this.watch(this.#link); // a dead reader fails the dealer
    this.#link.start();
    return Promise.resolve();
  }

  /**
   * Observes the current socket's connections (ZMTP heartbeat verdicts arrive
   * as `connection:lost`). A socket replaced after the peer expired gets a new
   * monitor: call again after `link:reconnected`. Closed with the component.
   *
   * @throws {@link ZgError} `ZG_STATE` before start.
   */
  monitorTransport(): TransportMonitor {
    const loop = this.#link.loop;
    if (loop === undefined)
      throw new ZgError("ZG_STATE", "monitorTransport() needs a started HeartbeatDealer");
    this.#transport?.close();
    this.#transport = new TransportMonitor(loop.socket, { logger: this.logger });
    return this.#transport;
  }

  /** Queues an application message (never blocks); postpones the next ping. @returns false if refused. */
  post(body: readonly FrameLike[]): boolean {
    if (this.#link.loop === undefined || !this.running) return false;
    this.#counters.dataSent++;
    return this.#link.post(body);
  }

  /** Queues an application message and resolves with its outcome (`closed` if the link was replaced first). */
  send(body: readonly FrameLike[]): Promise<SendOutcome> {
    if (this.#link.loop === undefined || !this.running) return Promise.resolve("closed");
    this.#counters.dataSent++;
    return this.#link.send(body);
  }

  stats(): HeartbeatDealerStats {
    const link = this.#link.stats();
    return { ...this.#counters, expired: link.losses, reconnects: link.reconnects };
  }

  #ping(): void {
    const loop = this.#link.loop;
    if (loop === undefined || this.stopping) return;
    if (this.#pingInFlight === loop || loop.stats().queued > 0) {
      // A ping not yet written (no connection: immediate) or data waiting: the line is not idle,
      // and a second ping would only be a stale one for the peer to receive later.
      this.#counters.pingsSkipped++;
      return;
    }
    this.#counters.pingsSent++;
    this.#pingInFlight = loop;
    void loop.send(encodeHeartbeat("ping", this.interval)).then(() => {
      if (this.#pingInFlight === loop) this.#pingInFlight = undefined;
    });
  }

  #onMessage(message: Message): void {
    if (!this.#heard) {
      this.#heard = true;
      this.emit("peer:joined", { interval: this.interval });
    }
    let decoded;
    try {
      decoded = decodeHeartbeat(message);
    } catch (error) {
      this.#counters.protocolErrors++;
      this.logger.warn("bad heartbeat frame dropped", {
        error: isZgError(error) ? error.message : String(error),
      });
      return;
    }
    if (decoded.kind === "data") {
      this.#counters.dataReceived++;
      this.#options.onMessage?.(message);
    } else if (decoded.kind === "unknown") {
      this.#counters.unknownCommands++;
      this.logger.warn("unknown heartbeat command dropped", { code: decoded.code });
    } else if (decoded.frame.command === "ping") {
      this.#counters.pingsReceived++;
      this.#counters.pongsSent++;
      this.#link.post(encodeHeartbeat("pong"));
    } else if (decoded.frame.command === "pong") {
      this.#counters.pongsReceived++;
    } else {
      this.#counters.heartbeatsReceived++;
    }
  }
}
