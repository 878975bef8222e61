import {
  abortError,
  Component,
  durationOption,
  endpointsOption,
  integerOption,
  lingerOption,
  ZgError,
  type Clock,
  type ComponentOptions,
  type FrameLike,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { bodyFrames } from "../common/handler.js";
import { LazyPirateCore, type LazyPirateCoreStats } from "./lazy-pirate-core.js";
import { LazySocket } from "../common/lazy-socket.js";

/** Default per-attempt reply timeout, 2500 ms: Guide `lpclient` `REQUEST_TIMEOUT`. */
export const DEFAULT_LAZY_PIRATE_TIMEOUT = 2500;
/** Default attempts per request, 3: Guide `lpclient` `REQUEST_RETRIES` (it counts the first send: 3 sends in all). */
export const DEFAULT_LAZY_PIRATE_ATTEMPTS = 3;

/** Options of {@link LazyPirateClient}. Durations in milliseconds. */
export interface LazyPirateClientOptions extends ComponentOptions, LingerOptions {
  /**
   * The server's (or queue frontend's) endpoint. Required; the deprecated
   * `endpoint` is read when it is absent.
   */
  server?: string;
  /** @deprecated Since 0.2: use {@link LazyPirateClientOptions.server} (same meaning). */
  endpoint?: string;
  /** Default per-attempt timeout. @defaultValue {@link DEFAULT_LAZY_PIRATE_TIMEOUT} (2500) */
  timeout?: number;
  /** Default attempts per request, the first send included (Guide `REQUEST_RETRIES`). @defaultValue {@link DEFAULT_LAZY_PIRATE_ATTEMPTS} (3) */
  attempts?: number;
  /**
   * Optional check that a reply answers the request it arrived for; a reply
   * that fails it is counted as foreign and discarded (the attempt keeps
   * waiting, as `lpclient` does with a "malformed reply"). With the Guide's
   * echo servers (`lpserver`), pass {@link LazyPirateClient.echo}.
   */
  match?: (reply: Message, request: Message) => boolean;
  /** Time source of the reply timeouts. @defaultValue systemClock */
  clock?: Clock;
}

/** Per-call options of {@link LazyPirateClient.request}. */
export interface LazyPirateRequestOptions {
  /** Per-attempt timeout in ms. @defaultValue the client's `timeout` */
  timeout?: number;
  /** Attempts in all, the first send included. @defaultValue the client's `attempts` */
  attempts?: number;
  /** Aborts the request (rejects with `ZG_ABORTED`). */
  signal?: AbortSignal;
}

/**
 * Stats of a {@link LazyPirateClient}: requests started and answered,
 * `resends` (resends after a timeout, each on a new socket), `failures`
 * (requests that exhausted their attempts), `staleReplies` (no request
 * outstanding on their socket: late or duplicate), `foreignReplies` (failed
 * `match` or a bad envelope) and `latency` (first send → accepted reply, ms).
 */
export type LazyPirateClientStats = LazyPirateCoreStats;

/** Events of a {@link LazyPirateClient}. */
export interface LazyPirateClientEvents {
  /** An attempt timed out; the request is re-sent on a new socket. */
  "request:retry": { sequence: number; attempt: number; endpoint: string };
  /** A request exhausted its attempts. */
  "request:failed": { sequence: number; attempts: number; endpoint: string };
  /** A reply was discarded (`stale`: nothing outstanding on its socket; `foreign`: failed `match` or malformed). */
  "reply:discarded": { sequence: number; reason: "stale" | "foreign" };
}

/**
 * The Guide's Lazy Pirate client (ch. 4, "Client-Side Reliability (Lazy
 * Pirate Pattern)", `lpclient`): sends a request as a REQ socket would
 * (`[""][body…]`, from a DEALER) and waits up to `timeout`; on timeout it
 * closes the socket with linger 0, opens a new one and re-sends the same
 * request, up to `attempts` attempts in all; then it rejects with
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
 * const client = new LazyPirateClient({ server: "tcp://127.0.0.1:5555", timeout: 2500, attempts: 3 });
 * await client.start();
 * const [reply] = await client.request("hello");
 * await client.close();
 * ```
 */
export class LazyPirateClient extends Component<LazyPirateClientEvents, LazyPirateClientStats> {
  /** A `match` for echo servers: the reply equals the request frame for frame. */
  static readonly echo = (reply: Message, request: Message): boolean =>
    reply.length === request.length && reply.every((f, i) => f.equals(request[i] as Buffer));

  /** The server endpoint every attempt connects to. */
  readonly server: string;
  /** @deprecated Since 0.2: use {@link LazyPirateClient.server}. */
  get endpoint(): string {
    return this.server;
  }
  /** Default per-attempt timeout, ms. */
  readonly timeout: number;
  /** Default attempts per request (the first send included). */
  readonly attempts: number;
  readonly #core: LazyPirateCore;
  readonly #socket: LazySocket;

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: LazyPirateClientOptions) {
    super("LazyPirateClient", options);
    this.server = endpointsOption("server", options.server ?? options.endpoint)[0] as string;
    this.timeout = durationOption("timeout", options.timeout, DEFAULT_LAZY_PIRATE_TIMEOUT, {
      min: 1,
    });
    this.attempts = integerOption("attempts", options.attempts, DEFAULT_LAZY_PIRATE_ATTEMPTS, {
      min: 1,
      max: 1000,
    });
    this.#socket = new LazySocket({
      linger: lingerOption(options.linger),
      endpoints: () => [this.server],
      onMessage: (m, current) => this.#core.receive(m, current),
      name: "client",
      logger: this.logger,
    });
    this.#core = new LazyPirateCore({
      endpoint: this.server,
      match: options.match,
      clock: options.clock,
      send: (frames) => void this.#socket.post(frames),
      reconnect: () => this.#socket.drop(),
      onRetry: (sequence, attempt) =>
        this.emit("request:retry", { sequence, attempt, endpoint: this.server }),
      onFailed: (sequence, attempts) =>
        this.emit("request:failed", { sequence, attempts, endpoint: this.server }),
      onDiscarded: (sequence, reason) => this.emit("reply:discarded", { sequence, reason }),
    });
  }

  /** Opens the first socket. */
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

  /** Counters. */
  stats(): LazyPirateClientStats {
    return this.#core.stats();
  }

  /**
   * Sends `body` and resolves with the reply frames.
   *
   * @throws {@link ZgError} `ZG_RETRIES_EXHAUSTED` after `attempts` attempts
   * (details: `attempts`, `endpoint`, `timeout`); `ZG_ABORTED` when `signal`
   * fires; `ZG_CLOSED` when the client closes while the request is pending;
   * `ZG_STATE` (thrown synchronously) when the client is not running.
   */
  request(
    body: FrameLike | readonly FrameLike[],
    options: LazyPirateRequestOptions = {},
  ): Promise<Message> {
    const timeout = durationOption("timeout", options.timeout, this.timeout, { min: 1 });
    const attempts = integerOption("attempts", options.attempts, this.attempts, {
      min: 1,
      max: 1000,
    });
    const frames = bodyFrames(body);
    if (frames.length === 0)
      throw new ZgError("ZG_INVALID_ARGUMENT", "request body needs at least one frame");
    this.assertRunning("request");
    const signal = options.signal;
    return this.#core.request(frames, timeout, attempts, signal, () => {
      if (!this.running)
        throw new ZgError(this.stopping ? "ZG_CLOSED" : "ZG_STATE", "client is not running");
      if (signal?.aborted) throw abortError(signal, "request");
    });
  }
}
