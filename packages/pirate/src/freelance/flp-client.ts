import { connectAll, createRouter, durationOption, SocketLoop, type Message } from "@zg/core";
import {
  DEFAULT_FL3_CONNECT_PING,
  DEFAULT_FL3_PING_INTERVAL,
  DEFAULT_FL3_RESEND_INTERVAL,
  DEFAULT_FL3_SERVER_TTL,
  DEFAULT_FL3_TIMEOUT,
  FreelanceClientBase,
  type FreelanceCommonOptions,
  type FreelanceCounters,
} from "./client-base.js";
import { FlpClientCore } from "./flp-client-core.js";

/** Options of {@link FreelanceFlpClient}. Durations in milliseconds. */
export interface FreelanceFlpOptions extends FreelanceCommonOptions {
  /** Ping interval. @defaultValue {@link DEFAULT_FL3_PING_INTERVAL} (2000) */
  pingInterval?: number;
  /** A server silent this long leaves the active list. @defaultValue {@link DEFAULT_FL3_SERVER_TTL} (6000) */
  serverTtl?: number;
  /** Re-send an unanswered request (to the next live server) this often. @defaultValue {@link DEFAULT_FL3_RESEND_INTERVAL} (1000) */
  resendInterval?: number;
}

/**
 * Freelance model 3, 10/FLP (Guide `flcliapi`): a ROUTER connected to every
 * server, addressed by its identity = its endpoint. PING/PONG keeps an
 * active-server list with TTL `serverTtl`; a request `[control][body…]`
 * (control = ASCII sequence) goes to the first live server and is re-sent to
 * the next live one every `resendInterval` until a reply echoes the control
 * frame or the global timeout passes (`ZG_TIMEOUT`). Servers see duplicates
 * and must be idempotent. The protocol is the pure {@link FlpClientCore}:
 * pings, TTLs and re-sends are deadlines on the injected clock; nothing polls.
 *
 * @example
 * ```ts
 * const client = new FreelanceFlpClient({ servers: [a, b, c] });
 * await client.start();
 * const reply = await client.request("lookup x");
 * await client.close();
 * ```
 */
export class FreelanceFlpClient extends FreelanceClientBase {
  /** Ping interval, ms. */
  readonly pingInterval: number;
  /** Server TTL, ms. */
  readonly serverTtl: number;
  /** Re-send interval, ms. */
  readonly resendInterval: number;
  #core: FlpClientCore | undefined;

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: FreelanceFlpOptions, name = "FreelanceFlpClient") {
    super(name, options, DEFAULT_FL3_TIMEOUT);
    this.pingInterval = durationOption(
      "pingInterval",
      options.pingInterval,
      DEFAULT_FL3_PING_INTERVAL,
      { min: 10 },
    );
    this.serverTtl = durationOption("serverTtl", options.serverTtl, DEFAULT_FL3_SERVER_TTL, {
      min: 10,
    });
    this.resendInterval = durationOption(
      "resendInterval",
      options.resendInterval,
      DEFAULT_FL3_RESEND_INTERVAL,
      { min: 10 },
    );
  }

  /** Connects the ROUTER to every server and starts pinging. */
  protected onStart(): Promise<void> {
    const socket = this.own(createRouter({ linger: this.linger }));
    connectAll(socket, this.servers);
    const core = new FlpClientCore({
      endpoints: this.servers,
      pingInterval: this.pingInterval,
      serverTtl: this.serverTtl,
      resendInterval: this.resendInterval,
      connectPing: Math.min(DEFAULT_FL3_CONNECT_PING, this.pingInterval),
      clock: this.clock,
      send: (m) => void loop.post(m),
      onServerAlive: (endpoint) => this.emit("server:alive", { endpoint }),
      onServerExpired: (endpoint, reason) => this.emit("server:expired", { endpoint, reason }),
    });
    const loop: SocketLoop = this.own(
      new SocketLoop(socket, {
        name: "client",
        logger: this.logger,
        onMessage: (m) => core.receive(m),
        onSendFailure: (m, outcome) => {
          if (outcome !== "closed") core.sendFailed(m);
        },
      }),
    );
    this.#core = core;
    this.own(() => core.close());
    loop.start();
    core.start();
    return Promise.resolve();
  }

  override activeServers(): string[] {
    return this.#core?.activeServers() ?? [];
  }

  protected counters(): FreelanceCounters {
    const f = this.#core?.stats();
    return {
      requests: f?.requests ?? 0,
      replies: f?.replies ?? 0,
      failures: f?.failures ?? 0,
      resends: f?.resends ?? 0,
      staleReplies: f?.staleReplies ?? 0,
      serversAlive: this.activeServers().length,
      pingsSent: f?.pingsSent ?? 0,
    };
  }

  protected send(
    _sequence: number,
    body: Message,
    timeout: number,
    signal: AbortSignal | undefined,
  ): Promise<Message> {
    return (this.#core as FlpClientCore).request(body, timeout, signal);
  }
}
