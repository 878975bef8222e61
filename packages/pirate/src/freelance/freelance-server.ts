import {
  assertArgument,
  bindAll,
  Component,
  createRouter,
  EMPTY_FRAME,
  endpointsOption,
  isZgError,
  lingerOption,
  ProtocolError,
  SocketLoop,
  splitEnvelope,
  type BoundEndpoints,
  type ComponentOptions,
  type Frame,
  type Message,
} from "@zg/core";
import type { Router } from "zeromq";
import { replyFrames, type RequestHandler } from "../common/handler.js";
import { maxMessageSizeOption, socketMaxMessageSize } from "../common/max-message-size.js";

import { FLP_PING, FLP_PONG } from "./protocol.js";

export { FLP_PING, FLP_PONG };

/** Which Freelance model a server or client speaks (Guide ch. 4, "Brokerless Reliability (Freelance Pattern)"). */
export type FreelanceModel = 1 | 2 | 3;

/** Options of {@link FreelanceServer}. */
export interface FreelanceServerOptions extends ComponentOptions {
  /**
   * The endpoint to bind. For model 3 a wildcard port (`tcp://127.0.0.1:*`)
   * is resolved first, because the server's identity must equal the endpoint
   * clients connect to. One endpoint (a list must hold exactly one).
   * @defaultValue "tcp://127.0.0.1:*"
   */
  endpoints?: string | readonly [string];
  /** @deprecated Since 0.2: use {@link FreelanceServerOptions.endpoints} (same meaning). */
  endpoint?: string;
  /** Model 3: the identity clients address, when it differs from the bound endpoint (e.g. bound `tcp://*:5555`, public `tcp://host:5555`). @defaultValue the resolved endpoint */
  publicEndpoint?: string;
  /** 1 = REP-style echo server (`flserver1`), 2 = REP with a sequence frame (`flserver2`), 3 = 10/FLP ROUTER (`flserver3`). @defaultValue 3 */
  model?: FreelanceModel;
  /** Handles a request body; must be idempotent, clients may send duplicates. */
  handler: RequestHandler;
  /** Socket linger in ms (-1 = forever). @defaultValue `DEFAULT_LINGER` (0) from `@zg/core` */
  linger?: number;
  /**
   * Largest inbound frame, bytes (ZMQ_MAXMSGSIZE; 0 = no limit): a client
   * sending a larger one is disconnected by libzmq before the frame is
   * buffered, and the handler never sees it.
   * @defaultValue 16 MiB (`DEFAULT_MDP_MAX_MESSAGE_SIZE`, the default of every broker and server)
   */
  maxMessageSize?: number;
}

/** Stats of a {@link FreelanceServer}. */
export interface FreelanceServerStats {
  requests: number;
  replies: number;
  pings: number;
  repliesDropped: number;
  handlerErrors: number;
  protocolErrors: number;
}

/** Events of a {@link FreelanceServer}. */
export interface FreelanceServerEvents {
  "protocol:invalid": { reason: string };
}

/**
 * A Freelance server (Guide ch. 4): model 1 answers REQ-style
 * `[""][body…]` with `[""][reply…]`; model 2 answers `[""][seq][body…]` with
 * `[""][seq][reply…]`; model 3 speaks 10/FLP on a ROUTER whose identity is
 * its public endpoint: `["PING"]` → `["PONG"]`, `[control][body…]` →
 * `[control][reply…]` with the control frame echoed unchanged. The handler
 * must tolerate duplicate requests. `start()` resolves with `{ endpoints }`:
 * the one endpoint clients should use (model 3: the identity). The server
 * owns its socket.
 *
 * @example
 * ```ts
 * const server = new FreelanceServer({ handler: (body) => body });
 * const [endpoint] = (await server.start()).endpoints;
 * await server.close();
 * ```
 */
export class FreelanceServer extends Component<
  FreelanceServerEvents,
  FreelanceServerStats,
  BoundEndpoints
> {
  /** The Freelance model served (1, 2 or 3). */
  readonly model: FreelanceModel;
  readonly #endpoint: string;
  readonly #publicEndpoint: string | undefined;
  readonly #handler: RequestHandler;
  readonly #linger: number;
  readonly #maxMessageSize: number;
  #loop: SocketLoop | undefined;
  readonly #stats: FreelanceServerStats = {
    requests: 0,
    replies: 0,
    pings: 0,
    repliesDropped: 0,
    handlerErrors: 0,
    protocolErrors: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: FreelanceServerOptions) {
    super("FreelanceServer", options);
    this.model = options.model ?? 3;
    assertArgument(
      this.model === 1 || this.model === 2 || this.model === 3,
      `model must be 1, 2 or 3, got ${String(options.model)}`,
    );
    const endpoints = endpointsOption("endpoints", options.endpoints ?? options.endpoint, [
      "tcp://127.0.0.1:*",
    ]);
    assertArgument(endpoints.length === 1, "endpoints must name exactly one endpoint");
    this.#endpoint = endpoints[0] as string;
    this.#publicEndpoint = options.publicEndpoint;
    assertArgument(typeof options.handler === "function", "handler must be a function");
    this.#handler = options.handler;
    this.#linger = lingerOption(options.linger);
    this.#maxMessageSize = socketMaxMessageSize(maxMessageSizeOption(options.maxMessageSize));
  }

  /** Binds. Resolves with the endpoint clients should connect to (model 3: the server identity). */
  protected async onStart(): Promise<BoundEndpoints> {
    let endpoint = this.#endpoint;
    let socket: Router;
    if (this.model === 3) {
      const wildcard = /:(\*|0)$/.test(endpoint) && endpoint.startsWith("tcp://");
      for (let attempt = 0; ; attempt++) {
        const bindTo = wildcard ? await resolvePort(this.#endpoint) : this.#endpoint;
        const identity = this.#publicEndpoint ?? bindTo;
        const candidate = createRouter({
          linger: this.#linger,
          maxMessageSize: this.#maxMessageSize,
          routingId: identity,
        });
        try {
          await bindWithRetry(candidate, bindTo);
        } catch (error) {
          candidate.close();
          // A probed port taken by someone else in the meantime: probe another one.
          if (wildcard && attempt < 3) continue;
          throw error;
        }
        socket = this.own(candidate);
        endpoint = identity;
        break;
      }
    } else {
      socket = this.own(
        createRouter({ linger: this.#linger, maxMessageSize: this.#maxMessageSize }),
      );
      [endpoint] = (await bindAll(socket, [endpoint])) as [string];
    }
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
    return { endpoints: [endpoint] };
  }

  /** Drain hook: stop reading (no new requests; model 3 pings go unanswered, so clients fail over). */
  protected override onDrain(): void {
    this.#loop?.pause();
  }

  /** Counters. */
  stats(): FreelanceServerStats {
    return { ...this.#stats };
  }

  #onMessage(message: Message): void {
    try {
      const id = message[0];
      if (id === undefined || message.length < 2) throw new ProtocolError("message has no body");
      let prefix: Frame[];
      let body: Frame[];
      if (this.model === 3) {
        const rest = message.slice(1);
        if (rest.length === 1 && (rest[0] as Frame).equals(FLP_PING)) {
          this.#stats.pings++;
          this.#loop?.post([id, FLP_PONG]);
          return;
        }
        if (rest.length < 2) throw new ProtocolError("FLP request needs [control][body…]");
        prefix = [id, rest[0] as Frame];
        body = rest.slice(1);
      } else {
        const { envelope, body: b } = splitEnvelope(message);
        if (envelope.length === 0) throw new ProtocolError("request has no routing id");
        if (this.model === 2) {
          if (b.length < 2) throw new ProtocolError("model 2 request needs [seq][body…]");
          prefix = [...envelope, EMPTY_FRAME, b[0] as Frame];
          body = b.slice(1);
        } else {
          if (b.length < 1) throw new ProtocolError("request has no body");
          prefix = [...envelope, EMPTY_FRAME];
          body = b;
        }
      }
      this.#stats.requests++;
      void this.track(this.#serve(prefix, body));
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#stats.protocolErrors++;
      this.emit("protocol:invalid", { reason: error.message });
    }
  }

  async #serve(prefix: Frame[], body: Frame[]): Promise<void> {
    let reply: Message;
    try {
      reply = replyFrames(await this.#handler(body));
    } catch (error) {
      this.#stats.handlerErrors++;
      this.logger.warn("handler failed; request dropped", { error: String(error) });
      return;
    }
    if (this.stopping) return;
    if (this.#loop?.post([...prefix, ...reply])) this.#stats.replies++;
  }
}

/** Finds a free port for `tcp://host:*` by binding and unbinding a probe socket. */
async function resolvePort(endpoint: string): Promise<string> {
  const probe = createRouter({ linger: 0 });
  try {
    const [resolved] = await bindAll(probe, [endpoint.replace(/:0$/, ":*")]);
    await probe.unbind(resolved as string);
    return resolved as string;
  } finally {
    probe.close();
  }
}

async function bindWithRetry(socket: Router, endpoint: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await bindAll(socket, [endpoint]);
      return;
    } catch (error) {
      if (i >= 20 || !(isZgError(error, "ZG_SOCKET") && error.details["code"] === "EADDRINUSE"))
        throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
