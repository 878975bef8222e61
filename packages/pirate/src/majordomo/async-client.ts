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
  type ComponentOptions,
  type Frame,
  type FrameLike,
} from "@zg/core";
import { brokerError, type MajordomoClientEvents } from "./client.js";
import { DEFAULT_MDP_CLIENT_TIMEOUT } from "./constants.js";
import {
  decodeClientInbound,
  decodeCorrelation,
  encodeClientRequest,
  encodeCorrelation,
  parseBrokerError,
  type MdpVersion,
} from "./protocol.js";

/** Default bound on requests in flight per {@link AsyncMajordomoClient}. Not in the Guide. */
export const DEFAULT_MDP_MAX_IN_FLIGHT = 10_000;

/** Options of {@link AsyncMajordomoClient}. Durations in milliseconds. */
export interface AsyncMajordomoClientOptions extends ComponentOptions {
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

interface Pending {
  id: bigint;
  service: string;
  frames: Frame[];
  attempt: number;
  attempts: number;
  timeout: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve: (body: Frame[]) => void;
  reject: (error: Error) => void;
  onPartial: ((b: Frame[]) => void) | undefined;
  cleanup: () => void;
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
  readonly version: MdpVersion;
  readonly #broker: string;
  readonly #timeout: number;
  readonly #attempts: number;
  readonly #correlate: boolean;
  readonly #maxInFlight: number;
  #loop: SocketLoop | undefined;
  #nextId = 1n;
  readonly #byId = new Map<bigint, Pending>();
  readonly #fifo = new Map<string, Pending[]>();
  readonly #stats = {
    requests: 0,
    replies: 0,
    resends: 0,
    timeouts: 0,
    aborted: 0,
    unmatched: 0,
    brokerErrors: 0,
  };

  constructor(options: AsyncMajordomoClientOptions) {
    super("majordomo-async-client", options);
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
  }

  stats(): AsyncMajordomoClientStats {
    return { ...this.#stats, inFlight: this.#byId.size };
  }

  protected onStart(): Promise<void> {
    const socket = createDealer({ linger: 0 });
    connectAll(socket, [this.#broker]);
    const loop = new SocketLoop(socket, {
      name: "majordomo-async-client",
      logger: this.logger,
      onMessage: (m) => this.#onMessage(m),
    });
    this.#loop = loop;
    this.own(loop);
    this.own(() => {
      for (const p of [...this.#byId.values()])
        this.#settle(p, new ZgError("ZG_CLOSED", "client closed"));
    });
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
    assertArgument(
      typeof service === "string" && service.length > 0,
      "service must be a non-empty string",
    );
    assertArgument(Array.isArray(body) && body.length > 0, "body must hold at least one frame");
    const timeout = durationOption("timeout", options.timeout, this.#timeout, { min: 1 });
    const attempts = integerOption("attempts", options.attempts, this.#attempts, { min: 1 });
    assertArgument(this.#correlate || attempts === 1, "attempts > 1 needs correlate: true");
    const signal = options.signal;
    this.assertRunning("request"); // thrown synchronously, like a bad argument
    if (this.#loop === undefined) throw this.notRunningError("request");
    if (signal?.aborted) return Promise.reject(abortError(signal, "request"));
    if (this.#byId.size >= this.#maxInFlight) {
      return Promise.reject(
        new ZgError("ZG_OVERFLOW", `${this.#byId.size} requests in flight (maxInFlight)`),
      );
    }
    const id = this.#nextId++;
    const payload = body.map(toFrame);
    const frames = encodeClientRequest(
      this.version,
      service,
      this.#correlate ? [encodeCorrelation(id), ...payload] : payload,
    );
    return new Promise<Frame[]>((resolve, reject) => {
      const onAbort = (): void => {
        this.#stats.aborted++;
        this.#settle(p, abortError(signal as AbortSignal, "request"));
      };
      const p: Pending = {
        id,
        service,
        frames,
        attempt: 0,
        attempts,
        timeout,
        timer: undefined,
        resolve,
        reject,
        onPartial: options.onPartial,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#byId.set(id, p);
      if (!this.#correlate) {
        let q = this.#fifo.get(service);
        if (q === undefined) this.#fifo.set(service, (q = []));
        q.push(p);
      }
      this.#stats.requests++;
      this.#send(p);
    });
  }

  #send(p: Pending): void {
    p.attempt++;
    this.#loop?.post(p.frames);
    p.timer = setTimeout(() => {
      p.timer = undefined;
      this.#stats.timeouts++;
      if (p.attempt < p.attempts && this.running) {
        this.#stats.resends++;
        this.emit("request:retry", { service: p.service, attempt: p.attempt + 1 });
        this.#send(p);
        return;
      }
      this.emit("request:failed", { service: p.service, attempts: p.attempt });
      this.#settle(
        p,
        p.attempts === 1
          ? new ZgError("ZG_TIMEOUT", `no reply from ${p.service} within ${p.timeout} ms`, {
              details: { service: p.service },
            })
          : new ZgError(
              "ZG_RETRIES_EXHAUSTED",
              `no reply from ${p.service} after ${p.attempts} attempts`,
              {
                details: { service: p.service, attempts: p.attempts },
              },
            ),
      );
    }, p.timeout);
  }

  #settle(p: Pending, outcome: Error | Frame[]): void {
    if (this.#byId.get(p.id) !== p) return;
    this.#byId.delete(p.id);
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.cleanup();
    if (!this.#correlate) {
      const q = this.#fifo.get(p.service);
      const i = q?.indexOf(p) ?? -1;
      if (q !== undefined && i >= 0) q.splice(i, 1);
      if (q?.length === 0) this.#fifo.delete(p.service);
    }
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  #onMessage(frames: Frame[]): void {
    const m = decodeClientInbound(frames); // ProtocolError → counted and dropped by the loop
    const err = parseBrokerError(m.body);
    let p: Pending | undefined;
    let body = m.body;
    if (this.#correlate) {
      const id = err !== undefined ? err.correlation : decodeCorrelation(m.body[0]);
      p = id === undefined ? undefined : this.#byId.get(id);
      if (err === undefined) body = m.body.slice(1);
    } else {
      p = this.#fifo.get(m.service)?.[0];
    }
    if (p === undefined || p.service !== m.service) {
      this.#stats.unmatched++;
      return;
    }
    if (m.command === "PARTIAL") {
      p.onPartial?.(body);
      return;
    }
    this.#stats.replies++;
    if (err !== undefined) {
      this.#stats.brokerErrors++;
      this.#settle(p, brokerError(p.service, err.status, err.text));
      return;
    }
    this.#settle(p, body);
  }
}
