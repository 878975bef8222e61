import {
  abortError,
  Component,
  durationOption,
  endpointsOption,
  isZgError,
  LatencyWindow,
  lingerOption,
  ZgError,
  type Clock,
  type ComponentOptions,
  type FrameLike,
  type LatencySummary,
  type LingerOptions,
  type Message,
  type PendingRequestsStats,
} from "@zg/core";
import { bodyFrames } from "../common/handler.js";
import type { FreelanceModel } from "./freelance-server.js";

/** Model 1 per-attempt timeout, 1000 ms: Guide `flclient1` `REQUEST_TIMEOUT`. */
export const DEFAULT_FL1_TIMEOUT = 1000;
/** Model 1 attempts against a single server, 3: Guide `flclient1` `MAX_RETRIES`. */
export const DEFAULT_FL1_ATTEMPTS = 3;
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

/** Options every Freelance client takes. Durations in milliseconds. */
export interface FreelanceCommonOptions extends ComponentOptions, LingerOptions {
  /**
   * Server endpoints, in priority order (model 3: each must equal that
   * server's identity). Required; the deprecated `endpoints` is read when it is absent.
   */
  servers?: string | readonly string[];
  /** @deprecated Since 0.2: use `servers` (same meaning). */
  endpoints?: string | readonly string[];
  /** Model 1: per-attempt timeout; models 2 and 3: global timeout per request. @defaultValue 1000 / 2500 / 3000 by model */
  timeout?: number;
  /** Time source of every timeout, ping and TTL. @defaultValue systemClock */
  clock?: Clock;
}

/** Options of {@link FreelanceClient}: those of every model, and `model`. Durations in milliseconds. */
export interface FreelanceClientOptions extends FreelanceCommonOptions {
  /**
   * Server endpoints, in priority order (model 3: each must equal that
   * server's identity). Required; the deprecated `endpoints` is read when it is absent.
   */
  servers?: string | readonly string[];
  /** @deprecated Since 0.2: use `servers` (same meaning). */
  endpoints?: string | readonly string[];
  /** 1 = sequential failover, 2 = shotgun, 3 = 10/FLP router-to-router. @defaultValue 3 */
  model?: FreelanceModel;
  /** Model 1: per-attempt timeout; models 2 and 3: global timeout per request. @defaultValue 1000 / 2500 / 3000 by model */
  timeout?: number;
  /** Model 1 with a single endpoint: attempts in all (with several, each endpoint is tried once). @defaultValue {@link DEFAULT_FL1_ATTEMPTS} (3) */
  attempts?: number;
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
  /** Copies sent beyond the first (model 1 attempts after the first, model 2 extra copies, model 3 re-sends). */
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

/** What one model's client counts (the base adds `latency`). */
export type FreelanceCounters = Omit<FreelanceClientStats, "latency">;

/**
 * The counters of a model whose requests live in a `PendingRequests` table (models 1 and 2).
 *
 * @internal
 */
export function countersOf(
  p: PendingRequestsStats,
  own: { resends: number; staleReplies: number },
): FreelanceCounters {
  return {
    requests: p.added,
    replies: p.resolved,
    failures: p.exhausted,
    resends: own.resends,
    staleReplies: own.staleReplies,
    serversAlive: 0,
    pingsSent: 0,
  };
}

/**
 * What the three Freelance clients share: options, `request()` validation,
 * latency and the `request:failed` event. Each model implements
 * {@link send}.
 *
 * @internal
 */
export abstract class FreelanceClientBase extends Component<
  FreelanceClientEvents,
  FreelanceClientStats
> {
  /** Server endpoints in priority order. */
  readonly servers: string[];
  /** @deprecated Since 0.2: use {@link FreelanceClientBase.servers}. */
  get endpoints(): string[] {
    return this.servers;
  }
  /** Model 1: per-attempt timeout; models 2–3: global timeout, ms. */
  readonly timeout: number;
  /** Linger of the client's sockets, ms. */
  protected readonly linger: number;
  /** The injected clock, if any. */
  protected readonly clock: Clock | undefined;
  readonly #latency = new LatencyWindow();
  #sequence = 0;

  constructor(name: string, options: FreelanceCommonOptions, defaultTimeout: number) {
    super(name, options);
    this.linger = lingerOption(options.linger);
    this.servers = endpointsOption("servers", options.servers ?? options.endpoints);
    this.timeout = durationOption("timeout", options.timeout, defaultTimeout, { min: 1 });
    this.clock = options.clock;
  }

  /** Model 3: endpoints of the servers in the active list (empty for models 1 and 2). */
  activeServers(): string[] {
    return [];
  }

  /** Counters. */
  stats(): FreelanceClientStats {
    return { ...this.counters(), latency: this.#latency.summary() };
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
      const reply = await this.send(sequence, frames, timeout, signal);
      this.#latency.record(performance.now() - started);
      return reply;
    } catch (error) {
      if (isZgError(error, "ZG_RETRIES_EXHAUSTED") || isZgError(error, "ZG_TIMEOUT"))
        this.emit("request:failed", { sequence, endpoints: this.servers });
      throw error;
    }
  }

  /** Sends one request by this model's rules. */
  protected abstract send(
    sequence: number,
    body: Message,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Message>;

  /** This model's counters. */
  protected abstract counters(): FreelanceCounters;
}
