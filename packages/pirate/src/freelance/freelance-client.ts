import {
  abortError,
  assertArgument,
  Component,
  connectAll,
  createDealer,
  createRouter,
  durationOption,
  EMPTY_FRAME,
  encodeDecimal,
  endpointsOption,
  identityKey,
  integerOption,
  isZgError,
  LatencyWindow,
  PendingRequests,
  SocketLoop,
  ZgError,
  type Clock,
  type ComponentOptions,
  type FrameLike,
  type LatencySummary,
  type Message,
} from "@zg/core";
import { bodyFrames } from "../common/handler.js";
import { LazySocket } from "../lazy/lazy-socket.js";
import { FlpClientCore } from "./flp-client-core.js";
import type { FreelanceModel } from "./freelance-server.js";
import { decodeShotgunReply, encodeShotgunRequest } from "./protocol.js";

/** Model 1 per-attempt timeout, 1000 ms: Guide `flclient1` `REQUEST_TIMEOUT`. */
export const DEFAULT_FL1_TIMEOUT = 1000;
/** Model 1 attempts against a single server, 3: Guide `flclient1` `MAX_RETRIES`. */
export const DEFAULT_FL1_RETRIES = 3;
/** Model 2 global timeout, 2500 ms: Guide `flclient2` `GLOBAL_TIMEOUT`. */
export const DEFAULT_FL2_TIMEOUT = 2500;
/** Model 3 global timeout, 3000 ms: Guide `flcliapi` `GLOBAL_TIMEOUT`. */
export const DEFAULT_FL3_TIMEOUT = 3000;
/** Model 3 ping interval, 2000 ms: Guide `flcliapi` `PING_INTERVAL`. */
export const DEFAULT_FL3_PING_INTERVAL = 2000;
/** Model 3 server TTL, 6000 ms: Guide `flcliapi` `SERVER_TTL`. */
export const DEFAULT_FL3_SERVER_TTL = 6000;
/**
 * Model 3 resend interval, 1000 ms (project choice: `flcliapi` re-sends on
 * every loop wake-up; a fixed interval gives each request about three tries
 * within `GLOBAL_TIMEOUT`, each to the next live server).
 */
export const DEFAULT_FL3_RESEND_INTERVAL = 1000;
/** Model 3 ping interval for servers not yet heard from, 100 ms: `flcliapi` settles 100 ms after CONNECT. */
export const DEFAULT_FL3_CONNECT_PING = 100;

/** Options of {@link FreelanceClient}. Durations in milliseconds. */
export interface FreelanceClientOptions extends ComponentOptions {
  /** Server endpoints, in priority order (model 3: each must equal that server's identity). */
  endpoints: string | readonly string[];
  /** 1 = sequential failover, 2 = shotgun, 3 = 10/FLP router-to-router. @defaultValue 3 */
  model?: FreelanceModel;
  /** Model 1: per-attempt timeout; models 2 and 3: global timeout per request. @defaultValue 1000 / 2500 / 3000 by model */
  timeout?: number;
  /** Model 1 with a single endpoint: attempts in all (with several, each endpoint is tried once). @defaultValue {@link DEFAULT_FL1_RETRIES} (3) */
  retries?: number;
  /** Model 3: ping interval. @defaultValue {@link DEFAULT_FL3_PING_INTERVAL} (2000) */
  pingInterval?: number;
  /** Model 3: a server silent this long leaves the active list. @defaultValue {@link DEFAULT_FL3_SERVER_TTL} (6000) */
  serverTtl?: number;
  /** Model 3: re-send an unanswered request (to the next live server) this often. @defaultValue {@link DEFAULT_FL3_RESEND_INTERVAL} (1000) */
  resendInterval?: number;
  /** Time source of every timeout, ping and TTL. @defaultValue systemClock */
  clock?: Clock;
}

/** Per-call options of {@link FreelanceClient.request}. */
export interface FreelanceRequestOptions {
  /** Overrides the client's `timeout` for this call. */
  timeout?: number;
  /** Aborts the request (`ZG_ABORTED`). */
  signal?: AbortSignal;
}

/** Stats of a {@link FreelanceClient}. */
export interface FreelanceClientStats {
  requests: number;
  replies: number;
  failures: number;
  /** Copies sent beyond the first (model 1 retries, model 2 extra copies, model 3 re-sends). */
  resends: number;
  /** Replies discarded: late, duplicate or unknown sequence. */
  staleReplies: number;
  /** Model 3: servers in the active list now. */
  serversAlive: number;
  /** Model 3: PINGs sent. */
  pingsSent: number;
  latency: LatencySummary;
}

/** Events of a {@link FreelanceClient}. */
export interface FreelanceClientEvents {
  [type: string]: unknown;
  /** Model 3: a server answered and joined the active list. */
  "server:alive": { endpoint: string };
  /** Model 3: a server was silent for `serverTtl` (or unroutable) and left the active list. */
  "server:expired": { endpoint: string; reason: "ttl" | "unreachable" };
  /** A request failed (no reply within its budget). */
  "request:failed": { sequence: number; endpoints: string[] };
}

/**
 * The Guide's Freelance client (ch. 4, "Brokerless Reliability (Freelance
 * Pattern)"), three models behind one `request()`:
 *
 * 1. **Sequential failover** (`flclient1`): a fresh REQ-style socket per
 *    attempt; one endpoint is tried up to `retries` times, several endpoints
 *    once each, in order; the first reply wins.
 * 2. **Shotgun** (`flclient2`): one DEALER to every server; the request
 *    `[""][seq][body…]` is sent once per server; the first reply with the
 *    matching sequence wins, later ones are discarded.
 * 3. **10/FLP** (`flcliapi`): a ROUTER connected to every server, which is
 *    addressed by its identity = its endpoint. PING/PONG every
 *    `pingInterval` keeps an active-server list with TTL `serverTtl`; a
 *    request `[control][body…]` (control = ASCII sequence) goes to the first
 *    live server and is re-sent to the next live one every `resendInterval`
 *    until a reply echoes the control frame or the global timeout passes.
 *    Servers therefore see duplicates and must be idempotent.
 *
 * Failures reject with `ZG_RETRIES_EXHAUSTED` (model 1, details: attempts,
 * endpoints) or `ZG_TIMEOUT` (models 2 and 3). Every timeout is a
 * `PendingRequests` deadline on the injected clock; model 3 is the pure
 * {@link FlpClientCore} (pings and server TTLs are deadlines too: nothing
 * polls). The client owns its sockets.
 *
 * @example
 * ```ts
 * const client = new FreelanceClient({ endpoints: [a, b, c], model: 3 });
 * await client.start();
 * const reply = await client.request("lookup x");
 * await client.close();
 * ```
 */
export class FreelanceClient extends Component<FreelanceClientEvents, FreelanceClientStats> {
  /** The Freelance model spoken (1, 2 or 3). */
  readonly model: FreelanceModel;
  /** Server endpoints in priority order. */
  readonly endpoints: string[];
  /** Model 1: per-attempt timeout; models 2–3: global timeout, ms. */
  readonly timeout: number;
  /** Model 1, single endpoint: attempts in all. */
  readonly retries: number;
  /** Model 3 ping interval, ms. */
  readonly pingInterval: number;
  /** Model 3 server TTL, ms. */
  readonly serverTtl: number;
  /** Model 3 re-send interval, ms. */
  readonly resendInterval: number;
  readonly #clock: Clock | undefined;
  #loop: SocketLoop | undefined;
  #flp: FlpClientCore | undefined;
  readonly #pending: PendingRequests<string, Message, { sends: number; timeout: number }>;
  readonly #model1Sockets = new Set<LazySocket>();
  readonly #closing = new Set<Promise<void>>();
  #sequence = 0;
  readonly #latency = new LatencyWindow();
  readonly #stats = { failures: 0, resends: 0, staleReplies: 0 };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: FreelanceClientOptions) {
    super("FreelanceClient", options);
    this.model = options.model ?? 3;
    assertArgument(
      this.model === 1 || this.model === 2 || this.model === 3,
      `model must be 1, 2 or 3, got ${String(options.model)}`,
    );
    this.endpoints = endpointsOption("endpoints", options.endpoints);
    const defaultTimeout =
      this.model === 1
        ? DEFAULT_FL1_TIMEOUT
        : this.model === 2
          ? DEFAULT_FL2_TIMEOUT
          : DEFAULT_FL3_TIMEOUT;
    this.timeout = durationOption("timeout", options.timeout, defaultTimeout, { min: 1 });
    this.retries = integerOption("retries", options.retries, DEFAULT_FL1_RETRIES, {
      min: 1,
      max: 1000,
    });
    this.pingInterval = durationOption(
      "pingInterval",
      options.pingInterval,
      DEFAULT_FL3_PING_INTERVAL,
      { min: 10 },
    );
    this.serverTtl = durationOption("serverTtl", options.serverTtl, DEFAULT_FL3_SERVER_TTL, {
      min: 10,
    });
    this.resendInterval = durationOption(
      "resendInterval",
      options.resendInterval,
      DEFAULT_FL3_RESEND_INTERVAL,
      { min: 10 },
    );
    this.#clock = options.clock;
    this.#pending = new PendingRequests({
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      timeoutError: (_key, attempts, ctx) =>
        this.model === 1
          ? new ZgError(
              "ZG_RETRIES_EXHAUSTED",
              `no reply after ${attempts} attempts (${this.endpoints.join(", ")})`,
              { details: { attempts, endpoints: this.endpoints, timeout: ctx.timeout } },
            )
          : new ZgError("ZG_TIMEOUT", `no reply from any server within ${ctx.timeout} ms`, {
              details: { endpoints: this.endpoints, timeout: ctx.timeout, sends: ctx.sends },
            }),
    });
  }

  /** Connects (models 2 and 3) and starts pinging (model 3). */
  protected onStart(): Promise<void> {
    if (this.model === 2) {
      const socket = this.own(createDealer({ linger: 0, sendTimeout: 0 }));
      connectAll(socket, this.endpoints);
      this.#loop = this.own(
        new SocketLoop(socket, {
          name: "client",
          logger: this.logger,
          onMessage: (m) => this.#onShotgunReply(m),
        }),
      );
      this.#loop.start();
    } else if (this.model === 3) {
      const socket = this.own(createRouter({ linger: 0 }));
      connectAll(socket, this.endpoints);
      const flp = new FlpClientCore({
        endpoints: this.endpoints,
        pingInterval: this.pingInterval,
        serverTtl: this.serverTtl,
        resendInterval: this.resendInterval,
        connectPing: Math.min(DEFAULT_FL3_CONNECT_PING, this.pingInterval),
        clock: this.#clock,
        send: (m) => void loop.post(m),
        onServerAlive: (endpoint) => this.emit("server:alive", { endpoint }),
        onServerExpired: (endpoint, reason) => this.emit("server:expired", { endpoint, reason }),
      });
      const loop: SocketLoop = this.own(
        new SocketLoop(socket, {
          name: "client",
          logger: this.logger,
          onMessage: (m) => flp.receive(m),
          onSendFailure: (m, outcome) => {
            if (outcome !== "closed") flp.sendFailed(m);
          },
        }),
      );
      this.#loop = loop;
      this.#flp = flp;
      this.own(() => flp.close());
      loop.start();
      flp.start();
    }
    return Promise.resolve();
  }

  /** Rejects pending requests with `ZG_CLOSED`. */
  protected override async onClose(): Promise<void> {
    this.#pending.close(new ZgError("ZG_CLOSED", "client closed"));
    this.#flp?.close();
    for (const loop of this.#model1Sockets) this.#retire(loop);
    await Promise.all([...this.#closing]);
  }

  /** Counters. */
  stats(): FreelanceClientStats {
    const p = this.#pending.stats();
    const f = this.#flp?.stats();
    return {
      requests: p.added + (f?.requests ?? 0),
      replies: p.resolved + (f?.replies ?? 0),
      failures: this.#stats.failures + (f?.failures ?? 0),
      resends: this.#stats.resends + (f?.resends ?? 0),
      staleReplies: this.#stats.staleReplies + (f?.staleReplies ?? 0),
      serversAlive: this.activeServers().length,
      pingsSent: f?.pingsSent ?? 0,
      latency: this.#latency.summary(),
    };
  }

  /** Model 3: endpoints of the servers in the active list, in priority order. */
  activeServers(): string[] {
    return this.#flp?.activeServers() ?? [];
  }

  /**
   * Sends `body` and resolves with the first reply's frames.
   *
   * @throws {@link ZgError} `ZG_RETRIES_EXHAUSTED` (model 1), `ZG_TIMEOUT`
   * (models 2, 3), `ZG_ABORTED`, `ZG_CLOSED`, `ZG_STATE` before `start()`.
   */
  async request(
    body: FrameLike | readonly FrameLike[],
    options: FreelanceRequestOptions = {},
  ): Promise<Message> {
    const timeout = durationOption("timeout", options.timeout, this.timeout, { min: 1 });
    const frames = bodyFrames(body);
    if (frames.length === 0)
      throw new ZgError("ZG_INVALID_ARGUMENT", "request body needs at least one frame");
    if (!this.running)
      throw new ZgError(this.stopping ? "ZG_CLOSED" : "ZG_STATE", "client is not running");
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal, "request");
    const started = performance.now();
    const sequence = ++this.#sequence;
    try {
      const reply =
        this.model === 1
          ? await this.#sequential(sequence, frames, timeout, signal)
          : this.model === 2
            ? await this.#shotgun(sequence, frames, timeout, signal)
            : await (this.#flp as FlpClientCore).request(frames, timeout, signal);
      this.#latency.record(performance.now() - started);
      return reply;
    } catch (error) {
      if (isZgError(error, "ZG_RETRIES_EXHAUSTED") || isZgError(error, "ZG_TIMEOUT")) {
        if (this.model !== 3) this.#stats.failures++;
        this.emit("request:failed", { sequence, endpoints: this.endpoints });
      }
      throw error;
    }
  }

  // ---- model 1: a fresh REQ-style socket per attempt ----------------------------

  #sequential(
    sequence: number,
    body: Message,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Message> {
    const plan =
      this.endpoints.length === 1
        ? Array.from({ length: this.retries }, () => this.endpoints[0] as string)
        : this.endpoints;
    const key = String(sequence);
    let attempt = 0;
    const lazy = new LazySocket({
      endpoints: () => [plan[attempt - 1] as string],
      onMessage: (m, current) => {
        if (!current || m[0]?.length !== 0 || m.length < 2) this.#stats.staleReplies++;
        else this.#pending.resolve(key, m.slice(1));
      },
      name: "client",
      logger: this.logger,
    });
    this.#model1Sockets.add(lazy);
    return this.#pending
      .add(key, {
        timeout,
        attempts: plan.length,
        ...(signal === undefined ? {} : { signal }),
        context: { sends: 0, timeout },
        send: (n) => {
          lazy.drop(); // a fresh socket per attempt, to the next endpoint of the plan
          attempt = n;
          if (n > 1) this.#stats.resends++;
          lazy.post([EMPTY_FRAME, ...body]);
        },
      })
      .finally(() => this.#retire(lazy));
  }

  // ---- model 2: one DEALER to every server, first reply wins ----------------------

  #shotgun(
    sequence: number,
    body: Message,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Message> {
    const control = encodeDecimal(sequence);
    const n = this.endpoints.length;
    return this.#pending.add(identityKey(control), {
      timeout,
      ...(signal === undefined ? {} : { signal }),
      context: { sends: n, timeout },
      send: () => {
        for (let i = 0; i < n; i++) this.#loop?.post(encodeShotgunRequest(control, body));
        this.#stats.resends += n - 1;
      },
    });
  }

  #onShotgunReply(message: Message): void {
    let reply;
    try {
      reply = decodeShotgunReply(message);
    } catch {
      this.#stats.staleReplies++;
      return;
    }
    if (!this.#pending.resolve(identityKey(reply.sequence), reply.body)) this.#stats.staleReplies++;
  }

  #retire(lazy: LazySocket): void {
    this.#model1Sockets.delete(lazy);
    const closing = lazy.close().finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
  }
}
