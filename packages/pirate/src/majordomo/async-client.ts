import {
  abortError,
  assertArgument,
  Component,
  connectAll,
  createDealer,
  durationOption,
  endpointsOption,
  integerOption,
  lingerOption,
  SocketLoop,
  toFrame,
  ZgError,
  type Clock,
  type ComponentOptions,
  type Frame,
  type FrameLike,
  type LingerOptions,
} from "@zg/core";
import { checkRequest, MdpClientCore, type MajordomoClientEvents } from "./client-core.js";
import { DEFAULT_MDP_CLIENT_TIMEOUT } from "./constants.js";
import type { MdpVersion } from "./protocol.js";

/** Default bound on requests in flight per {@link AsyncMajordomoClient}. Not in the Guide. */
export const DEFAULT_MDP_MAX_IN_FLIGHT = 10_000;

/** Options of {@link AsyncMajordomoClient}. Durations in milliseconds. */
export interface AsyncMajordomoClientOptions extends ComponentOptions, LingerOptions {
  /** The broker's endpoint. */
  broker: string;
  /** Wire version. @defaultValue "MDP/0.1" */
  version?: MdpVersion;
  /** Reply timeout per attempt. @defaultValue {@link DEFAULT_MDP_CLIENT_TIMEOUT} (Guide `mdcliapi2`) */
  timeout?: number;
  /**
   * Attempts per request. More than 1 resends the same request (same
   * correlation number) on timeout; needs `correlate`. @defaultValue 1 (Guide
   * `mdcliapi2`: no retry)
   */
  attempts?: number;
  /**
   * Put a correlation frame ({@link encodeCorrelation}) first in each request
   * body, so replies are matched by number even when workers answer out of
   * order. Workers must echo it: {@link MajordomoWorker} does, and so does any
   * worker that echoes its whole body. With `false`, replies are matched
   * first-in-first-out per service, which is right only while each service
   * has one request in flight or one worker. @defaultValue true
   */
  correlate?: boolean;
  /** Requests in flight before `request()` rejects with `ZG_OVERFLOW`. @defaultValue {@link DEFAULT_MDP_MAX_IN_FLIGHT} */
  maxInFlight?: number;
  /** Time source of the request timeouts. @defaultValue systemClock */
  clock?: Clock;
}

/** Per-request options of {@link AsyncMajordomoClient.request}. */
export interface AsyncMajordomoRequestOptions {
  /** Cancels this request only (it rejects with `ZG_ABORTED`; a late reply is dropped). */
  signal?: AbortSignal;
  /** Overrides the per-attempt timeout. */
  timeout?: number;
  /** Overrides the attempts. */
  attempts?: number;
  /** Receives 18/MDP PARTIAL replies. */
  onPartial?: (body: Frame[]) => void;
}

/** Counters of an {@link AsyncMajordomoClient}. */
export interface AsyncMajordomoClientStats {
  requests: number;
  replies: number;
  /** Requests in flight now. */
  inFlight: number;
  /** Resends after a timeout. */
  resends: number;
  timeouts: number;
  aborted: number;
  /** Replies that matched no request in flight (late, duplicate after a resend, invalid). */
  unmatched: number;
  brokerErrors: number;
}

/**
 * The asynchronous Majordomo client (Guide `mdcliapi2`, made reliable as the
 * Guide's text suggests): one DEALER, many requests in flight, an
 * `AbortSignal` per request, replies matched to requests by a correlation
 * number carried inside the 7/MDP body.
 *
 * **When the broker restarts mid-flight**: the broker keeps no state, so
 * requests it had queued or dispatched are gone. With `attempts: 1` (the
 * default, as in the Guide) each such request rejects with `ZG_TIMEOUT` after
 * its timeout; the client never resolves it twice or with another request's
 * reply. With `attempts > 1` the client resends the same request (same
 * number) on the same socket, which libzmq reconnects to the new broker: each
 * request then resolves exactly once or rejects with `ZG_RETRIES_EXHAUSTED`,
 * and the service may execute it more than once (at-least-once execution,
 * at-most-once delivery; duplicate replies are counted in `unmatched`).
 *
 * @example
 * ```ts
 * const client = new AsyncMajordomoClient({ broker });
 * await client.start();
 * const replies = await Promise.all([1, 2, 3].map((i) => client.request("echo", [`#${i}`])));
 * await client.close();
 * ```
 */
export class AsyncMajordomoClient extends Component<
  MajordomoClientEvents,
  AsyncMajordomoClientStats
> {
  readonly #linger: number;
  readonly version: MdpVersion;
  readonly #broker: string;
  readonly #timeout: number;
  readonly #attempts: number;
  readonly #correlate: boolean;
  readonly #maxInFlight: number;
  readonly #clock: Clock | undefined;
  #core: MdpClientCore | undefined;

  constructor(options: AsyncMajordomoClientOptions) {
    super("majordomo-async-client", options);
    this.#linger = lingerOption(options.linger);
    this.#broker = endpointsOption("broker", options.broker)[0] as string;
    assertArgument(
      options.version === undefined ||
        options.version === "MDP/0.1" ||
        options.version === "MDP/0.2",
      "version must be MDP/0.1 or MDP/0.2",
    );
    this.version = options.version ?? "MDP/0.1";
    this.#timeout = durationOption("timeout", options.timeout, DEFAULT_MDP_CLIENT_TIMEOUT, {
      min: 1,
    });
    this.#attempts = integerOption("attempts", options.attempts, 1, { min: 1 });
    this.#correlate = options.correlate ?? true;
    assertArgument(
      this.#correlate || this.#attempts === 1,
      "attempts > 1 needs correlate: true (replies must be matched to resent requests)",
    );
    this.#maxInFlight = integerOption(
      "maxInFlight",
      options.maxInFlight,
      DEFAULT_MDP_MAX_IN_FLIGHT,
      { min: 1 },
    );
    this.#clock = options.clock;
  }

  stats(): AsyncMajordomoClientStats {
    const s = this.#core?.stats();
    return {
      requests: s?.requests ?? 0,
      replies: s?.replies ?? 0,
      inFlight: s?.inFlight ?? 0,
      resends: s?.resends ?? 0,
      timeouts: s?.timeouts ?? 0,
      aborted: s?.aborted ?? 0,
      unmatched: s?.unmatched ?? 0,
      brokerErrors: s?.brokerErrors ?? 0,
    };
  }

  protected onStart(): Promise<void> {
    const socket = createDealer({ linger: this.#linger });
    connectAll(socket, [this.#broker]);
    const loop = new SocketLoop(socket, {
      name: "majordomo-async-client",
      logger: this.logger,
      onMessage: (m) => void core.receive(m), // ProtocolError → counted and dropped by the loop
    });
    const core = new MdpClientCore({
      version: this.version,
      correlate: this.#correlate,
      send: (frames) => void loop.post(frames),
      ...(this.#clock === undefined ? {} : { clock: this.#clock }),
      onRetry: (service, attempt) => this.emit("request:retry", { service, attempt }),
      onFailure: (service, reason, attempts) => {
        if (reason === "timeout") this.emit("request:failed", { service, attempts });
      },
    });
    this.#core = core;
    this.own(loop);
    this.own(() => core.close());
    loop.start();
    return Promise.resolve();
  }

  /**
   * Sends `body` to `service`; resolves with the reply body. Any number of
   * requests may be in flight (up to `maxInFlight`).
   *
   * @throws {@link ZgError} `ZG_TIMEOUT` (one attempt, no reply),
   * `ZG_RETRIES_EXHAUSTED`, `ZG_ABORTED`, `ZG_CLOSED`, `ZG_OVERFLOW` (too many
   * in flight, or a broker `"503"`), `ZG_UNREACHABLE` (broker `"502"`).
   */
  request(
    service: string,
    body: readonly FrameLike[],
    options: AsyncMajordomoRequestOptions = {},
  ): Promise<Frame[]> {
    checkRequest(service, body);
    const timeout = durationOption("timeout", options.timeout, this.#timeout, { min: 1 });
    const attempts = integerOption("attempts", options.attempts, this.#attempts, { min: 1 });
    assertArgument(this.#correlate || attempts === 1, "attempts > 1 needs correlate: true");
    const signal = options.signal;
    this.assertRunning("request"); // thrown synchronously, like a bad argument
    const core = this.#core;
    if (core === undefined) throw this.notRunningError("request");
    if (signal?.aborted) return Promise.reject(abortError(signal, "request"));
    if (core.inFlight >= this.#maxInFlight) {
      return Promise.reject(
        new ZgError("ZG_OVERFLOW", `${core.inFlight} requests in flight (maxInFlight)`),
      );
    }
    return core.request(service, body.map(toFrame), {
      timeout,
      attempts,
      signal,
      onPartial: options.onPartial,
    });
  }
}
