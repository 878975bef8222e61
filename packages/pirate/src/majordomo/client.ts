import {
  abortError,
  assertArgument,
  Component,
  connectAll,
  createDealer,
  durationOption,
  endpointsOption,
  integerOption,
  SocketLoop,
  toFrame,
  ZgError,
  type Clock,
  type ComponentOptions,
  type Frame,
  type FrameLike,
} from "@zg/core";
import { brokerError, MdpClientCore } from "./client-core.js";
import { DEFAULT_MDP_CLIENT_ATTEMPTS, DEFAULT_MDP_CLIENT_TIMEOUT } from "./constants.js";
import type { MdpVersion } from "./protocol.js";

export { brokerError };

/** Options of {@link MajordomoClient}. Durations in milliseconds. */
export interface MajordomoClientOptions extends ComponentOptions {
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
export class MajordomoClient extends Component<Record<string, never>, MajordomoClientStats> {
  readonly version: MdpVersion;
  readonly #broker: string;
  readonly #timeout: number;
  readonly #attempts: number;
  readonly #core: MdpClientCore;
  #loop: SocketLoop | undefined;
  readonly #closing = new Set<Promise<void>>();
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
    this.#core = new MdpClientCore({
      version: this.version,
      correlate: false,
      exhaustedAfterOne: true,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      send: (frames) => {
        if (this.#loop === undefined) this.#open();
        this.#loop?.post(frames);
      },
      // Lazy Pirate recovery: a new socket (new routing id) for every retry, so a
      // late reply to an abandoned attempt can never be taken for the current one.
      onRetry: (service, attempt) => {
        this.logger.warn("no reply, reconnecting and retrying", { service, attempt });
        this.#dropSocket();
      },
      // Timed out, aborted or closed mid-request: the old socket may still get the reply.
      onFailure: () => this.#dropSocket(),
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
      this.#dropSocket();
      await Promise.all([...this.#closing]);
    });
    this.#open();
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
    assertArgument(
      typeof service === "string" && service.length > 0,
      "service must be a non-empty string",
    );
    assertArgument(
      Array.isArray(body) && body.length > 0,
      "body must hold at least one frame (reference brokers crash on an empty body)",
    );
    const frames = body.map(toFrame);
    const run = this.#chain.then(() => this.#request(service, frames, options));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #request(
    service: string,
    body: Frame[],
    options: MajordomoRequestOptions,
  ): Promise<Frame[]> {
    if (!this.running) throw new ZgError("ZG_CLOSED", "client is not running");
    const timeout = durationOption("timeout", options.timeout, this.#timeout, { min: 1 });
    const attempts = integerOption("attempts", options.attempts, this.#attempts, { min: 1 });
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

  #open(): void {
    const socket = createDealer({ linger: 0 });
    connectAll(socket, [this.#broker]);
    const loop: SocketLoop = new SocketLoop(socket, {
      name: "majordomo-client",
      logger: this.logger,
      onMessage: (m): void => this.#onMessage(loop, m),
    });
    this.#loop = loop;
    loop.start();
  }

  #onMessage(loop: SocketLoop, frames: Frame[]): void {
    if (loop !== this.#loop) {
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

  /** Abandons the current socket (closed in the background, awaited by close()). */
  #dropSocket(): void {
    const loop = this.#loop;
    this.#loop = undefined;
    if (loop === undefined) return;
    const closing = loop.close().finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
  }
}
