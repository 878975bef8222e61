import {
  abortError,
  assertArgument,
  Component,
  connectAll,
  createDealer,
  deferred,
  durationOption,
  endpointsOption,
  integerOption,
  SocketLoop,
  toFrame,
  ZgError,
  type ComponentOptions,
  type Deferred,
  type Frame,
  type FrameLike,
} from "@zg/core";
import { DEFAULT_MDP_CLIENT_ATTEMPTS, DEFAULT_MDP_CLIENT_TIMEOUT } from "./constants.js";
import {
  decodeClientInbound,
  encodeClientRequest,
  parseBrokerError,
  type MdpVersion,
} from "./protocol.js";

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

/** Events of a {@link MajordomoClient} (and an `AsyncMajordomoClient`, a `TitanicClient`). */
export interface MajordomoClientEvents {
  /** An attempt got no reply in time; the request is sent again (`attempt` counts from 2). */
  "request:retry": { service: string; attempt: number };
  /** A request failed for good: every attempt timed out (its promise rejects). */
  "request:failed": { service: string; attempts: number };
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
  #loop: SocketLoop | undefined;
  #waiter:
    | { service: string; reply: Deferred<Frame[]>; onPartial: ((b: Frame[]) => void) | undefined }
    | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #stats: MajordomoClientStats = {
    requests: 0,
    replies: 0,
    timeouts: 0,
    exhausted: 0,
    brokerErrors: 0,
    dropped: 0,
  };

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
  }

  stats(): MajordomoClientStats {
    return { ...this.#stats };
  }

  protected onStart(): Promise<void> {
    this.own(() => this.#closeSocket());
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
    this.#stats.requests++;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (!this.running) throw new ZgError("ZG_CLOSED", "client closed");
      if (this.#loop === undefined) this.#open();
      const reply = deferred<Frame[]>();
      this.#waiter = { service, reply, onPartial: options.onPartial };
      this.#loop?.post(encodeClientRequest(this.version, service, body));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = (): void => reply.reject(abortError(signal as AbortSignal, "request"));
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeout);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      let got: Frame[] | "timeout";
      try {
        got = await Promise.race([reply.promise, timedOut]);
      } catch (error) {
        // Aborted or closed mid-request: the old socket may still get the reply; start clean.
        void this.#closeSocket();
        throw error;
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#waiter = undefined;
      }
      if (got !== "timeout") {
        this.#stats.replies++;
        const err = parseBrokerError(got);
        if (err !== undefined) {
          this.#stats.brokerErrors++;
          throw brokerError(service, err.status, err.text);
        }
        return got;
      }
      this.#stats.timeouts++;
      this.logger.warn("no reply, reconnecting and retrying", { service, attempt });
      void this.#closeSocket();
      if (attempt < attempts) this.emit("request:retry", { service, attempt: attempt + 1 });
    }
    this.#stats.exhausted++;
    this.emit("request:failed", { service, attempts });
    throw new ZgError(
      "ZG_RETRIES_EXHAUSTED",
      `no reply from ${service} after ${attempts} attempt(s)`,
      {
        details: { attempts, service, timeout },
      },
    );
  }

  #open(): void {
    const socket = createDealer({ linger: 0 });
    connectAll(socket, [this.#broker]);
    const loop: SocketLoop = new SocketLoop(socket, {
      name: "majordomo-client",
      logger: this.logger,
      onMessage: (m): void => this.#onMessage(loop, m),
    });
    this.#loop = this.watch(loop);
    loop.start();
  }

  #onMessage(loop: SocketLoop, frames: Frame[]): void {
    const w = this.#waiter;
    if (loop !== this.#loop || w === undefined) {
      this.#stats.dropped++;
      return;
    }
    let m;
    try {
      m = decodeClientInbound(frames);
    } catch (error) {
      this.#stats.dropped++;
      throw error;
    }
    if (m.service !== w.service) {
      this.#stats.dropped++;
      return;
    }
    if (m.command === "PARTIAL") {
      w.onPartial?.(m.body);
      return;
    }
    w.reply.resolve(m.body);
  }

  #closeSocket(): Promise<void> {
    const loop = this.#loop;
    this.#loop = undefined;
    this.#waiter?.reply.reject(new ZgError("ZG_CLOSED", "client closed"));
    return loop?.close() ?? Promise.resolve();
  }
}
