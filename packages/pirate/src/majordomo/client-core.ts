import {
  assertArgument,
  PendingRequests,
  ZgError,
  type Clock,
  type Frame,
  type FrameLike,
} from "@zg/core";
import {
  decodeClientInbound,
  decodeCorrelation,
  encodeClientRequest,
  encodeCorrelation,
  parseBrokerError,
  type MdpVersion,
} from "./protocol.js";

/**
 * Converts a broker-generated error reply into the error a client rejects with:
 * `"503"` → `ZG_OVERFLOW`, `"504"` → `ZG_TIMEOUT`, `"502"` → `ZG_UNREACHABLE`
 * (details: `status`, `service`).
 */
export function brokerError(service: string, status: string, text: string): ZgError {
  const code =
    status === "503" ? "ZG_OVERFLOW" : status === "504" ? "ZG_TIMEOUT" : "ZG_UNREACHABLE";
  return new ZgError(code, `broker answered ${status} for ${service}: ${text}`, {
    details: { status, service },
  });
}

/**
 * Validates a client request's arguments (both Majordomo clients).
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for an empty service or body.
 * @internal
 */
export function checkRequest(service: unknown, body: readonly FrameLike[]): void {
  assertArgument(
    typeof service === "string" && service.length > 0,
    "service must be a non-empty string",
  );
  assertArgument(
    Array.isArray(body) && body.length > 0,
    "body must hold at least one frame (reference brokers crash on an empty body)",
  );
}

/** Events of a {@link MajordomoClient} (and an `AsyncMajordomoClient`, a `TitanicClient`). */
export interface MajordomoClientEvents {
  /** An attempt got no reply in time; the request is sent again (`attempt` counts from 2). */
  "request:retry": { service: string; attempt: number };
  /** A request failed for good: every attempt timed out (its promise rejects). */
  "request:failed": { service: string; attempts: number };
}

/** Options of {@link MdpClientCore}. */
export interface MdpClientCoreOptions {
  /** Wire version. */
  version: MdpVersion;
  /**
   * Match replies by a correlation frame first in the body (echoed by
   * workers) instead of first-in-first-out per service.
   */
  correlate: boolean;
  /** Writes one 7/MDP client message (the socket loop's `post`). */
  send: (frames: Frame[]) => void;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
  /** Called before a timed-out request is re-sent (the synchronous client reopens its socket here). */
  onRetry?: (service: string, attempt: number) => void;
  /**
   * Called when a request stops waiting without a reply (timeout after its last attempt, abort,
   * close); `attempts` is the request's attempt budget.
   */
  onFailure?: (
    service: string,
    reason: "timeout" | "aborted" | "rejected",
    attempts: number,
  ) => void;
  /** `ZG_RETRIES_EXHAUSTED` even after a single attempt (the synchronous client's contract). */
  exhaustedAfterOne?: boolean;
}

/** Per-request options of {@link MdpClientCore.request}. */
export interface MdpClientCoreRequest {
  /** Reply timeout per attempt, ms. */
  timeout: number;
  /** Attempts in all. */
  attempts: number;
  signal?: AbortSignal | undefined;
  onPartial?: ((body: Frame[]) => void) | undefined;
}

/** Counters of an {@link MdpClientCore}. */
export interface MdpClientCoreStats {
  requests: number;
  replies: number;
  inFlight: number;
  timeouts: number;
  resends: number;
  exhausted: number;
  aborted: number;
  /** Replies that matched no request in flight (late, duplicate, wrong service). */
  unmatched: number;
  brokerErrors: number;
}

interface Context {
  service: string;
  attempts: number;
  onPartial: ((body: Frame[]) => void) | undefined;
}

/**
 * The pure 7/MDP client state machine shared by {@link MajordomoClient} and
 * {@link AsyncMajordomoClient}: encodes requests, keeps them in a
 * {@link PendingRequests} table on the injected clock (timeout, attempts,
 * `AbortSignal`), matches replies by correlation number or per-service FIFO,
 * turns broker error replies into errors and forwards PARTIAL replies. No
 * socket: the owner passes `send` and feeds received messages to
 * {@link receive}.
 *
 * @internal
 */
export class MdpClientCore {
  readonly #version: MdpVersion;
  readonly #correlate: boolean;
  readonly #send: (frames: Frame[]) => void;
  readonly #pending: PendingRequests<bigint, Frame[], Context>;
  readonly #fifo = new Map<string, bigint[]>();
  #nextId = 1n;
  #unmatched = 0;
  #replies = 0;
  #brokerErrors = 0;

  constructor(options: MdpClientCoreOptions) {
    this.#version = options.version;
    this.#correlate = options.correlate;
    this.#send = options.send;
    const exhaustedAfterOne = options.exhaustedAfterOne ?? false;
    this.#pending = new PendingRequests<bigint, Frame[], Context>({
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      onRetry: (_id, attempt, ctx) => options.onRetry?.(ctx.service, attempt),
      onFailure: (id, reason, ctx) => {
        this.#unqueue(ctx.service, id);
        options.onFailure?.(ctx.service, reason, ctx.attempts);
      },
      timeoutError: (_id, attempts, ctx) =>
        attempts === 1 && !exhaustedAfterOne
          ? new ZgError("ZG_TIMEOUT", `no reply from ${ctx.service} in time`, {
              details: { service: ctx.service },
            })
          : new ZgError(
              "ZG_RETRIES_EXHAUSTED",
              `no reply from ${ctx.service} after ${attempts} attempt(s)`,
              { details: { service: ctx.service, attempts } },
            ),
    });
  }

  /** Requests waiting for a reply. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Counters. */
  stats(): MdpClientCoreStats {
    const p = this.#pending.stats();
    return {
      requests: p.added,
      replies: this.#replies,
      inFlight: p.inFlight,
      timeouts: p.timeouts,
      resends: p.retries,
      exhausted: p.exhausted,
      aborted: p.aborted,
      unmatched: this.#unmatched,
      brokerErrors: this.#brokerErrors,
    };
  }

  /** Sends `body` to `service`; resolves with the reply body or rejects (see the clients). */
  request(service: string, body: Frame[], options: MdpClientCoreRequest): Promise<Frame[]> {
    const id = this.#nextId++;
    const frames = encodeClientRequest(
      this.#version,
      service,
      this.#correlate ? [encodeCorrelation(id), ...body] : body,
    );
    if (!this.#correlate) {
      let q = this.#fifo.get(service);
      if (q === undefined) this.#fifo.set(service, (q = []));
      q.push(id);
    }
    return this.#pending.add(id, {
      timeout: options.timeout,
      attempts: options.attempts,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      context: { service, attempts: options.attempts, onPartial: options.onPartial },
      send: () => this.#send(frames),
    });
  }

  /**
   * Handles one message from the broker.
   *
   * @throws ProtocolError for a message that is not 7/MDP (the socket loop counts and drops it).
   * @returns false when it matched no request in flight (counted in `unmatched`).
   */
  receive(frames: Frame[]): boolean {
    const m = decodeClientInbound(frames);
    const err = parseBrokerError(m.body);
    let id: bigint | undefined;
    let body = m.body;
    if (this.#correlate) {
      id = err !== undefined ? err.correlation : decodeCorrelation(m.body[0]);
      if (err === undefined) body = m.body.slice(1);
    } else {
      id = this.#fifo.get(m.service)?.[0];
    }
    const ctx = id === undefined ? undefined : this.#pending.context(id);
    if (id === undefined || ctx === undefined || ctx.service !== m.service) {
      this.#unmatched++;
      return false;
    }
    if (m.command === "PARTIAL") {
      ctx.onPartial?.(body);
      return true;
    }
    this.#replies++;
    this.#unqueue(ctx.service, id);
    if (err !== undefined) {
      this.#brokerErrors++;
      this.#pending.reject(id, brokerError(ctx.service, err.status, err.text));
    } else {
      this.#pending.resolve(id, body);
    }
    return true;
  }

  /** Counts a message that arrived where no reply can be awaited (e.g. on an abandoned socket). */
  discard(): void {
    this.#unmatched++;
  }

  /** Fails every request in flight with `error`. */
  rejectAll(error: Error): void {
    this.#pending.rejectAll(error);
  }

  /** Fails every request with `ZG_CLOSED` and stops the timer. */
  close(): void {
    this.#pending.close(new ZgError("ZG_CLOSED", "client closed"));
  }

  #unqueue(service: string, id: bigint): void {
    if (this.#correlate) return;
    const q = this.#fifo.get(service);
    const i = q?.indexOf(id) ?? -1;
    if (q !== undefined && i >= 0) q.splice(i, 1);
    if (q?.length === 0) this.#fifo.delete(service);
  }
}
