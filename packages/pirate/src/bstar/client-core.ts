import {
  abortError,
  EMPTY_FRAME,
  PendingRequests,
  ZgError,
  type Clock,
  type Message,
} from "@zg/core";

/** What a {@link BinaryStarClientCore} tells its owner. */
export interface BinaryStarClientCoreHooks {
  /** Writes one message on the current socket (connected to {@link BinaryStarClientCore.endpoint}). */
  send: (frames: Message) => void;
  /** Abandons the current socket (REQ semantics forbid a second send on it): the next `send` uses a new one. */
  reconnect: () => void;
  /** Attempt `attempt` timed out; the next one goes to `endpoint` after the settle delay. */
  onRetry?: (attempt: number, endpoint: string) => void;
}

/** Options of {@link BinaryStarClientCore}. Durations in ms, already validated. */
export interface BinaryStarClientCoreOptions extends BinaryStarClientCoreHooks {
  /** The server endpoints, primary first. */
  servers: readonly string[];
  /** Per-attempt reply timeout (≥ 1). */
  timeout: number;
  /** Pause after a timeout before the attempt on the other server (≥ 0). */
  settle: number;
  /** Attempts per request (`Infinity`: never give up). */
  attempts: number;
  /** Time source of the timeouts and the settle delay. @defaultValue systemClock */
  clock?: Clock | undefined;
}

/** Counters of a {@link BinaryStarClientCore} (the client's `stats()`). */
export interface BinaryStarClientCoreStats {
  requests: number;
  replies: number;
  timeouts: number;
  aborted: number;
  discarded: number;
  server: number;
}

/**
 * The pure Binary Star client state machine (Guide `bstarcli`): one request
 * outstanding at a time in a {@link PendingRequests} table on the injected
 * clock; when an attempt times out it asks its owner to drop the socket,
 * switches to the other server and, after the settle delay (the table's
 * `retryDelay`), re-sends the request there. A reply counts only when it
 * arrives on the current socket while an attempt is outstanding, once.
 *
 * @internal
 */
export class BinaryStarClientCore {
  readonly #hooks: BinaryStarClientCoreHooks;
  readonly #servers: readonly string[];
  readonly #timeout: number;
  readonly #settle: number;
  readonly #attempts: number;
  readonly #pending: PendingRequests<number, Message>;
  #server = 0;
  #key = 0;
  /** An attempt has been sent and not answered (false during the settle delay). */
  #outstanding = false;
  #turn: Promise<unknown> = Promise.resolve();
  readonly #stats = { requests: 0, replies: 0, aborted: 0, discarded: 0 };

  constructor(options: BinaryStarClientCoreOptions) {
    this.#hooks = options;
    this.#servers = options.servers;
    this.#timeout = options.timeout;
    this.#settle = options.settle;
    this.#attempts = options.attempts;
    this.#pending = new PendingRequests<number, Message>({
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      // An attempt timed out: a REQ could not send again, so the Guide drops the socket and fails over.
      onRetry: (_key, attempt) => {
        this.#outstanding = false;
        this.#hooks.reconnect();
        this.#server = (this.#server + 1) % this.#servers.length;
        this.#hooks.onRetry?.(attempt - 1, this.endpoint);
      },
      onFailure: (_key, reason) => {
        this.#outstanding = false;
        if (reason === "aborted") this.#stats.aborted++;
        // The abandoned request may still be answered: drop its socket.
        this.#hooks.reconnect();
      },
      timeoutError: (_key, attempts) =>
        new ZgError("ZG_RETRIES_EXHAUSTED", `no reply after ${attempts} attempts`, {
          details: { attempts },
        }),
    });
  }

  /** The endpoint the next attempt goes to. */
  get endpoint(): string {
    return this.#servers[this.#server] as string;
  }

  /** Counters. */
  stats(): BinaryStarClientCoreStats {
    return {
      ...this.#stats,
      timeouts: this.#pending.stats().timeouts,
      server: this.#server,
    };
  }

  /**
   * Sends `body` once its turn comes (one outstanding at a time, as with
   * REQ) and resolves with the reply body. `canRun` runs when the turn comes
   * and may throw (e.g. `ZG_CLOSED`).
   */
  request(body: Message, signal: AbortSignal | undefined, canRun: () => void): Promise<Message> {
    const run = this.#turn.then(() => this.#run(body, signal, canRun));
    this.#turn = run.catch(() => undefined);
    return run;
  }

  async #run(body: Message, signal: AbortSignal | undefined, canRun: () => void): Promise<Message> {
    this.#stats.requests++;
    canRun();
    if (signal?.aborted) {
      this.#stats.aborted++;
      throw abortError(signal, "request");
    }
    const key = ++this.#key;
    const frames = [EMPTY_FRAME, ...body];
    const reply = await this.#pending.add(key, {
      timeout: this.#timeout,
      attempts: this.#attempts,
      retryDelay: this.#settle,
      ...(signal === undefined ? {} : { signal }),
      send: () => {
        this.#outstanding = true;
        this.#hooks.send(frames);
      },
    });
    this.#stats.replies++;
    return reply;
  }

  /**
   * Handles one message; `current` says whether it arrived on the current
   * socket. As a REQ would, it strips the empty delimiter; a message without
   * one, on an abandoned socket, or with nothing outstanding is discarded
   * and counted. Never throws.
   */
  receive(message: Message, current: boolean): void {
    if (!current || !this.#outstanding || message[0]?.length !== 0) {
      this.#stats.discarded++;
      return;
    }
    this.#outstanding = false;
    this.#pending.resolve(this.#key, message.slice(1));
  }

  /** Fails the outstanding request with `ZG_CLOSED`; stops the timer. */
  close(): void {
    this.#pending.close(new ZgError("ZG_CLOSED", "client closed"));
  }
}
