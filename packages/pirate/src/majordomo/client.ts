import {
  abortError,
  assertArgument,
  Component,
  durationOption,
  endpointsOption,
  integerOption,
  lingerOption,
  toFrame,
  ZgError,
  type Clock,
  type ComponentOptions,
  type Frame,
  type FrameLike,
  type LingerOptions,
} from "@zg/core";
import { LazySocket } from "../common/lazy-socket.js";
import {
  brokerError,
  checkRequest,
  MdpClientCore,
  type MajordomoClientEvents,
} from "./client-core.js";

export type { MajordomoClientEvents } from "./client-core.js";
import { DEFAULT_MDP_CLIENT_ATTEMPTS, DEFAULT_MDP_CLIENT_TIMEOUT } from "./constants.js";
import type { MdpVersion } from "./protocol.js";

export { brokerError };

/** Options of {@link MajordomoClient}. Durations in milliseconds. */
export interface MajordomoClientOptions extends ComponentOptions, LingerOptions {
  /** The broker's endpoint. */
  broker: string;
  /** Wire version. @defaultValue "MDP/0.1" */
  version?: MdpVersion;
  /** Reply timeout per attempt. @defaultValue {@link DEFAULT_MDP_CLIENT_TIMEOUT} (Guide `mdcliapi`) */
  timeout?: number;
  /** Attempts in total (first try + retries). @defaultValue {@link DEFAULT_MDP_CLIENT_ATTEMPTS} (Guide `mdcliapi`) */
  attempts?: number;
  /** Time source of the reply timeouts. @defaultValue systemClock */
  clock?: Clock;
}

/** Per-request options of {@link MajordomoClient.request}. */
export interface MajordomoRequestOptions {
  /** Cancels the request (it rejects with `ZG_ABORTED`). */
  signal?: AbortSignal;
  /** Overrides the per-attempt timeout. */
  timeout?: number;
  /** Overrides the number of attempts. */
  attempts?: number;
  /** Receives 18/MDP PARTIAL replies as they arrive. */
  onPartial?: (body: Frame[]) => void;
}

/** Counters of a Majordomo client. */
export interface MajordomoClientStats {
  requests: number;
  replies: number;
  /** Attempts that timed out (the socket was then closed and reopened). */
  timeouts: number;
  /** Requests that failed after every attempt. */
  exhausted: number;
  /** Broker-generated error replies (`"502"`/`"503"`/`"504"`). */
  brokerErrors: number;
  /** Messages that were not the awaited reply (wrong service, invalid). */
  dropped: number;
}

/**
 * The synchronous Majordomo client (Guide `mdcliapi`): one request at a time
 * (concurrent calls queue), reply timeout per attempt, and on timeout the
 * Lazy Pirate recovery: close the socket, open a new one, resend. After the
 * last attempt the request rejects with `ZG_RETRIES_EXHAUSTED`. Because each
 * retry uses a new socket (a new routing id), a late reply to an abandoned
 * attempt can never be mistaken for the current one.
 *
 * @example
 * ```ts
 * const client = new MajordomoClient({ broker: "tcp://127.0.0.1:5555" });
 * await client.start();
 * const reply = await client.request("echo", ["hello"]);
 * await client.close();
 * ```
 */
export class MajordomoClient extends Component<MajordomoClientEvents, MajordomoClientStats> {
  readonly version: MdpVersion;
  readonly #broker: string;
  readonly #timeout: number;
  readonly #attempts: number;
  readonly #core: MdpClientCore;
  readonly #socket: LazySocket;
  #chain: Promise<unknown> = Promise.resolve();
  #staleSocket = 0;
  #invalid = 0;

  constructor(options: MajordomoClientOptions) {
    super("majordomo-client", options);
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
    this.#attempts = integerOption("attempts", options.attempts, DEFAULT_MDP_CLIENT_ATTEMPTS, {
      min: 1,
    });
    this.#socket = new LazySocket({
      linger: lingerOption(options.linger),
      endpoints: () => [this.#broker],
      onMessage: (m, current) => this.#onMessage(m, current),
      name: "majordomo-client",
      logger: this.logger,
    });
    this.#core = new MdpClientCore({
      version: this.version,
      correlate: false,
      exhaustedAfterOne: true,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      send: (frames) => void this.#socket.post(frames),
      // Lazy Pirate recovery: a new socket (new routing id) for every retry, so a
      // late reply to an abandoned attempt can never be taken for the current one.
      onRetry: (service, attempt) => {
        this.logger.warn("no reply, reconnecting and retrying", { service, attempt });
        this.#socket.drop();
        this.emit("request:retry", { service, attempt });
      },
      // Timed out, aborted or closed mid-request: the old socket may still get the reply.
      onFailure: (service, reason, attempts) => {
        this.#socket.drop();
        if (reason === "timeout") this.emit("request:failed", { service, attempts });
      },
    });
  }

  stats(): MajordomoClientStats {
    const s = this.#core.stats();
    return {
      requests: s.requests,
      replies: s.replies,
      timeouts: s.timeouts,
      exhausted: s.exhausted,
      brokerErrors: s.brokerErrors,
      dropped: s.unmatched + this.#staleSocket + this.#invalid,
    };
  }

  protected onStart(): Promise<void> {
    this.own(async () => {
      this.#core.close();
      await this.#socket.close();
    });
    this.watch(this.#socket); // its reader dying fails the client
    this.#socket.open();
    return Promise.resolve();
  }

  /**
   * Sends `body` to `service` and resolves with the reply body.
   *
   * @throws {@link ZgError} `ZG_RETRIES_EXHAUSTED` (no reply after every
   * attempt; details: `attempts`, `service`), `ZG_ABORTED`, `ZG_CLOSED`,
   * `ZG_OVERFLOW`/`ZG_TIMEOUT`/`ZG_UNREACHABLE` for a broker error reply
   * (see {@link brokerError}), `ZG_INVALID_ARGUMENT` for an empty body.
   */
  request(
    service: string,
    body: readonly FrameLike[],
    options: MajordomoRequestOptions = {},
  ): Promise<Frame[]> {
    checkRequest(service, body);
    const frames = body.map(toFrame);
    const timeout = durationOption("timeout", options.timeout, this.#timeout, { min: 1 });
    const attempts = integerOption("attempts", options.attempts, this.#attempts, { min: 1 });
    this.assertRunning("request");
    const run = this.#chain.then(() => this.#request(service, frames, options, timeout, attempts));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #request(
    service: string,
    body: Frame[],
    options: MajordomoRequestOptions,
    timeout: number,
    attempts: number,
  ): Promise<Frame[]> {
    // Accepted, but the client closed while it waited for its turn: interrupted work.
    if (!this.running) throw new ZgError("ZG_CLOSED", "client closed");
    const signal = options.signal;
    if (signal?.aborted) throw abortError(signal, "request");
    try {
      return await this.#core.request(service, body, {
        timeout,
        attempts,
        signal,
        onPartial: options.onPartial,
      });
    } catch (error) {
      if (ZgError.isInstance(error) && error.code === "ZG_RETRIES_EXHAUSTED") {
        throw new ZgError("ZG_RETRIES_EXHAUSTED", error.message, {
          details: { attempts, service, timeout },
        });
      }
      throw error;
    }
  }

  #onMessage(frames: Frame[], current: boolean): void {
    if (!current) {
      this.#staleSocket++;
      return;
    }
    try {
      this.#core.receive(frames);
    } catch (error) {
      this.#invalid++;
      throw error; // ProtocolError → counted and dropped by the loop
    }
  }
}
