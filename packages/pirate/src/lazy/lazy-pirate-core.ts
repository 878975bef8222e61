import {
  EMPTY_FRAME,
  LatencyWindow,
  PendingRequests,
  systemClock,
  ZgError,
  type Clock,
  type LatencySummary,
  type Message,
} from "@zg/core";

/** Encodes a Lazy Pirate request as a REQ socket would send it: `[""][body…]`. */
export function encodeLazyRequest(body: Message): Message {
  return [EMPTY_FRAME, ...body];
}

/** The body of a Lazy Pirate reply `[""][body…]`, or `undefined` for a malformed one. */
export function decodeLazyReply(message: Message): Message | undefined {
  if (message[0]?.length !== 0 || message.length < 2) return undefined;
  return message.slice(1);
}

/** What a {@link LazyPirateCore} tells its owner. */
export interface LazyPirateCoreHooks {
  /** Writes one message on the current socket. */
  send: (frames: Message) => void;
  /** Abandons the current socket (REQ semantics forbid a second send on it): the next `send` uses a new one. */
  reconnect: () => void;
  /** An attempt timed out and the request is about to be re-sent. */
  onRetry?: (sequence: number, attempt: number) => void;
  /** A request exhausted its attempts. */
  onFailed?: (sequence: number, attempts: number) => void;
  /** A reply was discarded. */
  onDiscarded?: (sequence: number, reason: "stale" | "foreign") => void;
}

/** Options of {@link LazyPirateCore}. */
export interface LazyPirateCoreOptions extends LazyPirateCoreHooks {
  /** The endpoint, for error details. */
  endpoint: string;
  /** Content check of a reply against its request. */
  match?: ((reply: Message, request: Message) => boolean) | undefined;
  /** Time source. @defaultValue systemClock */
  clock?: Clock | undefined;
}

/** Counters of a {@link LazyPirateCore} (the client's `stats()`). */
export interface LazyPirateCoreStats {
  requests: number;
  replies: number;
  resends: number;
  failures: number;
  staleReplies: number;
  foreignReplies: number;
  latency: LatencySummary;
}

interface Outstanding {
  sequence: number;
  attempts: number;
  request: Message;
}

/**
 * The pure Lazy Pirate client state machine (Guide `lpclient`): one request
 * outstanding at a time in a {@link PendingRequests} table on the injected
 * clock; on each timeout it asks its owner to reconnect and re-sends with a
 * new sequence number, up to `attempts` attempts; a reply counts only when
 * it arrives on the current socket for the outstanding attempt, once.
 *
 * @internal
 */
export class LazyPirateCore {
  readonly #hooks: LazyPirateCoreHooks;
  readonly #endpoint: string;
  readonly #match: ((reply: Message, request: Message) => boolean) | undefined;
  readonly #clock: Clock;
  readonly #pending: PendingRequests<number, Message, Outstanding>;
  readonly #latency = new LatencyWindow();
  #current: Outstanding | undefined;
  #key = 0;
  #sequence = 0;
  #turn: Promise<unknown> = Promise.resolve();
  readonly #stats = { replies: 0, failures: 0, staleReplies: 0, foreignReplies: 0 };

  constructor(options: LazyPirateCoreOptions) {
    this.#hooks = options;
    this.#endpoint = options.endpoint;
    this.#match = options.match;
    this.#clock = options.clock ?? systemClock;
    this.#pending = new PendingRequests<number, Message, Outstanding>({
      clock: this.#clock,
      onRetry: (_key, attempt, o) => {
        this.#hooks.reconnect();
        this.#hooks.onRetry?.(o.sequence, attempt);
      },
      onFailure: (_key, reason, o) => {
        this.#current = undefined;
        if (reason === "timeout") {
          this.#stats.failures++;
          this.#hooks.onFailed?.(o.sequence, o.attempts);
        }
        // The abandoned request may still be answered: drop its socket.
        this.#hooks.reconnect();
      },
      timeoutError: (_key, attempts) =>
        new ZgError(
          "ZG_RETRIES_EXHAUSTED",
          `no reply from ${this.#endpoint} after ${attempts} attempts`,
          { details: { attempts, endpoint: this.#endpoint } },
        ),
    });
  }

  /** Counters. */
  stats(): LazyPirateCoreStats {
    const p = this.#pending.stats();
    return {
      requests: p.added,
      replies: this.#stats.replies,
      resends: p.retries,
      failures: this.#stats.failures,
      staleReplies: this.#stats.staleReplies,
      foreignReplies: this.#stats.foreignReplies,
      latency: this.#latency.summary(),
    };
  }

  /**
   * Sends `request` once its turn comes (one outstanding at a time, as with
   * REQ) and resolves with the reply body.
   */
  request(
    request: Message,
    timeout: number,
    attempts: number,
    signal: AbortSignal | undefined,
    canRun: () => void,
  ): Promise<Message> {
    const run = this.#turn.then(() => {
      canRun();
      return this.#run(request, timeout, attempts, signal);
    });
    this.#turn = run.catch(() => undefined);
    return run;
  }

  async #run(
    request: Message,
    timeout: number,
    attempts: number,
    signal: AbortSignal | undefined,
  ): Promise<Message> {
    const key = ++this.#key;
    const started = this.#clock.now();
    const outstanding: Outstanding = { sequence: 0, attempts, request };
    try {
      const reply = await this.#pending.add(key, {
        timeout,
        attempts,
        ...(signal === undefined ? {} : { signal }),
        context: outstanding,
        send: () => {
          outstanding.sequence = ++this.#sequence;
          this.#current = outstanding;
          this.#hooks.send(encodeLazyRequest(request));
        },
      });
      this.#stats.replies++;
      this.#latency.record(this.#clock.now() - started);
      return reply;
    } catch (error) {
      if (ZgError.isInstance(error) && error.code === "ZG_RETRIES_EXHAUSTED") {
        throw new ZgError("ZG_RETRIES_EXHAUSTED", error.message + ` of ${timeout} ms`, {
          details: { ...error.details, timeout },
        });
      }
      throw error;
    }
  }

  /**
   * Handles one message; `current` says whether it arrived on the socket of
   * the outstanding attempt. Never throws.
   */
  receive(message: Message, current: boolean): void {
    const o = this.#current;
    if (!current || o === undefined) {
      this.#stats.staleReplies++;
      this.#hooks.onDiscarded?.(o?.sequence ?? this.#sequence, "stale");
      return;
    }
    const body = decodeLazyReply(message);
    if (body === undefined || (this.#match !== undefined && !this.#match(body, o.request))) {
      this.#stats.foreignReplies++;
      this.#hooks.onDiscarded?.(o.sequence, "foreign");
      return;
    }
    this.#current = undefined;
    this.#pending.resolve(this.#key, body);
  }

  /** Fails the outstanding request with `ZG_CLOSED`; stops the timer. */
  close(): void {
    this.#pending.close(new ZgError("ZG_CLOSED", "client closed"));
  }
}
