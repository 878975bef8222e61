import {
  abortError,
  assertArgument,
  Component,
  durationOption,
  endpointsOption,
  sleep,
  toFrame,
  ZgError,
  type ComponentOptions,
  type Frame,
  type FrameLike,
} from "@zg/core";
import { MajordomoClient, type MajordomoClientEvents } from "../majordomo/client.js";
import type { MdpVersion } from "../majordomo/protocol.js";

/** First poll delay after submitting, ms: Guide `ticlient` sleeps 100 ms. */
export const DEFAULT_TITANIC_FIRST_POLL = 100;
/** Longest poll delay while a reply is pending, ms: Guide `ticlient` sleeps 5000 ms after a 300. */
export const DEFAULT_TITANIC_MAX_POLL = 5000;

/** Options of {@link TitanicClient}. Durations in milliseconds. */
export interface TitanicClientOptions extends ComponentOptions {
  /** The Majordomo broker's endpoint. */
  broker: string;
  /** Wire version of the underlying client. @defaultValue "MDP/0.1" */
  version?: MdpVersion;
  /** Per-attempt timeout of each TSP call. @defaultValue 2500 (Guide `mdcliapi`) */
  timeout?: number;
  /** Attempts of each TSP call. @defaultValue 3 (Guide `mdcliapi`) */
  attempts?: number;
}

/** What `titanic.reply` answered. */
export type TitanicReply =
  { status: "200"; body: Frame[] } | { status: "300" | "400" | "500"; body: Frame[] };

/**
 * A 9/TSP client (Guide `ticlient`) over a {@link MajordomoClient}: submit a
 * request and get its UUID, poll for the reply, close it; or {@link request}
 * for all three. UUIDs are 32 hex characters; either case is accepted.
 *
 * @example
 * ```ts
 * const ti = new TitanicClient({ broker });
 * await ti.start();
 * const reply = await ti.request("echo", ["hello"]);
 * await ti.close();
 * ```
 */
export class TitanicClient extends Component<MajordomoClientEvents, { calls: number }> {
  readonly #client: MajordomoClient;
  #calls = 0;

  constructor(options: TitanicClientOptions) {
    super("titanic-client", options);
    endpointsOption("broker", options.broker);
    this.#client = new MajordomoClient({
      broker: options.broker,
      ...(options.version === undefined ? {} : { version: options.version }),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  stats(): { calls: number } {
    return { calls: this.#calls };
  }

  protected async onStart(): Promise<void> {
    this.own(this.#client);
    // Its requests' retries and failures are this client's.
    this.own(this.#client.on("request:retry", (e) => this.emit("request:retry", e)));
    this.own(this.#client.on("request:failed", (e) => this.emit("request:failed", e)));
    await this.#client.start();
  }

  /**
   * `titanic.request`: stores the request durably and returns its UUID.
   *
   * @throws {@link ZgError} `ZG_STORAGE` when Titanic answers an error status
   * (details: `status`), or the errors of {@link MajordomoClient.request}.
   */
  async submit(
    service: string,
    body: readonly FrameLike[],
    options: { signal?: AbortSignal } = {},
  ): Promise<string> {
    assertArgument(
      typeof service === "string" && service.length > 0,
      "service must be a non-empty string",
    );
    assertArgument(Array.isArray(body) && body.length > 0, "body must hold at least one frame");
    this.#calls++;
    const [status, uuid] = await this.#client.request(
      "titanic.request",
      [service, ...body.map(toFrame)],
      options,
    );
    const s = status?.toString("latin1").slice(0, 3);
    if (s !== "200" || uuid === undefined) {
      // 400: refused (too large …), do not retry; 500: not stored, retry later. A reason frame may follow.
      const reason = s !== "200" && uuid !== undefined ? `: ${uuid.toString("utf8")}` : "";
      throw new ZgError("ZG_STORAGE", `titanic.request answered ${s ?? "nothing"}${reason}`, {
        details: { status: s },
      });
    }
    return uuid.toString("latin1");
  }

  /** `titanic.reply`: the status and, for 200, the reply body. */
  async reply(uuid: string, options: { signal?: AbortSignal } = {}): Promise<TitanicReply> {
    this.#calls++;
    const [status, ...body] = await this.#client.request("titanic.reply", [uuid], options);
    const s = status?.toString("latin1").slice(0, 3) ?? "500";
    const known = s === "200" || s === "300" || s === "400" ? s : "500";
    return { status: known, body };
  }

  /** `titanic.close`: forgets the request and its reply (always succeeds, even for an unknown UUID). */
  async closeRequest(uuid: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#calls++;
    await this.#client.request("titanic.close", [uuid], options);
  }

  /**
   * Submits, polls until the reply is there (100 ms, doubling up to 5 s, as
   * `ticlient`), closes and returns the reply body.
   *
   * @throws {@link ZgError} `ZG_STATE` when Titanic does not know the UUID
   * (400), `ZG_ABORTED`/`ZG_TIMEOUT` from `signal`, or the errors of {@link submit}.
   */
  async request(
    service: string,
    body: readonly FrameLike[],
    options: { signal?: AbortSignal; firstPoll?: number; maxPoll?: number } = {},
  ): Promise<Frame[]> {
    let wait = durationOption("firstPoll", options.firstPoll, DEFAULT_TITANIC_FIRST_POLL);
    const max = durationOption("maxPoll", options.maxPoll, DEFAULT_TITANIC_MAX_POLL);
    const signal = options.signal;
    const opts = signal === undefined ? {} : { signal };
    const uuid = await this.submit(service, body, opts);
    for (;;) {
      if (signal?.aborted) throw abortError(signal, "titanic request");
      await sleep(wait, signal);
      const r = await this.reply(uuid, opts);
      if (r.status === "200") {
        await this.closeRequest(uuid, opts);
        return r.body;
      }
      if (r.status === "400")
        throw new ZgError("ZG_STATE", `Titanic does not know request ${uuid}`, {
          details: { uuid },
        });
      wait = Math.min(max, wait * 2);
    }
  }
}
