import {
  abortError,
  Component,
  createDealer,
  deferred,
  durationOption,
  EMPTY_FRAME,
  endpointsOption,
  integerOption,
  LatencyWindow,
  SocketLoop,
  ZgError,
  type ComponentOptions,
  type Deferred,
  type FrameLike,
  type LatencySummary,
  type Message,
} from "@zg/core";
import { bodyFrames } from "../common/handler.js";

/** Default per-attempt reply timeout, 2500 ms: Guide `lpclient` `REQUEST_TIMEOUT`. */
export const DEFAULT_LAZY_PIRATE_TIMEOUT = 2500;
/** Default attempts per request, 3: Guide `lpclient` `REQUEST_RETRIES` (it counts the first send: 3 sends in all). */
export const DEFAULT_LAZY_PIRATE_RETRIES = 3;

/** Options of {@link LazyPirateClient}. Durations in milliseconds. */
export interface LazyPirateClientOptions extends ComponentOptions {
  /** The server's (or queue frontend's) endpoint. */
  endpoint: string;
  /** Default per-attempt timeout. @defaultValue {@link DEFAULT_LAZY_PIRATE_TIMEOUT} (2500) */
  timeout?: number;
  /** Default attempts per request, the first send included (Guide `REQUEST_RETRIES`). @defaultValue {@link DEFAULT_LAZY_PIRATE_RETRIES} (3) */
  retries?: number;
  /**
   * Optional check that a reply answers the request it arrived for; a reply
   * that fails it is counted as foreign and discarded (the attempt keeps
   * waiting, as `lpclient` does with a "malformed reply"). With the Guide's
   * echo servers (`lpserver`), pass {@link LazyPirateClient.echo}.
   */
  match?: (reply: Message, request: Message) => boolean;
}

/** Per-call options of {@link LazyPirateClient.request}. */
export interface LazyPirateRequestOptions {
  /** Per-attempt timeout in ms. @defaultValue the client's `timeout` */
  timeout?: number;
  /** Attempts in all, the first send included. @defaultValue the client's `retries` */
  retries?: number;
  /** Aborts the request (rejects with `ZG_ABORTED`). */
  signal?: AbortSignal;
}

/** Stats of a {@link LazyPirateClient}. */
export interface LazyPirateClientStats {
  /** Requests started. */
  requests: number;
  /** Requests answered. */
  replies: number;
  /** Resends after a timeout (each on a new socket). */
  retries: number;
  /** Requests that exhausted their attempts. */
  failures: number;
  /** Replies discarded because no request was outstanding on their socket (late or duplicate). */
  staleReplies: number;
  /** Replies discarded by `match` or for a bad envelope. */
  foreignReplies: number;
  /** Request latency (first send → accepted reply), ms. */
  latency: LatencySummary;
}

/** Events of a {@link LazyPirateClient}. */
export interface LazyPirateClientEvents {
  /** An attempt timed out; the request is re-sent on a new socket. */
  "request:retry": { sequence: number; attempt: number; endpoint: string };
  /** A request exhausted its attempts. */
  "request:failed": { sequence: number; attempts: number; endpoint: string };
  /** A reply was discarded (`stale`: nothing outstanding on its socket; `foreign`: failed `match` or malformed). */
  "reply:discarded": { sequence: number; reason: "stale" | "foreign" };
}

interface Outstanding {
  sequence: number;
  request: Message;
  done: Deferred<Message>;
}

/**
 * The Guide's Lazy Pirate client (ch. 4, "Client-Side Reliability (Lazy
 * Pirate Pattern)", `lpclient`): sends a request as a REQ socket would
 * (`[""][body…]`, from a DEALER) and waits up to `timeout`; on timeout it
 * closes the socket with linger 0, opens a new one and re-sends the same
 * request, up to `retries` attempts in all; then it rejects with
 * `ZG_RETRIES_EXHAUSTED` (`details.attempts`, `details.endpoint`).
 *
 * Reply matching: each attempt has its own socket and request sequence
 * number, and a reply is accepted only on the socket of the attempt that is
 * outstanding, once. A reply to an earlier attempt (its socket is closed), a
 * second reply, or a reply arriving while nothing is outstanding is
 * discarded and counted (`reply:discarded`), never returned; `match` adds a
 * content check (e.g. `lpserver`'s echo). Requests are sent one at a time
 * (concurrent calls wait their turn), as with REQ. Compatible with plain
 * REP servers (`lpserver.py`) and with ROUTER queues (Simple/Paranoid Pirate).
 *
 * @example
 * ```ts
 * const client = new LazyPirateClient({ endpoint: "tcp://127.0.0.1:5555", timeout: 2500, retries: 3 });
 * await client.start();
 * const [reply] = await client.request("hello");
 * await client.close();
 * ```
 */
export class LazyPirateClient extends Component<LazyPirateClientEvents, LazyPirateClientStats> {
  /** A `match` for echo servers: the reply equals the request frame for frame. */
  static readonly echo = (reply: Message, request: Message): boolean =>
    reply.length === request.length && reply.every((f, i) => f.equals(request[i] as Buffer));

  /** The endpoint every attempt connects to. */
  readonly endpoint: string;
  /** Default per-attempt timeout, ms. */
  readonly timeout: number;
  /** Default attempts per request (the first send included). */
  readonly retries: number;
  readonly #match: ((reply: Message, request: Message) => boolean) | undefined;
  #loop: SocketLoop | undefined;
  #outstanding: Outstanding | undefined;
  #sequence = 0;
  #turn: Promise<unknown> = Promise.resolve();
  readonly #latency = new LatencyWindow();
  readonly #closedSignal = new AbortController();
  readonly #stats = {
    requests: 0,
    replies: 0,
    retries: 0,
    failures: 0,
    staleReplies: 0,
    foreignReplies: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: LazyPirateClientOptions) {
    super("LazyPirateClient", options);
    this.endpoint = endpointsOption("endpoint", options.endpoint)[0] as string;
    this.timeout = durationOption("timeout", options.timeout, DEFAULT_LAZY_PIRATE_TIMEOUT, {
      min: 1,
    });
    this.retries = integerOption("retries", options.retries, DEFAULT_LAZY_PIRATE_RETRIES, {
      min: 1,
      max: 1000,
    });
    this.#match = options.match;
  }

  /** Opens the first socket. */
  protected onStart(): Promise<void> {
    this.#open();
    return Promise.resolve();
  }

  /** Rejects pending requests with `ZG_CLOSED` and closes the socket. */
  protected override async onClose(): Promise<void> {
    this.#closedSignal.abort(new ZgError("ZG_CLOSED", "client closed"));
    this.#outstanding?.done.reject(new ZgError("ZG_CLOSED", "client closed"));
    this.#outstanding = undefined;
    await this.#loop?.close();
  }

  /** Counters. */
  stats(): LazyPirateClientStats {
    return { ...this.#stats, latency: this.#latency.summary() };
  }

  /**
   * Sends `body` and resolves with the reply frames.
   *
   * @throws {@link ZgError} `ZG_RETRIES_EXHAUSTED` after `retries` attempts
   * (details: `attempts`, `endpoint`, `timeout`); `ZG_ABORTED` when `signal`
   * fires; `ZG_CLOSED` when the client closes while the request is pending;
   * `ZG_STATE` (thrown synchronously) when the client is not running.
   */
  request(
    body: FrameLike | readonly FrameLike[],
    options: LazyPirateRequestOptions = {},
  ): Promise<Message> {
    const timeout = durationOption("timeout", options.timeout, this.timeout, { min: 1 });
    const retries = integerOption("retries", options.retries, this.retries, { min: 1, max: 1000 });
    const frames = bodyFrames(body);
    if (frames.length === 0)
      throw new ZgError("ZG_INVALID_ARGUMENT", "request body needs at least one frame");
    this.assertRunning("request");
    const run = this.#turn.then(() => this.#run(frames, timeout, retries, options.signal));
    this.#turn = run.catch(() => undefined);
    return run;
  }

  async #run(
    request: Message,
    timeout: number,
    retries: number,
    signal: AbortSignal | undefined,
  ): Promise<Message> {
    // Accepted, but the client closed while it waited for its turn: interrupted work.
    if (!this.running) throw new ZgError("ZG_CLOSED", "client closed");
    if (signal?.aborted) throw abortError(signal, "request");
    this.#stats.requests++;
    const started = performance.now();
    for (let attempt = 1; attempt <= retries; attempt++) {
      const sequence = ++this.#sequence;
      const outstanding: Outstanding = { sequence, request, done: deferred<Message>() };
      this.#outstanding = outstanding;
      this.#loop?.post([EMPTY_FRAME, ...request]);
      const reply = await this.#wait(outstanding, timeout, signal);
      this.#outstanding = undefined;
      if (reply !== undefined) {
        this.#stats.replies++;
        this.#latency.record(performance.now() - started);
        return reply;
      }
      // Timed out: REQ semantics forbid a second send, so close (linger 0) and reopen.
      await this.#reopen();
      if (attempt < retries) {
        this.#stats.retries++;
        this.emit("request:retry", { sequence, attempt: attempt + 1, endpoint: this.endpoint });
      }
    }
    this.#stats.failures++;
    this.emit("request:failed", {
      sequence: this.#sequence,
      attempts: retries,
      endpoint: this.endpoint,
    });
    throw new ZgError(
      "ZG_RETRIES_EXHAUSTED",
      `no reply from ${this.endpoint} after ${retries} attempts of ${timeout} ms`,
      {
        details: { attempts: retries, endpoint: this.endpoint, timeout },
      },
    );
  }

  async #wait(
    outstanding: Outstanding,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Message | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = (): void =>
      outstanding.done.reject(abortError(signal as AbortSignal, "request"));
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await Promise.race([
        outstanding.done.promise,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeout);
        }),
      ]);
    } catch (error) {
      this.#outstanding = undefined;
      if (!this.stopping) await this.#reopen(); // the aborted request may still be answered: drop its socket
      throw error;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #open(): void {
    const socket = createDealer({ linger: 0 });
    socket.connect(this.endpoint);
    const loop: SocketLoop = new SocketLoop(socket, {
      name: "client",
      logger: this.logger,
      onMessage: (m) => this.#onReply(loop, m),
    });
    this.#loop = this.watch(loop);
    loop.start();
  }

  async #reopen(): Promise<void> {
    const old = this.#loop;
    this.#loop = undefined;
    await old?.close();
    if (!this.stopping) this.#open();
  }

  #onReply(loop: SocketLoop, message: Message): void {
    const o = this.#outstanding;
    if (loop !== this.#loop || o === undefined) {
      this.#stats.staleReplies++;
      this.emit("reply:discarded", { sequence: o?.sequence ?? this.#sequence, reason: "stale" });
      return;
    }
    const body = message.slice(1);
    if (
      message[0]?.length !== 0 ||
      body.length === 0 ||
      (this.#match !== undefined && !this.#match(body, o.request))
    ) {
      this.#stats.foreignReplies++;
      this.emit("reply:discarded", { sequence: o.sequence, reason: "foreign" });
      return;
    }
    this.#outstanding = undefined;
    o.done.resolve(body);
  }
}
