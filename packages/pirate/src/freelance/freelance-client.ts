import {
  abortError,
  assertArgument,
  Component,
  connectAll,
  createDealer,
  createRouter,
  deferred,
  durationOption,
  EMPTY_FRAME,
  encodeDecimal,
  endpointsOption,
  identityKey,
  integerOption,
  LatencyWindow,
  SocketLoop,
  ZgError,
  type ComponentOptions,
  type Deferred,
  type Frame,
  type FrameLike,
  type LatencySummary,
  type Message,
} from "@zg/core";
import { bodyFrames } from "../common/handler.js";
import { FLP_PING, FLP_PONG, type FreelanceModel } from "./freelance-server.js";

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
  /** Model 3: a server answered and joined the active list. */
  "server:alive": { endpoint: string };
  /** Model 3: a server was silent for `serverTtl` (or unroutable) and left the active list. */
  "server:expired": { endpoint: string; reason: "ttl" | "unreachable" };
  /** A request failed (no reply within its budget). */
  "request:failed": { sequence: number; endpoints: string[] };
}

interface Pending {
  sequence: number;
  control: Frame;
  body: Message;
  done: Deferred<Message>;
  resendAt: number;
  sends: number;
}

interface ServerState {
  endpoint: string;
  id: Frame;
  alive: boolean;
  expiresAt: number;
  pingAt: number;
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
 * endpoints) or `ZG_TIMEOUT` (models 2 and 3). The client owns its sockets.
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
  #loop: SocketLoop | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #servers = new Map<string, ServerState>();
  readonly #order: ServerState[] = [];
  readonly #model1Sockets = new Set<SocketLoop>();
  #sequence = 0;
  readonly #latency = new LatencyWindow();
  readonly #stats = {
    requests: 0,
    replies: 0,
    failures: 0,
    resends: 0,
    staleReplies: 0,
    pingsSent: 0,
  };

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
      const now = performance.now();
      for (const endpoint of this.endpoints) {
        const s: ServerState = {
          endpoint,
          id: Buffer.from(endpoint),
          alive: false,
          expiresAt: 0,
          pingAt: now,
        };
        this.#servers.set(identityKey(s.id), s);
        this.#order.push(s);
      }
      this.#loop = this.own(
        new SocketLoop(socket, {
          name: "client",
          logger: this.logger,
          onMessage: (m) => this.#onFlpMessage(m),
          onSendFailure: (m, outcome) => this.#onFlpSendFailure(m, outcome),
        }),
      );
      this.#loop.start();
      this.setInterval(
        () => this.#tick(),
        Math.min(DEFAULT_FL3_CONNECT_PING, this.pingInterval, this.resendInterval) / 2,
      );
    }
    return Promise.resolve();
  }

  /** Rejects pending requests with `ZG_CLOSED`. */
  protected override async onClose(): Promise<void> {
    const closed = new ZgError("ZG_CLOSED", "client closed");
    for (const p of this.#pending.values()) p.done.reject(closed);
    this.#pending.clear();
    await Promise.all([...this.#model1Sockets].map((l) => l.close()));
  }

  /** Counters. */
  stats(): FreelanceClientStats {
    return {
      ...this.#stats,
      serversAlive: this.activeServers().length,
      latency: this.#latency.summary(),
    };
  }

  /** Model 3: endpoints of the servers in the active list, in priority order. */
  activeServers(): string[] {
    return this.#order.filter((s) => s.alive).map((s) => s.endpoint);
  }

  /**
   * Sends `body` and resolves with the first reply's frames.
   *
   * @throws {@link ZgError} `ZG_RETRIES_EXHAUSTED` (model 1), `ZG_TIMEOUT`
   * (models 2, 3), `ZG_ABORTED`, `ZG_CLOSED` (pending at close), `ZG_STATE`
   * (thrown synchronously) when the client is not running.
   */
  request(
    body: FrameLike | readonly FrameLike[],
    options: FreelanceRequestOptions = {},
  ): Promise<Message> {
    // Bad arguments and a client that is not running throw synchronously.
    const timeout = durationOption("timeout", options.timeout, this.timeout, { min: 1 });
    const frames = bodyFrames(body);
    if (frames.length === 0)
      throw new ZgError("ZG_INVALID_ARGUMENT", "request body needs at least one frame");
    this.assertRunning("request");
    return this.#request(frames, timeout, options);
  }

  async #request(
    frames: Message,
    timeout: number,
    options: FreelanceRequestOptions,
  ): Promise<Message> {
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal, "request");
    this.#stats.requests++;
    const started = performance.now();
    const reply =
      this.model === 1
        ? await this.#sequential(frames, timeout, signal)
        : await this.#correlated(frames, timeout, signal);
    this.#stats.replies++;
    this.#latency.record(performance.now() - started);
    return reply;
  }

  // ---- model 1 ---------------------------------------------------------------

  async #sequential(
    body: Message,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Message> {
    const plan =
      this.endpoints.length === 1
        ? Array.from({ length: this.retries }, () => this.endpoints[0] as string)
        : this.endpoints;
    const sequence = ++this.#sequence;
    for (const [i, endpoint] of plan.entries()) {
      if (i > 0) this.#stats.resends++;
      const reply = await this.#tryOnce(endpoint, body, timeout, signal);
      if (reply !== undefined) return reply;
    }
    this.#stats.failures++;
    this.emit("request:failed", { sequence, endpoints: this.endpoints });
    throw new ZgError(
      "ZG_RETRIES_EXHAUSTED",
      `no reply after ${plan.length} attempts (${this.endpoints.join(", ")})`,
      {
        details: { attempts: plan.length, endpoints: this.endpoints, timeout },
      },
    );
  }

  async #tryOnce(
    endpoint: string,
    body: Message,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Message | undefined> {
    const done = deferred<Message>();
    const socket = createDealer({ linger: 0 });
    socket.connect(endpoint);
    const loop = new SocketLoop(socket, {
      name: "client",
      logger: this.logger,
      onMessage: (m) => {
        if (m[0]?.length === 0 && m.length > 1) done.resolve(m.slice(1));
        else this.#stats.staleReplies++;
      },
    });
    this.#model1Sockets.add(this.watch(loop));
    loop.start();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => done.reject(abortError(signal as AbortSignal, "request"));
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      loop.post([EMPTY_FRAME, ...body]);
      return await Promise.race([
        done.promise,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeout);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      this.#model1Sockets.delete(loop);
      await loop.close();
    }
  }

  // ---- models 2 and 3 ---------------------------------------------------------

  async #correlated(
    body: Message,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Message> {
    const sequence = ++this.#sequence;
    const control = encodeDecimal(sequence);
    const pending: Pending = {
      sequence,
      control,
      body,
      done: deferred<Message>(),
      resendAt: 0,
      sends: 0,
    };
    const key = identityKey(control);
    this.#pending.set(key, pending);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void => pending.done.reject(abortError(signal as AbortSignal, "request"));
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (this.model === 2) {
        for (let i = 0; i < this.endpoints.length; i++)
          this.#loop?.post([EMPTY_FRAME, control, ...body]);
        this.#stats.resends += this.endpoints.length - 1;
      } else {
        this.#flpSend(pending);
      }
      const reply = await Promise.race([
        pending.done.promise,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeout);
        }),
      ]);
      if (reply !== undefined) return reply;
      this.#stats.failures++;
      this.emit("request:failed", { sequence, endpoints: this.endpoints });
      throw new ZgError("ZG_TIMEOUT", `no reply from any server within ${timeout} ms`, {
        details: { endpoints: this.endpoints, timeout, sends: pending.sends },
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      this.#pending.delete(key);
    }
  }

  #onShotgunReply(message: Message): void {
    // [""][seq][reply…]
    const control = message[1];
    const pending =
      control === undefined || message[0]?.length !== 0
        ? undefined
        : this.#pending.get(identityKey(control));
    if (pending === undefined || message.length < 3) {
      this.#stats.staleReplies++;
      return;
    }
    this.#pending.delete(identityKey(pending.control));
    pending.done.resolve(message.slice(2));
  }

  #flpSend(pending: Pending): void {
    const alive = this.#order.filter((s) => s.alive);
    const now = performance.now();
    if (alive.length === 0) {
      pending.resendAt = now; // sent as soon as a server answers a PING
      return;
    }
    const server = alive[pending.sends % alive.length] as ServerState;
    if (pending.sends > 0) this.#stats.resends++;
    pending.sends++;
    pending.resendAt = now + this.resendInterval;
    this.#loop?.post([server.id, pending.control, ...pending.body]);
  }

  #tick(): void {
    const now = performance.now();
    const loop = this.#loop;
    if (loop === undefined) return;
    for (const s of this.#order) {
      if (s.alive && now >= s.expiresAt) this.#markDead(s, "ttl");
      if (now >= s.pingAt) {
        s.pingAt =
          now +
          (s.alive ? this.pingInterval : Math.min(DEFAULT_FL3_CONNECT_PING, this.pingInterval));
        this.#stats.pingsSent++;
        loop.post([s.id, FLP_PING]);
      }
    }
    for (const p of this.#pending.values()) if (now >= p.resendAt) this.#flpSend(p);
  }

  #markDead(s: ServerState, reason: "ttl" | "unreachable"): void {
    if (!s.alive) return;
    s.alive = false;
    s.pingAt = performance.now();
    this.emit("server:expired", { endpoint: s.endpoint, reason });
  }

  #onFlpSendFailure(message: Message, outcome: string): void {
    const id = message[0];
    if (id === undefined || outcome === "closed") return;
    const s = this.#servers.get(identityKey(id));
    if (s === undefined) return;
    this.#markDead(s, "unreachable");
    // A request that could not go out is re-sent at the next tick to the next live server.
    const control = message[1];
    const p = control === undefined ? undefined : this.#pending.get(identityKey(control));
    if (p !== undefined) p.resendAt = 0;
  }

  #onFlpMessage(message: Message): void {
    const id = message[0];
    const s = id === undefined ? undefined : this.#servers.get(identityKey(id));
    if (s === undefined || message.length < 2) {
      this.#stats.staleReplies++;
      return;
    }
    const now = performance.now();
    s.expiresAt = now + this.serverTtl;
    if (!s.alive) {
      s.alive = true;
      s.pingAt = now + this.pingInterval;
      this.emit("server:alive", { endpoint: s.endpoint });
      for (const p of this.#pending.values()) if (p.sends === 0) this.#flpSend(p);
    }
    const control = message[1] as Frame;
    if (message.length === 2 && control.equals(FLP_PONG)) return;
    const pending = this.#pending.get(identityKey(control));
    if (pending === undefined || message.length < 3) {
      this.#stats.staleReplies++;
      return;
    }
    this.#pending.delete(identityKey(control));
    pending.done.resolve(message.slice(2));
  }
}
