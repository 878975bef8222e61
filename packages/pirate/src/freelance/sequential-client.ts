import { EMPTY_FRAME, integerOption, PendingRequests, ZgError, type Message } from "@zg/core";
import { LazySocket } from "../common/lazy-socket.js";
import {
  DEFAULT_FL1_ATTEMPTS,
  DEFAULT_FL1_TIMEOUT,
  countersOf,
  FreelanceClientBase,
  type FreelanceCommonOptions,
  type FreelanceCounters,
} from "./client-base.js";

/** Options of {@link FreelanceSequentialClient}. Durations in milliseconds. */
export interface FreelanceSequentialOptions extends FreelanceCommonOptions {
  /** With a single endpoint: attempts in all (with several, each endpoint is tried once). @defaultValue {@link DEFAULT_FL1_ATTEMPTS} (3) */
  attempts?: number;
}

/**
 * Freelance model 1, sequential failover (Guide `flclient1`): a fresh
 * REQ-style socket per attempt ({@link LazySocket}); one endpoint is tried up
 * to `attempts` times, several endpoints once each, in order; the first reply
 * wins. Fails with `ZG_RETRIES_EXHAUSTED` (details: attempts, endpoints,
 * timeout). Timeouts are `PendingRequests` deadlines on the injected clock.
 *
 * @example
 * ```ts
 * const client = new FreelanceSequentialClient({ servers: [a, b] });
 * await client.start();
 * const reply = await client.request("lookup x");
 * await client.close();
 * ```
 */
export class FreelanceSequentialClient extends FreelanceClientBase {
  /** With a single endpoint: attempts in all. */
  readonly attempts: number;
  readonly #pending: PendingRequests<number, Message, { timeout: number }>;
  readonly #sockets = new Set<LazySocket>();
  readonly #closing = new Set<Promise<void>>();
  readonly #stats = { resends: 0, staleReplies: 0 };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: FreelanceSequentialOptions, name = "FreelanceSequentialClient") {
    super(name, options, DEFAULT_FL1_TIMEOUT);
    this.attempts = integerOption("attempts", options.attempts, DEFAULT_FL1_ATTEMPTS, {
      min: 1,
      max: 1000,
    });
    this.#pending = new PendingRequests({
      ...(this.clock === undefined ? {} : { clock: this.clock }),
      timeoutError: (_key, attempts, ctx) =>
        new ZgError(
          "ZG_RETRIES_EXHAUSTED",
          `no reply after ${attempts} attempts (${this.servers.join(", ")})`,
          { details: { attempts, endpoints: this.servers, timeout: ctx.timeout } },
        ),
    });
  }

  /** Nothing to open: each attempt opens its own socket. */
  protected onStart(): Promise<void> {
    return Promise.resolve();
  }

  /** Rejects pending requests with `ZG_CLOSED`; closes every attempt's socket. */
  protected override async onClose(): Promise<void> {
    this.#pending.close(new ZgError("ZG_CLOSED", "client closed"));
    for (const s of this.#sockets) this.#retire(s);
    await Promise.all([...this.#closing]);
  }

  protected counters(): FreelanceCounters {
    return countersOf(this.#pending.stats(), this.#stats);
  }

  protected send(
    sequence: number,
    body: Message,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Message> {
    const plan =
      this.servers.length === 1
        ? Array.from({ length: this.attempts }, () => this.servers[0] as string)
        : this.servers;
    let attempt = 0;
    const lazy = new LazySocket({
      linger: this.linger,
      endpoints: () => [plan[attempt - 1] as string],
      onMessage: (m, current) => {
        if (!current || m[0]?.length !== 0 || m.length < 2) this.#stats.staleReplies++;
        else this.#pending.resolve(sequence, m.slice(1));
      },
      name: "client",
      logger: this.logger,
    });
    this.#sockets.add(this.watch(lazy));
    return this.#pending
      .add(sequence, {
        timeout,
        attempts: plan.length,
        ...(signal === undefined ? {} : { signal }),
        context: { timeout },
        send: (n) => {
          lazy.drop(); // a fresh socket per attempt, to the next endpoint of the plan
          attempt = n;
          if (n > 1) this.#stats.resends++;
          lazy.post([EMPTY_FRAME, ...body]);
        },
      })
      .finally(() => this.#retire(lazy));
  }

  #retire(lazy: LazySocket): void {
    this.#sockets.delete(lazy);
    const closing = lazy.close().finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
  }
}
