import {
  Component,
  durationOption,
  endpointsOption,
  integerOption,
  lingerOption,
  toFrame,
  ZgError,
  type Clock,
  type ComponentOptions,
  type FrameLike,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { LazySocket } from "../common/lazy-socket.js";
import { BinaryStarClientCore } from "./client-core.js";

/** Default per-attempt reply timeout, 1000 ms: Guide `bstarcli` `REQUEST_TIMEOUT`. */
export const DEFAULT_BSTAR_CLIENT_TIMEOUT = 1000;
/** Default pause before trying the other server, 2000 ms: Guide `bstarcli` `SETTLE_DELAY`. */
export const DEFAULT_BSTAR_SETTLE_DELAY = 2000;

/** Options of {@link BinaryStarClient}. Durations in milliseconds. */
export interface BinaryStarClientOptions extends ComponentOptions, LingerOptions {
  /** The two servers' request endpoints, primary first (Guide: 5001, 5002). */
  servers: readonly [string, string] | readonly string[];
  /** Per-attempt reply timeout. @defaultValue {@link DEFAULT_BSTAR_CLIENT_TIMEOUT} (1000) */
  timeout?: number;
  /** Pause after a timeout before the next attempt on the other server. @defaultValue {@link DEFAULT_BSTAR_SETTLE_DELAY} (2000) */
  settle?: number;
  /** Attempts per request before `ZG_RETRIES_EXHAUSTED`; the Guide never gives up. @defaultValue Infinity */
  attempts?: number;
  /** Time source of the reply timeouts and the settle delay. @defaultValue systemClock */
  clock?: Clock;
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
  /**
   * Messages discarded: without the empty delimiter a REQ expects, arriving
   * on an abandoned socket, or with no request outstanding.
   */
  discarded: number;
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
 * Built on the shared mechanisms: the request table is @zg/core's
 * `PendingRequests` (the settle delay is its `retryDelay`), on the injected
 * `clock`; the socket is the Lazy Pirate `LazySocket` (a DEALER read by one
 * `SocketLoop`, abandoned on timeout, so a late reply to an earlier attempt
 * is never taken for the current one). A reader that dies fails the client.
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
  readonly #core: BinaryStarClientCore;
  readonly #socket: LazySocket;

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
    this.#socket = new LazySocket({
      linger: lingerOption(options.linger),
      endpoints: () => [this.#core.endpoint],
      onMessage: (m, current) => this.#core.receive(m, current),
      name: "client",
      logger: this.logger,
    });
    this.#core = new BinaryStarClientCore({
      servers: this.servers,
      timeout: this.timeout,
      settle: this.settle,
      attempts: this.attempts,
      clock: options.clock,
      send: (frames) => void this.#socket.post(frames),
      reconnect: () => this.#socket.drop(),
      onRetry: (attempt, endpoint) => {
        this.emit("request:retry", { attempt, endpoint });
        this.logger.warn("no reply, failing over", { endpoint, attempt });
      },
    });
  }

  /** Counters. */
  stats(): BinaryStarClientStats {
    return this.#core.stats();
  }

  /** The endpoint the next attempt goes to. */
  get endpoint(): string {
    return this.#core.endpoint;
  }

  /** Opens the first socket, to the primary. */
  protected onStart(): Promise<void> {
    this.watch(this.#socket); // its reader dying fails the client
    this.#socket.open();
    return Promise.resolve();
  }

  /** Rejects pending requests with `ZG_CLOSED` and closes the socket. */
  protected override async onClose(): Promise<void> {
    this.#core.close();
    await this.#socket.close();
  }

  /**
   * Sends one request and resolves with the reply body.
   *
   * @throws {@link ZgError} `ZG_STATE` (thrown synchronously) when the client
   * is not running (before `start()`, after close); rejects with
   * `ZG_ABORTED` when `signal` aborts (also during the settle delay),
   * `ZG_CLOSED` when the client closes while the request is pending or
   * queued, `ZG_RETRIES_EXHAUSTED` after `attempts` timeouts (details:
   * `attempts`).
   */
  request(
    body: FrameLike | readonly FrameLike[],
    options: BinaryStarRequestOptions = {},
  ): Promise<Message> {
    this.assertRunning("request");
    const frames = (Array.isArray(body) ? (body as readonly FrameLike[]) : [body as FrameLike]).map(
      toFrame,
    );
    return this.#core.request(frames, options.signal, () => {
      if (!this.running) throw new ZgError("ZG_CLOSED", "client closed");
    });
  }
}
