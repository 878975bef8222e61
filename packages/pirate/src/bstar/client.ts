import type * as zmq from "zeromq";
import {
  abortError,
  Component,
  createDealer,
  durationOption,
  EMPTY_FRAME,
  endpointsOption,
  integerOption,
  sleep,
  toFrame,
  ZgError,
  type ComponentOptions,
  type FrameLike,
  type Message,
} from "@zg/core";

/** Default per-attempt reply timeout, 1000 ms: Guide `bstarcli` `REQUEST_TIMEOUT`. */
export const DEFAULT_BSTAR_CLIENT_TIMEOUT = 1000;
/** Default pause before trying the other server, 2000 ms: Guide `bstarcli` `SETTLE_DELAY`. */
export const DEFAULT_BSTAR_SETTLE_DELAY = 2000;

/** Options of {@link BinaryStarClient}. Durations in milliseconds. */
export interface BinaryStarClientOptions extends ComponentOptions {
  /** The two servers' request endpoints, primary first (Guide: 5001, 5002). */
  servers: readonly [string, string] | readonly string[];
  /** Per-attempt reply timeout. @defaultValue {@link DEFAULT_BSTAR_CLIENT_TIMEOUT} (1000) */
  timeout?: number;
  /** Pause after a timeout before the next attempt on the other server. @defaultValue {@link DEFAULT_BSTAR_SETTLE_DELAY} (2000) */
  settle?: number;
  /** Attempts per request before `ZG_RETRIES_EXHAUSTED`; the Guide never gives up. @defaultValue Infinity */
  attempts?: number;
}

/** Per-call options of {@link BinaryStarClient.request}. */
export interface BinaryStarRequestOptions {
  /** Aborts the request (rejects with `ZG_ABORTED`), also during the settle delay. */
  signal?: AbortSignal;
}

/** Counters of a {@link BinaryStarClient}. */
export interface BinaryStarClientStats {
  /** Requests started. */
  requests: number;
  /** Requests answered. */
  replies: number;
  /** Attempts that timed out (each followed by a switch to the other server). */
  timeouts: number;
  /** Requests aborted by their signal. */
  aborted: number;
  /** Index (0 or 1) of the server the next attempt goes to. */
  server: number;
}

/** Events of a {@link BinaryStarClient}. */
export type BinaryStarClientEvents = {
  /** An attempt timed out: the client closed its socket and will retry on `endpoint` after the settle delay. */
  "request:retry": { attempt: number; endpoint: string };
};

/**
 * The Guide's Binary Star client (ch. 4, `bstarcli`): Lazy Pirate over two
 * servers. A request goes to the current server as a REQ would send it
 * (`[""][body…]`, from a DEALER); on timeout the client closes that socket
 * (linger 0), switches to the other server, waits the settle delay, opens a
 * fresh socket and re-sends the same request, alternating until a reply
 * arrives (or `attempts` run out, or the signal aborts). Requests go one at a
 * time (concurrent calls wait their turn), as with REQ.
 *
 * The request may thus be served twice (the first server answered and died
 * before the reply got out): make requests idempotent or carry an id.
 *
 * Lives beside Binary Star rather than on `LazyPirateClient`; it should move
 * onto @zg/core's pending-request table once that exists.
 *
 * @example
 * ```ts
 * const client = new BinaryStarClient({ servers: ["tcp://a:5001", "tcp://b:5002"] });
 * await client.start();
 * const [reply] = await client.request("hello");
 * await client.close();
 * ```
 */
export class BinaryStarClient extends Component<BinaryStarClientEvents, BinaryStarClientStats> {
  /** The server endpoints, primary first. */
  readonly servers: readonly string[];
  /** Per-attempt timeout, ms. */
  readonly timeout: number;
  /** Settle delay, ms. */
  readonly settle: number;
  /** Attempts per request. */
  readonly attempts: number;
  #server = 0;
  #socket: zmq.Dealer | undefined;
  #turn: Promise<unknown> = Promise.resolve();
  readonly #closing = new AbortController();
  readonly #stats = { requests: 0, replies: 0, timeouts: 0, aborted: 0 };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: BinaryStarClientOptions) {
    super("BinaryStarClient", options);
    this.servers = endpointsOption("servers", options.servers);
    this.timeout = durationOption("timeout", options.timeout, DEFAULT_BSTAR_CLIENT_TIMEOUT, {
      min: 1,
    });
    this.settle = durationOption("settle", options.settle, DEFAULT_BSTAR_SETTLE_DELAY);
    this.attempts =
      options.attempts === undefined || options.attempts === Infinity
        ? Infinity
        : integerOption("attempts", options.attempts, 1, { min: 1 });
  }

  /** Counters. */
  stats(): BinaryStarClientStats {
    return { ...this.#stats, server: this.#server };
  }

  /** The endpoint the next attempt goes to. */
  get endpoint(): string {
    return this.servers[this.#server] as string;
  }

  protected onStart(): Promise<void> {
    return Promise.resolve();
  }

  protected override onClose(): void {
    this.#closing.abort(new ZgError("ZG_CLOSED", "client closed"));
    this.#drop();
  }

  /**
   * Sends one request and resolves with the reply body.
   *
   * @throws {@link ZgError} `ZG_ABORTED` when `signal` aborts; `ZG_CLOSED`
   * when the client closes; `ZG_RETRIES_EXHAUSTED` after `attempts`
   * timeouts (details: `attempts`); `ZG_STATE` before `start()`.
   */
  request(
    body: FrameLike | readonly FrameLike[],
    options: BinaryStarRequestOptions = {},
  ): Promise<Message> {
    if (!this.running) return Promise.reject(new ZgError("ZG_STATE", "client is not running"));
    const frames = (Array.isArray(body) ? (body as readonly FrameLike[]) : [body as FrameLike]).map(
      toFrame,
    );
    const run = this.#turn.then(() => this.#request(frames, options.signal));
    this.#turn = run.catch(() => undefined);
    return run;
  }

  async #request(body: Message, userSignal: AbortSignal | undefined): Promise<Message> {
    this.#stats.requests++;
    const signal =
      userSignal === undefined
        ? this.#closing.signal
        : AbortSignal.any([this.#closing.signal, userSignal]);
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw this.#aborted(signal);
      const socket = this.#open();
      const reply = await this.#attempt(socket, body, signal);
      if (reply !== undefined) {
        this.#stats.replies++;
        return reply;
      }
      // Timed out or aborted: the socket still has a receive pending, and a REQ could not send
      // again anyway, so the Guide drops the socket (and, on a timeout, fails over).
      this.#drop();
      if (signal.aborted) throw this.#aborted(signal);
      // Timed out: a REQ could not send again, so the Guide drops the socket and fails over.
      this.#stats.timeouts++;
      if (attempt >= this.attempts) {
        throw new ZgError("ZG_RETRIES_EXHAUSTED", `no reply after ${attempt} attempts`, {
          details: { attempts: attempt },
        });
      }
      this.#server = (this.#server + 1) % this.servers.length;
      this.emit("request:retry", { attempt, endpoint: this.endpoint });
      this.logger.warn("no reply, failing over", { endpoint: this.endpoint, attempt });
      try {
        await sleep(this.settle, signal);
      } catch {
        throw this.#aborted(signal);
      }
    }
  }

  #aborted(signal: AbortSignal): Error {
    if (this.#closing.signal.aborted) return new ZgError("ZG_CLOSED", "client closed");
    this.#stats.aborted++;
    return abortError(signal);
  }

  #open(): zmq.Dealer {
    if (this.#socket === undefined) {
      this.#socket = createDealer({ linger: 0 });
      this.#socket.connect(this.endpoint);
    }
    return this.#socket;
  }

  #drop(): void {
    const s = this.#socket;
    this.#socket = undefined;
    if (s !== undefined && !s.closed) s.close();
  }

  /** One attempt: the reply, or undefined on timeout or abort. */
  async #attempt(
    socket: zmq.Dealer,
    body: Message,
    signal: AbortSignal,
  ): Promise<Message | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.timeout);
      onAbort = () => resolve(undefined);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    const receive = (async (): Promise<Message | undefined> => {
      await socket.send([EMPTY_FRAME, ...body]);
      for (;;) {
        const msg = await socket.receive();
        // As REQ would: strip the empty delimiter; anything without one is not a reply.
        if (msg.length >= 1 && (msg[0] as Buffer).length === 0) return msg.slice(1);
      }
    })().catch(() => undefined);
    try {
      return await Promise.race([receive, timedOut]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
    }
  }
}
