import {
  bindAll,
  Component,
  createRouter,
  durationOption,
  endpointsOption,
  integerOption,
  assertArgument,
  SocketLoop,
  type Clock,
  type ComponentOptions,
} from "@zg/core";
import { MIN_HEARTBEAT_INTERVAL } from "@zg/heartbeat";
import {
  BrokerCore,
  type MajordomoBrokerEvents,
  type MajordomoBrokerStats,
} from "./broker-core.js";
import {
  DEFAULT_MDP_HEARTBEAT_INTERVAL,
  DEFAULT_MDP_HEARTBEAT_LIVENESS,
  DEFAULT_MDP_MAX_QUEUED,
  DEFAULT_MDP_MAX_SERVICES,
  DEFAULT_MDP_REQUEST_EXPIRY,
  DEFAULT_MDP_REQUEUE_LIMIT,
  DEFAULT_MDP_SERVICE_TTL,
} from "./constants.js";

/** Options of {@link MajordomoBroker}. Durations in milliseconds. */
export interface MajordomoBrokerOptions extends ComponentOptions {
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
  /** Services tracked; requests for (and READY of) new services beyond it are refused. @defaultValue {@link DEFAULT_MDP_MAX_SERVICES} */
  maxServices?: number;
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
  /** Bound of the ROUTER's send queue, messages. @defaultValue 10 000 */
  sendQueueLimit?: number;
  /** ZMQ_SNDHWM / ZMQ_RCVHWM of the ROUTER. @defaultValue 1000 (libzmq) */
  highWaterMark?: number;
  /** Time source (tests). @defaultValue systemClock */
  clock?: Clock;
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
  readonly #endpoints: string[];
  readonly #options: MajordomoBrokerOptions;
  readonly #heartbeatInterval: number;
  readonly #liveness: number;
  readonly #requestExpiry: number;
  readonly #serviceTtl: number;
  readonly #maxQueued: number;
  readonly #maxServices: number;
  readonly #requeueLimit: number;
  #core: BrokerCore | undefined;
  #loop: SocketLoop | undefined;
  #draining = false;
  #bound: string[] = [];

  constructor(options: MajordomoBrokerOptions) {
    super("majordomo-broker", options);
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
    integerOption("sendQueueLimit", options.sendQueueLimit, 10_000, { min: 1 });
    this.#options = options;
  }

  /** Drain hook: stop taking client requests; workers' replies still flow. */
  protected override onDrain(): void {
    this.#draining = true;
  }

  /** In-flight work for `drain()`: queued requests + busy workers. */
  protected override inFlight(): number {
    const s = this.#core?.stats();
    if (s === undefined) return 0;
    let busy = 0;
    for (const p of Object.values(s.perService)) busy += p.workers - p.idleWorkers;
    return s.queued + busy;
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
      linger: 0,
      ...(o.highWaterMark === undefined
        ? {}
        : { sendHighWaterMark: o.highWaterMark, receiveHighWaterMark: o.highWaterMark }),
    });
    this.own(() => {
      if (!router.closed) router.close();
    });
    this.#bound = await bindAll(router, this.#endpoints);
    const core = new BrokerCore({
      heartbeatInterval: this.#heartbeatInterval,
      heartbeatLiveness: this.#liveness,
      requestExpiry: this.#requestExpiry,
      serviceTtl: this.#serviceTtl,
      maxQueued: this.#maxQueued,
      maxServices: this.#maxServices,
      requeueLimit: (s) => (atMostOnce(s) ? 0 : this.#requeueLimit),
      expireBusyWorkers: o.expireBusyWorkers ?? true,
      ...(o.clock === undefined ? {} : { clock: o.clock }),
      logger: this.logger,
      post: (m) => void loop.post(m),
      emit: (type, event) => this.emit(type, event as never),
    });
    const loop = new SocketLoop(router, {
      name: "majordomo-broker",
      logger: this.logger,
      sendQueueLimit: o.sendQueueLimit ?? 10_000,
      onMessage: (m) => {
        // Draining: client requests are dropped unanswered (their retries go to another broker).
        if (this.#draining && isClientMessage(m)) return;
        core.handle(m);
      },
      onSendFailure: (m, outcome) => {
        if (outcome !== "closed") core.sendFailed(m);
      },
    });
    this.#core = this.own(core);
    this.#loop = this.own(loop);
    loop.start();
    this.logger.info("majordomo broker bound", { endpoints: this.#bound });
    return { endpoints: [...this.#bound] };
  }

  /**
   * Totals and per-service figures (queued, workers, idleWorkers, served,
   * expired, requeued, refused, p50/p99 ms): cheap enough for a live status
   * screen or a Prometheus scrape.
   */
  stats(): MajordomoBrokerStats & { socket: ReturnType<SocketLoop["stats"]> | undefined } {
    const empty: MajordomoBrokerStats = {
      workers: 0,
      services: 0,
      queued: 0,
      requests: 0,
      replies: 0,
      partials: 0,
      expired: 0,
      requeued: 0,
      lost: 0,
      refused: 0,
      mmi: 0,
      protocolErrors: 0,
      disconnects: 0,
      workersExpired: 0,
      heartbeatsSent: 0,
      sendFailures: 0,
      perService: {},
    };
    return { ...(this.#core?.stats() ?? empty), socket: this.#loop?.stats() };
  }
}

/** True for `[client][""]["MDPC0x"]…`: a client's message, not a worker's. */
function isClientMessage(m: readonly Buffer[]): boolean {
  const h = m[2];
  return h !== undefined && h.length === 6 && h[3] === 0x43 /* "C" of MDPC */ && h[0] === 0x4d;
}
