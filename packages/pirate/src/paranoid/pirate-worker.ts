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
  integerOption,
  isZgError,
  SocketLoop,
  wrapEnvelope,
  type ComponentOptions,
  type Message,
} from "@zg/core";
import { LinkHeartbeat } from "@zg/heartbeat";
import { replyFrames, type RequestHandler } from "../common/handler.js";
import { DEFAULT_PPP_HEARTBEAT_INTERVAL, DEFAULT_PPP_HEARTBEAT_LIVENESS } from "./pirate-queue.js";
import { decodePppQueueMessage, encodePppHeartbeat, encodePppReady } from "./protocol.js";

/** First reconnect delay, 1000 ms: Guide `ppworker` `INTERVAL_INIT` (from @zg/core {@link DEFAULT_BACKOFF_INITIAL}). */
export const DEFAULT_PPP_RECONNECT_INITIAL = DEFAULT_BACKOFF_INITIAL;
/** Reconnect delay cap, 32 000 ms: Guide `ppworker` `INTERVAL_MAX` (from @zg/core {@link DEFAULT_BACKOFF_MAX}). */
export const DEFAULT_PPP_RECONNECT_MAX = DEFAULT_BACKOFF_MAX;

/** Options of {@link PirateWorker}. Durations in milliseconds. */
export interface PirateWorkerOptions extends ComponentOptions {
  /** The queue's backend endpoint(s). */
  endpoint: string | readonly string[];
  /** Handles one request body and returns the reply body. Requests are served one at a time. */
  handler: RequestHandler;
  /** Heartbeat interval (Guide `HEARTBEAT_INTERVAL`). @defaultValue 1000 */
  heartbeatInterval?: number;
  /** Missed intervals before the queue is judged gone (Guide `HEARTBEAT_LIVENESS`). @defaultValue 3 */
  heartbeatLiveness?: number;
  /** First reconnect delay (Guide `INTERVAL_INIT`); it doubles per failed attempt. @defaultValue {@link DEFAULT_PPP_RECONNECT_INITIAL} (1000) */
  reconnectInitial?: number;
  /** Largest reconnect delay (Guide `INTERVAL_MAX`). @defaultValue {@link DEFAULT_PPP_RECONNECT_MAX} (32 000) */
  reconnectMax?: number;
  /** Routing id for every socket; libzmq's generated id (a fresh one per socket) when omitted. */
  routingId?: string;
  /** Socket linger in ms. @defaultValue 0 */
  linger?: number;
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
 * the queue gone after interval × liveness of silence (liveness from
 * `@zg/heartbeat`'s {@link LinkHeartbeat}). It then closes the socket
 * (linger 0), waits with exponential back-off (`@zg/core` {@link Backoff},
 * Guide 1 s doubling to 32 s), opens a new socket and sends READY again, so
 * it survives queue restarts. Any message from the queue resets the back-off.
 *
 * The worker owns its sockets. `start()` resolves once the first socket is
 * connecting (the queue need not be up).
 *
 * @example
 * ```ts
 * const worker = new PirateWorker({ endpoint: backend[0], handler: (body) => body });
 * await worker.start();
 * await worker.close();
 * ```
 */
export class PirateWorker extends Component<PirateWorkerEvents, PirateWorkerStats> {
  /** Heartbeat interval, ms. */
  readonly heartbeatInterval: number;
  /** Missed intervals before the queue is judged gone. */
  readonly heartbeatLiveness: number;
  readonly #endpoints: string[];
  readonly #handler: RequestHandler;
  readonly #routingId: string | undefined;
  readonly #linger: number;
  readonly #backoff: Backoff;
  #loop: SocketLoop | undefined;
  #heartbeat: LinkHeartbeat | undefined;
  #generation = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #inFlight = 0;
  readonly #stats = {
    requests: 0,
    replies: 0,
    heartbeatsSent: 0,
    reconnects: 0,
    staleReplies: 0,
    handlerErrors: 0,
    protocolErrors: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: PirateWorkerOptions) {
    super("PirateWorker", options);
    this.#endpoints = endpointsOption("endpoint", options.endpoint);
    assertArgument(typeof options.handler === "function", "handler must be a function");
    this.#handler = options.handler;
    this.heartbeatInterval = durationOption(
      "heartbeatInterval",
      options.heartbeatInterval,
      DEFAULT_PPP_HEARTBEAT_INTERVAL,
      { min: 10 },
    );
    this.heartbeatLiveness = integerOption(
      "heartbeatLiveness",
      options.heartbeatLiveness,
      DEFAULT_PPP_HEARTBEAT_LIVENESS,
      { min: 1, max: 1000 },
    );
    this.#backoff = new Backoff({
      initial: options.reconnectInitial ?? DEFAULT_PPP_RECONNECT_INITIAL,
      max:
        options.reconnectMax ?? Math.max(DEFAULT_PPP_RECONNECT_MAX, options.reconnectInitial ?? 0),
    });
    this.#routingId = options.routingId;
    this.#linger = integerOption("linger", options.linger, 0, { min: -1 });
  }

  /** Opens the first socket and sends READY. */
  protected onStart(): Promise<void> {
    this.#connect(0);
    return Promise.resolve();
  }

  /** Stops heartbeats and timers, closes the current socket. */
  protected override async onClose(): Promise<void> {
    this.#generation++;
    this.#heartbeat?.stop();
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    await this.#loop?.close();
  }

  /** Counters. */
  stats(): PirateWorkerStats {
    return {
      ...this.#stats,
      heartbeatsSent: this.#stats.heartbeatsSent,
      connected: this.#heartbeat?.running ?? false,
    };
  }

  #connect(attempt: number): void {
    const generation = ++this.#generation;
    const socket = createDealer({
      linger: this.#linger,
      ...(this.#routingId === undefined ? {} : { routingId: this.#routingId }),
    });
    connectAll(socket, this.#endpoints);
    const loop = this.watch(
      new SocketLoop(socket, {
        name: "worker",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(generation, m),
      }),
    );
    this.#loop = loop;
    const heartbeat = new LinkHeartbeat({
      interval: this.heartbeatInterval,
      liveness: this.heartbeatLiveness,
      sendHeartbeat: () => {
        this.#stats.heartbeatsSent++;
        loop.post(encodePppHeartbeat());
      },
      onDead: (silentFor) => this.#lost(generation, silentFor),
    });
    this.#heartbeat = heartbeat;
    loop.start();
    loop.post(encodePppReady());
    heartbeat.start();
    this.emit("queue:connected", { attempt });
  }

  #lost(generation: number, silentFor: number): void {
    if (generation !== this.#generation || this.stopping) return;
    this.#generation++;
    const old = this.#loop;
    this.#loop = undefined;
    void old?.close();
    const delay = this.#backoff.next();
    this.#stats.reconnects++;
    this.logger.info("queue silent; reconnecting", { silentFor, delay });
    this.emit("queue:lost", { silentFor, delay });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (!this.stopping) this.#connect(this.#backoff.attempts);
    }, delay);
  }

  #onMessage(generation: number, message: Message): void {
    if (generation !== this.#generation) return;
    this.#heartbeat?.received();
    this.#backoff.reset();
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
    // Draining: take no new request (the client's retry goes to another worker).
    if (!this.accepting) return;
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
    if (generation === this.#generation) this.#loop?.post(encodePppReady());
  }

  #reply(generation: number, envelope: Message, reply: Message): void {
    const loop = this.#loop;
    if (generation !== this.#generation || loop === undefined) {
      this.#stats.staleReplies++;
      return;
    }
    if (loop.post(wrapEnvelope(envelope, reply))) {
      this.#stats.replies++;
      this.#heartbeat?.sent();
    }
  }
}
