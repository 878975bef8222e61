import { assertArgument, Component, type FrameLike, type Message } from "@zg/core";
import {
  type FreelanceClientBase,
  type FreelanceClientEvents,
  type FreelanceClientOptions,
  type FreelanceClientStats,
  type FreelanceRequestOptions,
} from "./client-base.js";
import { FreelanceFlpClient } from "./flp-client.js";
import type { FreelanceModel } from "./freelance-server.js";
import { FreelanceSequentialClient } from "./sequential-client.js";
import { FreelanceShotgunClient } from "./shotgun-client.js";

export {
  DEFAULT_FL1_ATTEMPTS,
  DEFAULT_FL1_TIMEOUT,
  DEFAULT_FL2_TIMEOUT,
  DEFAULT_FL3_CONNECT_PING,
  DEFAULT_FL3_PING_INTERVAL,
  DEFAULT_FL3_RESEND_INTERVAL,
  DEFAULT_FL3_SERVER_TTL,
  DEFAULT_FL3_TIMEOUT,
  type FreelanceClientEvents,
  type FreelanceClientOptions,
  type FreelanceClientStats,
  type FreelanceCommonOptions,
  type FreelanceRequestOptions,
} from "./client-base.js";

/**
 * The Guide's Freelance client (ch. 4, "Brokerless Reliability (Freelance
 * Pattern)") with the model chosen by an option: it runs
 * {@link FreelanceSequentialClient} (`model: 1`, `flclient1`),
 * {@link FreelanceShotgunClient} (`model: 2`, `flclient2`) or
 * {@link FreelanceFlpClient} (`model: 3`, the default, 10/FLP `flcliapi`),
 * one class per model, and forwards their events. Use those classes directly
 * when the model is fixed.
 *
 * @example
 * ```ts
 * const client = new FreelanceClient({ servers: [a, b, c], model: 3 });
 * await client.start();
 * const reply = await client.request("lookup x");
 * await client.close();
 * ```
 */
export class FreelanceClient extends Component<FreelanceClientEvents, FreelanceClientStats> {
  /** The Freelance model spoken (1, 2 or 3). */
  readonly model: FreelanceModel;
  readonly #inner: FreelanceClientBase;

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: FreelanceClientOptions) {
    super("FreelanceClient", options);
    this.model = options.model ?? 3;
    assertArgument(
      this.model === 1 || this.model === 2 || this.model === 3,
      `model must be 1, 2 or 3, got ${String(options.model)}`,
    );
    this.#inner =
      this.model === 1
        ? new FreelanceSequentialClient(options, "FreelanceClient")
        : this.model === 2
          ? new FreelanceShotgunClient(options, "FreelanceClient")
          : new FreelanceFlpClient(options, "FreelanceClient");
    this.#inner.on("server:alive", (e) => this.emit("server:alive", e));
    this.#inner.on("server:expired", (e) => this.emit("server:expired", e));
    this.#inner.on("request:failed", (e) => this.emit("request:failed", e));
  }

  /** Server endpoints in priority order. */
  get servers(): string[] {
    return this.#inner.servers;
  }

  /** @deprecated Since 0.2: use {@link FreelanceClient.servers}. */
  get endpoints(): string[] {
    return this.#inner.servers;
  }

  /** Model 1: per-attempt timeout; models 2–3: global timeout, ms. */
  get timeout(): number {
    return this.#inner.timeout;
  }

  protected async onStart(): Promise<void> {
    this.own(this.#inner); // closed with the client; its fatal stop fails the client
    await this.#inner.start();
  }

  /** Counters. */
  stats(): FreelanceClientStats {
    return this.#inner.stats();
  }

  /** Model 3: endpoints of the servers in the active list, in priority order. */
  activeServers(): string[] {
    return this.#inner.activeServers();
  }

  /**
   * Sends `body` and resolves with the first reply's frames.
   *
   * @throws {@link ZgError} `ZG_RETRIES_EXHAUSTED` (model 1), `ZG_TIMEOUT`
   * (models 2, 3), `ZG_ABORTED`, `ZG_CLOSED` (pending at close), `ZG_STATE`
   * (thrown synchronously) when the client is not running.
   */
  request(
    body: FrameLike | readonly FrameLike[],
    options: FreelanceRequestOptions = {},
  ): Promise<Message> {
    this.assertRunning("request"); // thrown synchronously, like a bad argument
    return this.#inner.request(body, options);
  }
}
