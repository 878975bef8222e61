import {
  assertArgument,
  bindAll,
  Component,
  createRouter,
  durationOption,
  endpointsOption,
  integerOption,
  isZgError,
  lingerOption,
  SocketLoop,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type Frame,
  type FrameLike,
  type Message,
} from "@zg/core";
import { DEFAULT_BIND_ENDPOINT } from "../common/broker-types.js";
import { maxMessageSizeOption, socketMaxMessageSize } from "../common/max-message-size.js";
import { ClientStates } from "./client-states.js";
import { decodeAsyncRequest, encodeAsyncReply } from "./protocol.js";

/** Default client-state expiry, 2000 ms: Guide ch. 3 text ("destroy a client's state after about 2 s without a request"). */
export const DEFAULT_CLIENT_EXPIRY = 2000;
/** Default most clients with state at once: 100 000 (project bound). */
export const DEFAULT_MAX_CLIENTS = 100_000;

/** What an {@link AsyncServer} handler receives besides the request. */
export interface AsyncRequestContext<S> {
  /** The client's routing id. */
  identity: Frame;
  /** The client's state, created on its first request and destroyed after `clientExpiry` of silence. */
  state: S;
  /** Sends one reply to this client (call it 0..n times, now or later). @returns false if it could not be queued. */
  reply(body: FrameLike | readonly FrameLike[]): boolean;
}

/** Options of {@link AsyncServer}. Durations in milliseconds. */
export interface AsyncServerOptions<S> extends ComponentOptions {
  /** ROUTER endpoints to bind. @defaultValue "tcp://127.0.0.1:*" */
  endpoints?: string | readonly string[];
  /** @deprecated Since 0.2: use {@link AsyncServerOptions.endpoints} (same meaning). */
  endpoint?: string | readonly string[];
  /** Called for every request; replies through `context.reply`, zero or more times. */
  handler: (request: Message, context: AsyncRequestContext<S>) => void | Promise<void>;
  /** Creates a client's state on its first request. @defaultValue () => ({}) */
  createState?: (identity: Frame) => S;
  /** Called when a client's state is destroyed after silence. */
  destroyState?: (state: S, identity: Frame) => void;
  /** Silence after which a client's state is destroyed (the requests are its heartbeats). @defaultValue {@link DEFAULT_CLIENT_EXPIRY} (2000) */
  clientExpiry?: number;
  /** Most clients with state; requests from further new clients are refused (counted). @defaultValue {@link DEFAULT_MAX_CLIENTS} */
  maxClients?: number;
  /** Socket linger in ms (-1 = forever). @defaultValue `DEFAULT_LINGER` (0) from `@zg/core` */
  linger?: number;
  /**
   * Largest inbound frame, bytes (ZMQ_MAXMSGSIZE; 0 = no limit): a client
   * sending a larger one is disconnected by libzmq before the frame is
   * buffered, and the handler never sees it.
   * @defaultValue 16 MiB (`DEFAULT_MDP_MAX_MESSAGE_SIZE`, the default of every broker and server)
   */
  maxMessageSize?: number;
  /** Time source of client expiry. @defaultValue systemClock */
  clock?: Clock;
}

/** Stats of an {@link AsyncServer}. */
export interface AsyncServerStats {
  clients: number;
  requests: number;
  replies: number;
  repliesDropped: number;
  clientsExpired: number;
  clientsRefused: number;
  handlerErrors: number;
  protocolErrors: number;
}

/** Events of an {@link AsyncServer}. */
export interface AsyncServerEvents {
  "client:joined": { identity: string };
  "client:expired": { identity: string; silentFor: number };
  "protocol:invalid": { reason: string };
}

/**
 * The Guide's asynchronous server (ch. 3, "The Asynchronous Client/Server
 * Pattern", `asyncsrv`): a ROUTER that takes `[C][body…]` from DEALER clients
 * and sends zero or more replies `[C][reply…]` per request, at any time. A
 * stateful server per the Guide: state is keyed by client identity, each
 * request counts as the client's heartbeat, and a client silent for
 * `clientExpiry` has its state destroyed (the pure `ClientStates` table on
 * a `PresenceTracker`, liveness 1). The server owns its socket.
 *
 * @example
 * ```ts
 * const server = new AsyncServer({ handler: (req, ctx) => { ctx.reply(req); ctx.reply(req); } });
 * const [endpoint] = (await server.start()).endpoints;
 * await server.close();
 * ```
 */
export class AsyncServer<S = Record<string, unknown>> extends Component<
  AsyncServerEvents,
  AsyncServerStats,
  BoundEndpoints
> {
  /** Silence after which a client's state is destroyed, ms. */
  readonly clientExpiry: number;
  readonly #endpoints: string[];
  readonly #handler: AsyncServerOptions<S>["handler"];
  readonly #linger: number;
  readonly #maxMessageSize: number;
  readonly #clients: ClientStates<S>;
  #loop: SocketLoop | undefined;
  readonly #stats = {
    requests: 0,
    replies: 0,
    repliesDropped: 0,
    handlerErrors: 0,
    protocolErrors: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: AsyncServerOptions<S>) {
    super("AsyncServer", options);
    this.#endpoints = endpointsOption("endpoints", options.endpoints ?? options.endpoint, [
      DEFAULT_BIND_ENDPOINT,
    ]);
    assertArgument(typeof options.handler === "function", "handler must be a function");
    this.#handler = options.handler;
    this.clientExpiry = durationOption(
      "clientExpiry",
      options.clientExpiry,
      DEFAULT_CLIENT_EXPIRY,
      { min: 10 },
    );
    this.#linger = lingerOption(options.linger);
    this.#maxMessageSize = socketMaxMessageSize(maxMessageSizeOption(options.maxMessageSize));
    this.#clients = new ClientStates<S>({
      expiry: this.clientExpiry,
      maxClients: integerOption("maxClients", options.maxClients, DEFAULT_MAX_CLIENTS, {
        min: 1,
      }),
      create: options.createState ?? ((): S => ({}) as S),
      destroy: options.destroyState,
      onJoined: (identity) => this.emit("client:joined", { identity }),
      onExpired: (identity, silentFor) => this.emit("client:expired", { identity, silentFor }),
      clock: options.clock,
      logger: this.logger,
    });
  }

  /** Binds and starts serving. Resolves with the real endpoints. */
  protected async onStart(): Promise<BoundEndpoints> {
    const socket = this.own(
      createRouter({ linger: this.#linger, maxMessageSize: this.#maxMessageSize }),
    );
    const endpoints = await bindAll(socket, this.#endpoints);
    this.own(this.#clients);
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "server",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
        onSendFailure: (_m, outcome) => {
          if (outcome !== "closed") this.#stats.repliesDropped++;
        },
      }),
    );
    this.#loop.start();
    return { endpoints };
  }

  /** Drain hook: stop reading new requests; replies of handlers in flight still go out. */
  protected override onDrain(): void {
    this.#loop?.pause();
  }

  /** Counters. */
  stats(): AsyncServerStats {
    return { clients: this.#clients.size, ...this.#stats, ...this.#clients.stats() };
  }

  /** The state of a client, if it has one. */
  stateOf(identity: Uint8Array): S | undefined {
    return this.#clients.get(identity);
  }

  #onMessage(message: Message): void {
    const loop = this.#loop;
    if (loop === undefined) return;
    let request;
    try {
      request = decodeAsyncRequest(message);
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#stats.protocolErrors++;
      this.emit("protocol:invalid", { reason: error.message });
      return;
    }
    const { identity: id, body } = request;
    const state = this.#clients.touch(id);
    if (state === undefined) return; // refused: the table is full (counted)
    this.#stats.requests++;
    const context: AsyncRequestContext<S> = {
      identity: id,
      state,
      reply: (reply) => {
        if (this.stopping) return false;
        const ok = loop.post(encodeAsyncReply(id, reply));
        if (ok) this.#stats.replies++;
        return ok;
      },
    };
    try {
      const r = this.#handler(body, context);
      if (r instanceof Promise) {
        this.track(r).catch((error: unknown) => {
          this.#stats.handlerErrors++;
          this.logger.warn("handler failed", { error: String(error) });
        });
      }
    } catch (error) {
      this.#stats.handlerErrors++;
      this.logger.warn("handler failed", { error: String(error) });
    }
  }
}
