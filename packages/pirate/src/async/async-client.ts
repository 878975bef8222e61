import {
  AsyncQueue,
  Component,
  connectAll,
  createDealer,
  endpointsOption,
  integerOption,
  lingerOption,
  SocketLoop,
  toFrame,
  type ComponentOptions,
  type FrameLike,
  type Message,
} from "@zg/core";

/** Default most unread replies buffered by an {@link AsyncClient}: 10 000 (project bound). */
export const DEFAULT_ASYNC_CLIENT_BUFFER = 10_000;

/** Options of {@link AsyncClient}. */
export interface AsyncClientOptions extends ComponentOptions {
  /**
   * Server endpoint(s); with several, the DEALER round-robins requests.
   * Required; the deprecated `endpoint` is read when it is absent.
   */
  server?: string | readonly string[];
  /** @deprecated Since 0.2: use {@link AsyncClientOptions.server} (same meaning). */
  endpoint?: string | readonly string[];
  /** Routing id (`asyncsrv` clients use `%04X-%04X`); libzmq's generated id when omitted. */
  routingId?: string;
  /** Unread replies buffered before further ones are dropped (counted). @defaultValue {@link DEFAULT_ASYNC_CLIENT_BUFFER} */
  bufferLimit?: number;
  /** Socket linger in ms (-1 = forever). @defaultValue `DEFAULT_LINGER` (0) from `@zg/core` */
  linger?: number;
}

/** Stats of an {@link AsyncClient}. */
export interface AsyncClientStats {
  sent: number;
  received: number;
  dropped: number;
}

/** Events of an {@link AsyncClient}. */
export interface AsyncClientEvents {
  /** A reply arrived (also yielded by {@link AsyncClient.replies}). */
  "reply:received": { body: Message };
}

/**
 * The Guide's asynchronous client (ch. 3, `asyncsrv` client task): a DEALER
 * that sends requests without waiting and receives zero or more replies per
 * request, in any order. Requests double as heartbeats for the server's
 * per-client state. The client owns its socket.
 *
 * @example
 * ```ts
 * const client = new AsyncClient({ server: endpoint });
 * await client.start();
 * client.send("request #1");
 * for await (const reply of client.replies()) { handle(reply); break; }
 * await client.close();
 * ```
 */
export class AsyncClient extends Component<AsyncClientEvents, AsyncClientStats> {
  readonly #endpoints: string[];
  readonly #routingId: string | undefined;
  readonly #linger: number;
  readonly #replies: AsyncQueue<Message>;
  #loop: SocketLoop | undefined;
  readonly #stats: AsyncClientStats = { sent: 0, received: 0, dropped: 0 };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: AsyncClientOptions) {
    super("AsyncClient", options);
    this.#endpoints = endpointsOption("server", options.server ?? options.endpoint);
    this.#routingId = options.routingId;
    this.#linger = lingerOption(options.linger);
    this.#replies = new AsyncQueue<Message>(
      integerOption("bufferLimit", options.bufferLimit, DEFAULT_ASYNC_CLIENT_BUFFER, { min: 1 }),
    );
  }

  /** Connects. */
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
        name: "client",
        logger: this.logger,
        onMessage: (m) => {
          this.#stats.received++;
          if (!this.#replies.push(m)) this.#stats.dropped++;
          this.emit("reply:received", { body: m });
        },
      }),
    );
    this.own(() => this.#replies.end());
    this.#loop.start();
    return Promise.resolve();
  }

  /** Counters. */
  stats(): AsyncClientStats {
    return { ...this.#stats };
  }

  /**
   * Queues a request without waiting for replies.
   *
   * @returns false when it could not be queued (send queue full).
   * @throws {@link ZgError} `ZG_STATE` when the client is not running.
   */
  send(body: FrameLike | readonly FrameLike[]): boolean {
    const loop = this.#loop;
    this.assertRunning("send");
    if (loop === undefined) throw this.notRunningError("send");
    const frames = Array.isArray(body)
      ? (body as readonly FrameLike[]).map(toFrame)
      : [toFrame(body as FrameLike)];
    const ok = loop.post(frames);
    if (ok) this.#stats.sent++;
    return ok;
  }

  /** The replies, in arrival order; ends on close. One consumer at a time. */
  replies(): AsyncIterable<Message> {
    return this.#replies;
  }
}
