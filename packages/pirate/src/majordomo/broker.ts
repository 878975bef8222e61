import {
  assertArgument,
  bindAll,
  Component,
  createRouter,
  durationOption,
  endpointsOption,
  integerOption,
  lingerOption,
  SocketLoop,
  type Clock,
  type ComponentOptions,
  type LingerOptions,
} from "@zg/core";
import { MIN_HEARTBEAT_INTERVAL } from "@zg/heartbeat";
import { BrokerCore } from "./broker-core.js";
import { PeerOutbox } from "./broker-outbox.js";
import { maxMessageSizeOption, socketMaxMessageSize } from "../common/max-message-size.js";
import type { MajordomoBrokerEvents, MajordomoBrokerStats } from "./broker-types.js";
import {
  Federation,
  federationOptions,
  type MajordomoFederationOptions,
} from "./federation/federation.js";
import type { FederationStats } from "./federation/types.js";
import {
  DEFAULT_MDP_BACKLOG_BYTES,
  DEFAULT_MDP_HEARTBEAT_INTERVAL,
  DEFAULT_MDP_HEARTBEAT_LIVENESS,
  DEFAULT_MDP_MAX_PENDING_SERVICES,
  DEFAULT_MDP_MAX_QUEUED,
  DEFAULT_MDP_MAX_QUEUED_BYTES,
  DEFAULT_MDP_MAX_QUEUED_PER_CLIENT,
  DEFAULT_MDP_MAX_SERVICE_STATS,
  DEFAULT_MDP_MAX_SERVICES,
  DEFAULT_MDP_PEER_BACKLOG,
  DEFAULT_MDP_REQUEST_EXPIRY,
  DEFAULT_MDP_REQUEST_TIMEOUT,
  DEFAULT_MDP_REQUEUE_LIMIT,
  DEFAULT_MDP_SEND_QUEUE_LIMIT,
  DEFAULT_MDP_SERVICE_TTL,
} from "./constants.js";

const hwm = <K extends string>(name: K, v: number | undefined): Partial<Record<K, number>> =>
  v === undefined ? {} : ({ [name]: v } as Record<K, number>);

/** Options of {@link MajordomoBroker}. Durations in milliseconds. */
export interface MajordomoBrokerOptions extends ComponentOptions, LingerOptions {
  /** Endpoints to bind the one ROUTER to (clients and workers share it), e.g. `tcp://*:5555`. */
  endpoints: string | readonly string[];
  /** Heartbeat interval towards workers. @defaultValue {@link DEFAULT_MDP_HEARTBEAT_INTERVAL} (Guide `mdbroker`) */
  heartbeatInterval?: number;
  /** Missed heartbeats before a worker is expired. @defaultValue {@link DEFAULT_MDP_HEARTBEAT_LIVENESS} (Guide `mdbroker`) */
  heartbeatLiveness?: number;
  /** Longest wait in a service queue before a `"504"` error reply. @defaultValue {@link DEFAULT_MDP_REQUEST_EXPIRY} */
  requestExpiry?: number;
  /** How long a service with no workers and no queued requests is kept. @defaultValue {@link DEFAULT_MDP_SERVICE_TTL} */
  serviceTtl?: number;
  /** Requests queued per service; beyond it new ones get `"503"` (reject-newest). @defaultValue {@link DEFAULT_MDP_MAX_QUEUED} */
  maxQueued?: number;
  /**
   * Requests one client may have queued per service; beyond it its new ones
   * get `"503"`. Queues are served round-robin across clients.
   * @defaultValue {@link DEFAULT_MDP_MAX_QUEUED_PER_CLIENT}
   */
  maxQueuedPerClient?: number;
  /** Bytes of request bodies queued across services; beyond it new ones get `"503"`. @defaultValue {@link DEFAULT_MDP_MAX_QUEUED_BYTES} */
  maxQueuedBytes?: number;
  /** Services workers registered; a READY for a new service beyond it gets DISCONNECT. @defaultValue {@link DEFAULT_MDP_MAX_SERVICES} */
  maxServices?: number;
  /**
   * Services only clients asked for (no worker yet) whose requests are held;
   * beyond it requests for new names get `"503"`. Never counts against `maxServices`.
   * @defaultValue {@link DEFAULT_MDP_MAX_PENDING_SERVICES}
   */
  maxPendingServices?: number;
  /** Services listed in `stats().perService` (per-service metric labels). @defaultValue {@link DEFAULT_MDP_MAX_SERVICE_STATS} */
  maxServiceStats?: number;
  /**
   * Longest a worker may hold a request, ms (0 = no bound): then the client
   * gets `"504"` and the worker DISCONNECT; the request is not re-queued. A
   * number for every service, or per service (a record or a function; 0 = none).
   * @defaultValue {@link DEFAULT_MDP_REQUEST_TIMEOUT} (off)
   */
  requestTimeout?: number | Readonly<Record<string, number>> | ((service: string) => number);
  /**
   * Largest inbound frame, bytes (ZMQ_MAXMSGSIZE; 0 = no limit): a peer sending
   * a larger one is disconnected by libzmq. @defaultValue {@link DEFAULT_MDP_MAX_MESSAGE_SIZE}
   */
  maxMessageSize?: number;
  /** Messages held for one peer whose pipe is full, then dropped (warn). @defaultValue {@link DEFAULT_MDP_PEER_BACKLOG} */
  peerBacklog?: number;
  /** Bytes held across peers' outgoing buffers, then dropped (warn). @defaultValue {@link DEFAULT_MDP_BACKLOG_BYTES} */
  backlogBytes?: number;
  /** Re-queues of a request whose worker died before replying. @defaultValue {@link DEFAULT_MDP_REQUEUE_LIMIT} */
  requeueLimit?: number;
  /**
   * Services whose requests are never re-queued (at-most-once execution; the
   * client gets a `"502"` error reply instead). A list or a predicate.
   */
  atMostOnce?: readonly string[] | ((service: string) => boolean);
  /**
   * Expire a worker that goes silent while it handles a request (its request
   * is then re-queued). `false` keeps busy workers however long they are
   * silent, as the reference brokers do: use it for workers that, like the
   * Guide's single-threaded `mdworker`, stop heartbeating while they work on
   * long requests. @defaultValue true
   */
  expireBusyWorkers?: boolean;
  /** Bound of the ROUTER's send queue, messages. @defaultValue {@link DEFAULT_MDP_SEND_QUEUE_LIMIT} */
  sendQueueLimit?: number;
  /** ZMQ_SNDHWM of the ROUTER, messages per peer. @defaultValue 1000 (libzmq) */
  sendHighWaterMark?: number;
  /** ZMQ_RCVHWM of the ROUTER, messages per peer. @defaultValue 1000 (libzmq) */
  receiveHighWaterMark?: number;
  /**
   * @deprecated Use `sendHighWaterMark` and `receiveHighWaterMark` (the names
   * zeromq.js and every other zg component use); this sets both where they
   * are not given.
   */
  highWaterMark?: number;
  /** Time source (tests). @defaultValue systemClock */
  clock?: Clock;
  /**
   * Federate with peer brokers (Guide ch. 3 inter-broker routing): announce
   * capacity, overflow requests no idle local worker can take to a peer with
   * capacity, answer 8/MMI for the federation. See docs/federation.md.
   * @defaultValue none (a standalone broker)
   */
  federation?: MajordomoFederationOptions;
}

/**
 * The Majordomo broker (Guide ch. 4, 7/MDP + 8/MMI + 18/MDP): one ROUTER for
 * clients and workers, a request queue and an LRU idle-worker queue per
 * service, heartbeats and liveness through `@zg/heartbeat`.
 *
 * Beyond the reference brokers: queued requests expire with a recognisable
 * `"504"` error reply; empty services are removed after `serviceTtl`; a request
 * whose worker dies is re-queued once (`requeueLimit`, `atMostOnce`); queues
 * are bounded (reject-newest with `"503"`); a client request with no body
 * frame is dropped instead of crashing the broker; `mmi.services` lists live
 * services. 0.1 and 0.2 clients and workers share the socket and services.
 *
 * The broker owns its socket.
 *
 * @example
 * ```ts
 * const broker = new MajordomoBroker({ endpoints: "tcp://127.0.0.1:*" });
 * const { endpoints } = await broker.start();
 * metrics.update(broker.stats().perService);
 * await broker.close();
 * ```
 */
export class MajordomoBroker extends Component<
  MajordomoBrokerEvents,
  MajordomoBrokerStats,
  { endpoints: string[] }
> {
  readonly #linger: number;
  readonly #endpoints: string[];
  readonly #options: MajordomoBrokerOptions;
  readonly #heartbeatInterval: number;
  readonly #liveness: number;
  readonly #requestExpiry: number;
  readonly #serviceTtl: number;
  readonly #maxQueued: number;
  readonly #maxServices: number;
  readonly #requeueLimit: number;
  readonly #requestTimeout: (service: string) => number;
  readonly #ints: {
    maxQueuedPerClient: number;
    maxQueuedBytes: number;
    maxPendingServices: number;
    maxServiceStats: number;
    maxMessageSize: number;
    peerBacklog: number;
    backlogBytes: number;
    sendQueueLimit: number;
  };
  #core: BrokerCore | undefined;
  #loop: SocketLoop | undefined;
  #outbox: PeerOutbox | undefined;
  #bound: string[] = [];
  readonly #federation: ReturnType<typeof federationOptions> | undefined;
  #fed: Federation | undefined;

  constructor(options: MajordomoBrokerOptions) {
    super("majordomo-broker", options);
    this.#linger = lingerOption(options.linger);
    this.#endpoints = endpointsOption("endpoints", options.endpoints);
    this.#heartbeatInterval = durationOption(
      "heartbeatInterval",
      options.heartbeatInterval,
      DEFAULT_MDP_HEARTBEAT_INTERVAL,
      {
        min: MIN_HEARTBEAT_INTERVAL,
      },
    );
    this.#liveness = integerOption(
      "heartbeatLiveness",
      options.heartbeatLiveness,
      DEFAULT_MDP_HEARTBEAT_LIVENESS,
      { min: 1, max: 1000 },
    );
    this.#requestExpiry = durationOption(
      "requestExpiry",
      options.requestExpiry,
      DEFAULT_MDP_REQUEST_EXPIRY,
      { min: 1 },
    );
    this.#serviceTtl = durationOption("serviceTtl", options.serviceTtl, DEFAULT_MDP_SERVICE_TTL);
    this.#maxQueued = integerOption("maxQueued", options.maxQueued, DEFAULT_MDP_MAX_QUEUED, {
      min: 1,
    });
    this.#maxServices = integerOption(
      "maxServices",
      options.maxServices,
      DEFAULT_MDP_MAX_SERVICES,
      { min: 1 },
    );
    this.#requeueLimit = integerOption(
      "requeueLimit",
      options.requeueLimit,
      DEFAULT_MDP_REQUEUE_LIMIT,
      { max: 100 },
    );
    const amo = options.atMostOnce;
    assertArgument(
      amo === undefined || typeof amo === "function" || Array.isArray(amo),
      "atMostOnce must be a list or a function",
    );
    const positive = (name: keyof MajordomoBrokerOptions, fallback: number): number =>
      integerOption(name, options[name] as number | undefined, fallback, { min: 1 });
    this.#ints = {
      maxQueuedPerClient: positive("maxQueuedPerClient", DEFAULT_MDP_MAX_QUEUED_PER_CLIENT),
      maxQueuedBytes: positive("maxQueuedBytes", DEFAULT_MDP_MAX_QUEUED_BYTES),
      maxPendingServices: integerOption(
        "maxPendingServices",
        options.maxPendingServices,
        DEFAULT_MDP_MAX_PENDING_SERVICES,
      ),
      maxServiceStats: integerOption(
        "maxServiceStats",
        options.maxServiceStats,
        DEFAULT_MDP_MAX_SERVICE_STATS,
      ),
      maxMessageSize: maxMessageSizeOption(options.maxMessageSize),
      peerBacklog: positive("peerBacklog", DEFAULT_MDP_PEER_BACKLOG),
      backlogBytes: positive("backlogBytes", DEFAULT_MDP_BACKLOG_BYTES),
      sendQueueLimit: positive("sendQueueLimit", DEFAULT_MDP_SEND_QUEUE_LIMIT),
    };
    const rt = options.requestTimeout;
    const ms = (name: string, v: number | undefined): number =>
      durationOption(name, v, DEFAULT_MDP_REQUEST_TIMEOUT);
    if (typeof rt === "function") this.#requestTimeout = (s) => ms("requestTimeout", rt(s));
    else if (typeof rt === "object" && rt !== null) {
      const table = new Map<string, number>();
      for (const [k, v] of Object.entries(rt)) table.set(k, ms(`requestTimeout.${k}`, v));
      this.#requestTimeout = (s) => table.get(s) ?? 0;
    } else {
      const all = ms("requestTimeout", rt);
      this.#requestTimeout = () => all;
    }
    this.#federation =
      options.federation === undefined ? undefined : federationOptions(options.federation);
    this.#options = options;
  }

  /**
   * Drain hook (`drain()`, e.g. an app's SIGTERM): every queued request is
   * answered `"503"` `"broker shutting down"`, and so is every new one;
   * requests in workers' hands are still routed back when the workers reply.
   * `close()` without `drain()` answers nothing: queued requests are dropped,
   * as in a crash, and clients recover by their own timeouts.
   */
  protected override onDrain(): void {
    this.#core?.shutdown();
  }

  /**
   * In-flight work for `drain()`: requests in workers' hands, plus replies
   * not yet written (held for a busy peer, or in the socket's send queue).
   */
  protected override inFlight(): number {
    // core.busy includes requests in federation peers' hands.
    return (this.#core?.busy ?? 0) + (this.#outbox?.held ?? 0) + (this.#loop?.stats().queued ?? 0);
  }

  /** The endpoints actually bound (after {@link start}). */
  get endpoints(): string[] {
    return [...this.#bound];
  }

  protected async onStart(): Promise<{ endpoints: string[] }> {
    const o = this.#options;
    const amo = o.atMostOnce;
    const atMostOnce: (s: string) => boolean =
      amo === undefined ? () => false : typeof amo === "function" ? amo : (s) => amo.includes(s);
    const router = createRouter({
      linger: this.#linger,
      maxMessageSize: socketMaxMessageSize(this.#ints.maxMessageSize),
      ...hwm("sendHighWaterMark", o.sendHighWaterMark ?? o.highWaterMark),
      ...hwm("receiveHighWaterMark", o.receiveHighWaterMark ?? o.highWaterMark),
    });
    this.own(() => {
      if (!router.closed) router.close();
    });
    this.#bound = await bindAll(router, this.#endpoints);
    const fed =
      this.#federation === undefined
        ? undefined
        : new Federation(this.#federation, {
            clock: o.clock,
            linger: this.#linger,
            logger: this.logger,
            maxServices: this.#maxServices,
            maxMessageSize: socketMaxMessageSize(this.#ints.maxMessageSize),
            emit: (type, event) => this.emit(type, event as never),
          });
    const core = new BrokerCore({
      ...fed?.hooks(),
      heartbeatInterval: this.#heartbeatInterval,
      heartbeatLiveness: this.#liveness,
      requestExpiry: this.#requestExpiry,
      serviceTtl: this.#serviceTtl,
      maxQueued: this.#maxQueued,
      maxQueuedPerClient: this.#ints.maxQueuedPerClient,
      maxQueuedBytes: this.#ints.maxQueuedBytes,
      maxServices: this.#maxServices,
      maxPendingServices: this.#ints.maxPendingServices,
      maxServiceStats: this.#ints.maxServiceStats,
      requeueLimit: (s) => (atMostOnce(s) ? 0 : this.#requeueLimit),
      requestTimeout: this.#requestTimeout,
      expireBusyWorkers: o.expireBusyWorkers ?? true,
      ...(o.clock === undefined ? {} : { clock: o.clock }),
      logger: this.logger,
      post: (m) => outbox.post(m),
      emit: (type, event) => this.emit(type, event as never),
    });
    const loop = new SocketLoop(router, {
      name: "majordomo-broker",
      logger: this.logger,
      sendQueueLimit: this.#ints.sendQueueLimit,
      onMessage: (m) => core.handle(m),
      onSendFailure: (m, outcome) => {
        // A full pipe (or a full loop queue) is a burst: hold the message for that peer.
        if (outcome === "timeout" || outcome === "overflow") outbox.full(m);
        else if (outcome !== "closed") core.sendFailed(m);
      },
    });
    const outbox = new PeerOutbox(loop, {
      maxPerPeer: this.#ints.peerBacklog,
      maxBytes: this.#ints.backlogBytes,
      retryInterval: 2,
      logger: this.logger,
    });
    this.#core = this.own(core);
    this.#loop = this.own(loop);
    this.#outbox = this.own(outbox);
    loop.start();
    if (fed !== undefined) {
      this.#fed = this.own(fed);
      await fed.start(core);
    }
    this.logger.info("majordomo broker bound", { endpoints: this.#bound });
    return { endpoints: [...this.#bound] };
  }

  /**
   * Totals and per-service figures (queued, workers, idleWorkers, served,
   * expired, requeued, refused, p50/p99 ms): cheap enough for a live status
   * screen or a Prometheus scrape.
   */
  stats(): MajordomoBrokerStats & {
    socket: ReturnType<SocketLoop["stats"]> | undefined;
    federation?: FederationStats;
  } {
    const empty: MajordomoBrokerStats = {
      workers: 0,
      services: 0,
      pendingServices: 0,
      queued: 0,
      queuedBytes: 0,
      requests: 0,
      replies: 0,
      partials: 0,
      expired: 0,
      timedOut: 0,
      requeued: 0,
      lost: 0,
      refused: 0,
      mmi: 0,
      protocolErrors: 0,
      disconnects: 0,
      workersExpired: 0,
      heartbeatsSent: 0,
      sendFailures: 0,
      deferred: 0,
      dropped: 0,
      servicesOmitted: 0,
      perService: {},
    };
    return {
      ...(this.#core?.stats() ?? empty),
      deferred: this.#outbox?.deferred ?? 0,
      dropped: this.#outbox?.dropped ?? 0,
      socket: this.#loop?.stats(),
      ...(this.#fed === undefined ? {} : { federation: this.#fed.stats() }),
    };
  }
}
