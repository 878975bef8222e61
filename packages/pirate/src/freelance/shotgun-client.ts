import {
  connectAll,
  createDealer,
  encodeDecimal,
  identityKey,
  PendingRequests,
  SocketLoop,
  ZgError,
  type Message,
} from "@zg/core";
import {
  DEFAULT_FL2_TIMEOUT,
  countersOf,
  FreelanceClientBase,
  type FreelanceCommonOptions,
  type FreelanceCounters,
} from "./client-base.js";
import { decodeShotgunReply, encodeShotgunRequest } from "./protocol.js";

/** Options of {@link FreelanceShotgunClient}. Durations in milliseconds. */
export type FreelanceShotgunOptions = FreelanceCommonOptions;

/**
 * Freelance model 2, shotgun (Guide `flclient2`): one DEALER connected to
 * every server; the request `[""][seq][body…]` is sent once per server; the
 * first reply with the matching sequence wins, later ones are discarded.
 * Fails with `ZG_TIMEOUT` after the global timeout (a `PendingRequests`
 * deadline on the injected clock).
 *
 * @example
 * ```ts
 * const client = new FreelanceShotgunClient({ servers: [a, b, c] });
 * await client.start();
 * const reply = await client.request("lookup x");
 * await client.close();
 * ```
 */
export class FreelanceShotgunClient extends FreelanceClientBase {
  readonly #pending: PendingRequests<string, Message, { timeout: number; sends: number }>;
  #loop: SocketLoop | undefined;
  readonly #stats = { resends: 0, staleReplies: 0 };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: FreelanceShotgunOptions, name = "FreelanceShotgunClient") {
    super(name, options, DEFAULT_FL2_TIMEOUT);
    this.#pending = new PendingRequests({
      ...(this.clock === undefined ? {} : { clock: this.clock }),
      timeoutError: (_key, _attempts, ctx) =>
        new ZgError("ZG_TIMEOUT", `no reply from any server within ${ctx.timeout} ms`, {
          details: { endpoints: this.servers, timeout: ctx.timeout, sends: ctx.sends },
        }),
    });
  }

  /** Connects the DEALER to every server. */
  protected onStart(): Promise<void> {
    const socket = this.own(createDealer({ linger: this.linger, sendTimeout: 0 }));
    connectAll(socket, this.servers);
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "client",
        logger: this.logger,
        onMessage: (m) => this.#onReply(m),
      }),
    );
    this.own(() => this.#pending.close(new ZgError("ZG_CLOSED", "client closed")));
    this.#loop.start();
    return Promise.resolve();
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
    const control = encodeDecimal(sequence);
    const n = this.servers.length;
    return this.#pending.add(identityKey(control), {
      timeout,
      ...(signal === undefined ? {} : { signal }),
      context: { sends: n, timeout },
      send: () => {
        for (let i = 0; i < n; i++) this.#loop?.post(encodeShotgunRequest(control, body));
        this.#stats.resends += n - 1;
      },
    });
  }

  #onReply(message: Message): void {
    let reply;
    try {
      reply = decodeShotgunReply(message);
    } catch {
      this.#stats.staleReplies++;
      return;
    }
    if (!this.#pending.resolve(identityKey(reply.sequence), reply.body)) this.#stats.staleReplies++;
  }
}
