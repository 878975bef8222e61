import {
  assertArgument,
  Component,
  connectAll,
  createDealer,
  EMPTY_FRAME,
  endpointsOption,
  isZgError,
  lingerOption,
  ProtocolError,
  SocketLoop,
  splitEnvelope,
  type ComponentOptions,
  type Message,
} from "@zg/core";
import { replyFrames, type RequestHandler } from "../common/handler.js";
import { READY_BYTE } from "../lb/load-balancing-broker.js";

/** Options of {@link SimplePirateWorker}. */
export interface SimplePirateWorkerOptions extends ComponentOptions {
  /**
   * The queue's backend endpoint(s). Required; the deprecated `endpoint` is
   * read when it is absent.
   */
  queue?: string | readonly string[];
  /** @deprecated Since 0.2: use {@link SimplePirateWorkerOptions.queue} (same meaning). */
  endpoint?: string | readonly string[];
  /** Handles one request body and returns the reply body. */
  handler: RequestHandler;
  /** Routing id of the worker socket (`spworker` uses `%04X-%04X`); libzmq's generated id when omitted. */
  routingId?: string;
  /** Socket linger in ms (-1 = forever). @defaultValue `DEFAULT_LINGER` (0) from `@zg/core` */
  linger?: number;
}

/** Stats of a {@link SimplePirateWorker}. */
export interface SimplePirateWorkerStats {
  requests: number;
  replies: number;
  handlerErrors: number;
  protocolErrors: number;
}

/** Events of a {@link SimplePirateWorker}. */
export interface SimplePirateWorkerEvents {
  /** The handler threw; the request was dropped (the client retries). */
  "handler:failed": { error: unknown };
}

/**
 * The Guide's Simple Pirate worker (ch. 4, `spworker`): a REQ-style worker
 * (a DEALER that adds the empty delimiter itself) that sends READY (`0x01`)
 * once, then answers one request at a time: it receives
 * `[""][C][""][body…]` and returns `[""][C][""][reply…]`. Works with
 * {@link SimplePirateQueue}, {@link LoadBalancingBroker} and `spqueue.py`.
 * No heartbeats and no re-registration: use {@link PirateWorker} for that.
 *
 * @example
 * ```ts
 * const worker = new SimplePirateWorker({ queue: backend[0], handler: (body) => body });
 * await worker.start();
 * await worker.close();
 * ```
 */
export class SimplePirateWorker extends Component<
  SimplePirateWorkerEvents,
  SimplePirateWorkerStats
> {
  readonly #endpoints: string[];
  readonly #handler: RequestHandler;
  readonly #routingId: string | undefined;
  readonly #linger: number;
  #loop: SocketLoop | undefined;
  #chain: Promise<void> = Promise.resolve();
  readonly #stats: SimplePirateWorkerStats = {
    requests: 0,
    replies: 0,
    handlerErrors: 0,
    protocolErrors: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: SimplePirateWorkerOptions) {
    super("SimplePirateWorker", options);
    this.#endpoints = endpointsOption("queue", options.queue ?? options.endpoint);
    assertArgument(typeof options.handler === "function", "handler must be a function");
    this.#handler = options.handler;
    this.#routingId = options.routingId;
    this.#linger = lingerOption(options.linger);
  }

  /** Connects and sends READY. */
  protected onStart(): Promise<void> {
    const socket = this.own(
      createDealer({
        linger: this.#linger,
        ...(this.#routingId === undefined ? {} : { routingId: this.#routingId }),
      }),
    );
    connectAll(socket, this.#endpoints);
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "worker",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
      }),
    );
    this.#loop.start();
    this.#loop.post([EMPTY_FRAME, READY_BYTE]);
    return Promise.resolve();
  }

  /** Counters. */
  stats(): SimplePirateWorkerStats {
    return { ...this.#stats };
  }

  #onMessage(message: Message): void {
    try {
      if (message[0]?.length !== 0)
        throw new ProtocolError("request does not start with the empty delimiter");
      const { envelope, body } = splitEnvelope(message.slice(1));
      if (envelope.length === 0 || body.length === 0)
        throw new ProtocolError('request needs [client][""][body]');
      // Draining: take no new request (the client's retry goes to another worker). Starting:
      // serve it (READY went out in onStart; the queue now counts this worker busy until it
      // replies, so a request dropped here would take the worker out of rotation for good).
      if (!this.serving) return;
      this.#stats.requests++;
      this.#chain = this.track(this.#chain.then(() => this.#serve(envelope, body)));
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#stats.protocolErrors++;
    }
  }

  async #serve(envelope: Message, body: Message): Promise<void> {
    let reply: Message;
    try {
      reply = replyFrames(await this.#handler(body));
    } catch (error) {
      this.#stats.handlerErrors++;
      this.logger.warn("handler failed; request dropped", { error: String(error) });
      this.emit("handler:failed", { error });
      // Back into rotation: the broker treats READY from a busy worker as "idle again".
      if (!this.stopping) this.#loop?.post([EMPTY_FRAME, READY_BYTE]);
      return;
    }
    if (this.stopping) return;
    if (this.#loop?.post([EMPTY_FRAME, ...envelope, EMPTY_FRAME, ...reply])) this.#stats.replies++;
  }
}
