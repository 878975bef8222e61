import {
  assertArgument,
  Backoff,
  Component,
  connectAll,
  createDealer,
  DEFAULT_BACKOFF_INITIAL,
  DEFAULT_BACKOFF_MAX,
  durationOption,
  endpointsOption,
  heartbeatIntervalOption,
  isZgError,
  lingerOption,
  livenessOption,
  ReconnectingLink,
  wrapEnvelope,
  type Clock,
  type ComponentOptions,
  type Message,
} from "@zg/core";
import { replyFrames, type RequestHandler } from "../common/handler.js";
import { DEFAULT_PPP_HEARTBEAT_INTERVAL, DEFAULT_PPP_HEARTBEAT_LIVENESS } from "./pirate-queue.js";
import { decodePppQueueMessage, encodePppHeartbeat, encodePppReady } from "./protocol.js";

/** First reconnect delay, 1000 ms: Guide `ppworker` `INTERVAL_INIT` (from @zg/core {@link DEFAULT_BACKOFF_INITIAL}). */
export const DEFAULT_PPP_RECONNECT_DELAY = DEFAULT_BACKOFF_INITIAL;
/** Reconnect delay cap, 32 000 ms: Guide `ppworker` `INTERVAL_MAX` (from @zg/core {@link DEFAULT_BACKOFF_MAX}). */
export const DEFAULT_PPP_RECONNECT_MAX_DELAY = DEFAULT_BACKOFF_MAX;

/** Options of {@link PirateWorker}. Durations in milliseconds. */
export interface PirateWorkerOptions extends ComponentOptions {
  /**
   * The queue's backend endpoint(s). Required; the deprecated `endpoint` is
   * read when it is absent.
   */
  queue?: string | readonly string[];
  /** @deprecated Since 0.2: use {@link PirateWorkerOptions.queue} (same meaning). */
  endpoint?: string | readonly string[];
  /** Handles one request body and returns the reply body. Requests are served one at a time. */
  handler: RequestHandler;
  /** Heartbeat interval (Guide `HEARTBEAT_INTERVAL`). @defaultValue 1000 */
  heartbeatInterval?: number;
  /** Missed intervals before the queue is judged gone (Guide `HEARTBEAT_LIVENESS`). @defaultValue 3 */
  heartbeatLiveness?: number;
  /** First reconnect delay (Guide `INTERVAL_INIT`); it doubles per failed attempt. @defaultValue {@link DEFAULT_PPP_RECONNECT_DELAY} (1000) */
  reconnectDelay?: number;
  /** Largest reconnect delay (Guide `INTERVAL_MAX`); at least `reconnectDelay`. @defaultValue {@link DEFAULT_PPP_RECONNECT_MAX_DELAY} (32 000), or `reconnectDelay` if larger */
  reconnectMaxDelay?: number;
  /** Routing id for every socket; libzmq's generated id (a fresh one per socket) when omitted. */
  routingId?: string;
  /** Socket linger in ms (-1 = forever). @defaultValue `DEFAULT_LINGER` (0) from `@zg/core` */
  linger?: number;
  /** Time source of heartbeats and reconnect delays. @defaultValue systemClock */
  clock?: Clock;
}

/** Stats of a {@link PirateWorker}. */
export interface PirateWorkerStats {
  /** Requests received. */
  requests: number;
  /** Replies sent. */
  replies: number;
  /** Heartbeats sent. */
  heartbeatsSent: number;
  /** New sockets opened after the queue was judged gone. */
  reconnects: number;
  /** Replies not sent because the socket they came from had been replaced. */
  staleReplies: number;
  /** Handler failures (request dropped, the client retries). */
  handlerErrors: number;
  /** Malformed messages counted and dropped. */
  protocolErrors: number;
  /** True while connected (READY sent, queue alive). */
  connected: boolean;
}

/** Events of a {@link PirateWorker}. */
export interface PirateWorkerEvents {
  /** A socket was opened and READY sent (`attempt` 0 = first connect). */
  "queue:connected": { attempt: number };
  /** The queue was silent for interval × liveness; a new socket follows after `delay` ms. */
  "queue:lost": { silentFor: number; delay: number };
  /** The handler threw; the request was dropped (the client retries). */
  "handler:failed": { error: unknown };
}

/**
 * The Paranoid Pirate worker, 6/PPP (Guide ch. 4, `ppworker`), byte-compatible
 * with `ppqueue`: a DEALER that sends READY `[0x01]`, heartbeats `[0x02]` when
 * idle on the link, answers `[C][""][body]` with `[C][""][reply]`, and judges
 * the queue gone after interval × liveness of silence. It then closes the
 * socket (linger 0), waits with exponential back-off (Guide 1 s doubling to
 * 32 s), opens a new socket and sends READY again, so it survives queue
 * restarts; any message from the queue resets the back-off. All of that is
 * `@zg/core`'s {@link ReconnectingLink}.
 *
 * The worker owns its sockets. `start()` resolves once the first socket is
 * connecting (the queue need not be up).
 *
 * @example
 * ```ts
 * const worker = new PirateWorker({ queue: backend[0], handler: (body) => body });
 * await worker.start();
 * await worker.close();
 * ```
 */
export class PirateWorker extends Component<PirateWorkerEvents, PirateWorkerStats> {
  /** Heartbeat interval, ms. */
  readonly heartbeatInterval: number;
  /** Missed intervals before the queue is judged gone. */
  readonly heartbeatLiveness: number;
  readonly #handler: RequestHandler;
  readonly #link: ReconnectingLink;
  #chain: Promise<void> = Promise.resolve();
  #inFlight = 0;
  readonly #stats = {
    requests: 0,
    replies: 0,
    staleReplies: 0,
    handlerErrors: 0,
    protocolErrors: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: PirateWorkerOptions) {
    super("PirateWorker", options);
    const endpoints = endpointsOption("queue", options.queue ?? options.endpoint);
    assertArgument(typeof options.handler === "function", "handler must be a function");
    this.#handler = options.handler;
    this.heartbeatInterval = heartbeatIntervalOption(
      "heartbeatInterval",
      options.heartbeatInterval,
      DEFAULT_PPP_HEARTBEAT_INTERVAL,
    );
    this.heartbeatLiveness = livenessOption(
      "heartbeatLiveness",
      options.heartbeatLiveness,
      DEFAULT_PPP_HEARTBEAT_LIVENESS,
    );
    const delay = durationOption(
      "reconnectDelay",
      options.reconnectDelay,
      DEFAULT_PPP_RECONNECT_DELAY,
    );
    const maxDelay = durationOption(
      "reconnectMaxDelay",
      options.reconnectMaxDelay,
      Math.max(DEFAULT_PPP_RECONNECT_MAX_DELAY, delay),
    );
    assertArgument(
      maxDelay >= delay,
      `reconnectMaxDelay (${maxDelay}) must be >= reconnectDelay (${delay})`,
    );
    const backoff = new Backoff({ initial: delay, max: maxDelay });
    const routingId = options.routingId;
    const linger = lingerOption(options.linger);
    const link: ReconnectingLink = new ReconnectingLink({
      name: "worker",
      logger: this.logger,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      socket: () => {
        const socket = createDealer({
          linger,
          ...(routingId === undefined ? {} : { routingId }),
        });
        connectAll(socket, endpoints);
        return socket;
      },
      heartbeat: {
        interval: this.heartbeatInterval,
        liveness: this.heartbeatLiveness,
        send: () => void link.post(encodePppHeartbeat()),
      },
      reconnect: backoff,
      onConnect: () => void link.post(encodePppReady()),
      onMessage: (m) => this.#onMessage(link.generation, m),
    });
    link.on("link:connected", ({ attempt }) => this.emit("queue:connected", { attempt }));
    link.on("link:lost", ({ silentFor, delay }) => {
      this.logger.info("queue silent; reconnecting", { silentFor, delay });
      this.emit("queue:lost", { silentFor, delay });
    });
    this.#link = link;
  }

  /** Opens the first socket and sends READY. */
  protected onStart(): Promise<void> {
    this.watch(this.#link); // a dead reader fails the worker
    this.#link.start();
    return Promise.resolve();
  }

  /** Stops heartbeats and timers, closes the current socket. */
  protected override async onClose(): Promise<void> {
    // No wait for a running handler here: close() bounds it (closeTimeout) and a handler that
    // calls close() must not wait for itself.
    await this.#link.close();
  }

  /** Counters. */
  stats(): PirateWorkerStats {
    const link = this.#link.stats();
    return {
      ...this.#stats,
      heartbeatsSent: link.heartbeatsSent,
      reconnects: link.losses,
      connected: link.connected,
    };
  }

  #onMessage(generation: number, message: Message): void {
    let decoded;
    try {
      decoded = decodePppQueueMessage(message);
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#stats.protocolErrors++;
      this.logger.debug("malformed queue message dropped", { error: error.message });
      return;
    }
    if (decoded.type === "heartbeat") return;
    // Draining: take no new request (the client's retry goes to another worker). Starting:
    // serve it (READY went out in onStart, so the queue may hand over a request before start()
    // resolves; dropped, the attempt was lost: the client had to time out and retry).
    if (!this.serving) return;
    this.#stats.requests++;
    const { envelope, body } = decoded;
    if (this.#inFlight === 0) {
      // Fast path: nothing queued; a synchronous handler replies without a promise hop.
      let result: ReturnType<RequestHandler>;
      try {
        result = this.#handler(body);
      } catch (error) {
        this.#failed(generation, error);
        return;
      }
      if (!(result instanceof Promise)) {
        this.#reply(generation, envelope, replyFrames(result));
        return;
      }
      this.#track(this.#settle(generation, envelope, result));
      return;
    }
    this.#track(this.#chain.then(() => this.#serve(generation, envelope, body)));
  }

  #track(work: Promise<void>): void {
    this.#inFlight++;
    this.#chain = this.track(work).finally(() => {
      this.#inFlight--;
    });
  }

  async #serve(generation: number, envelope: Message, body: Message): Promise<void> {
    let result: ReturnType<RequestHandler>;
    try {
      result = this.#handler(body);
    } catch (error) {
      this.#failed(generation, error);
      return;
    }
    await this.#settle(generation, envelope, result);
  }

  async #settle(
    generation: number,
    envelope: Message,
    result: ReturnType<RequestHandler>,
  ): Promise<void> {
    let reply: Message;
    try {
      reply = replyFrames(await result);
    } catch (error) {
      this.#failed(generation, error);
      return;
    }
    this.#reply(generation, envelope, reply);
  }

  #failed(generation: number, error: unknown): void {
    this.#stats.handlerErrors++;
    this.logger.warn("handler failed; request dropped", { error: String(error) });
    this.emit("handler:failed", { error });
    // Back into rotation: the queue treats READY from a busy worker as "idle again".
    if (this.#link.isCurrent(generation)) this.#link.post(encodePppReady());
  }

  #reply(generation: number, envelope: Message, reply: Message): void {
    if (!this.#link.isCurrent(generation)) {
      this.#stats.staleReplies++;
      return;
    }
    if (this.#link.post(wrapEnvelope(envelope, reply))) this.#stats.replies++;
  }
}
