import type * as zmq from "zeromq";
import { assertArgument, durationOption, TypedEmitter, type Logger } from "@zg/core";

/**
 * Largest ZMTP heartbeat TTL libzmq accepts, 6 553 599 ms (a 16-bit count of
 * deciseconds; RFC 37, `zmq_setsockopt` ZMQ_HEARTBEAT_TTL).
 */
export const MAX_TRANSPORT_HEARTBEAT_TTL = 6_553_599;

/** Options of {@link transportHeartbeatOptions}. Milliseconds. */
export interface TransportHeartbeatOptions {
  /** Send a ZMTP PING every `interval` ms (ZMQ_HEARTBEAT_IVL; libzmq default 0 = off). */
  interval: number;
  /** Close the connection if nothing arrives within `timeout` ms of a PING (ZMQ_HEARTBEAT_TIMEOUT). @defaultValue `interval` (libzmq) */
  timeout?: number;
  /**
   * Ask the remote side to close the connection after this much silence
   * (ZMQ_HEARTBEAT_TTL, carried in each PING). Rounded down to deciseconds by
   * libzmq, so values below 100 ms have no effect and are refused here.
   * @defaultValue 0 (none)
   */
  timeToLive?: number;
}

/** The zeromq.js socket options produced by {@link transportHeartbeatOptions}. */
export interface TransportHeartbeatSocketOptions {
  heartbeatInterval: number;
  heartbeatTimeout: number;
  heartbeatTimeToLive?: number;
}

/**
 * Validated ZMTP 3.1 PING/PONG settings (RFC 37, libzmq ≥ 4.2) to spread into
 * socket options, e.g. `createDealer({ linger: 0, ...transportHeartbeatOptions({ interval: 1000 }) })`
 * or the `socket` option of {@link HeartbeatDealer}/{@link HeartbeatRouter}.
 *
 * What it catches: a dead TCP peer or a frozen (SIGSTOPped) process; libzmq
 * then closes the connection (a `disconnect` monitor event, see
 * {@link TransportMonitor}) and a connecting socket reconnects. What it does
 * not catch: a live process whose JavaScript event loop is stalled (libzmq's
 * I/O thread still answers PINGs) and which logical peer behind a ROUTER died
 * (no message reaches the application). Application heartbeats cover those.
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for an interval or timeout
 * outside [1 ms, 1 h], or a TTL outside [100 ms, 6 553 599 ms].
 */
export function transportHeartbeatOptions(
  options: TransportHeartbeatOptions,
): TransportHeartbeatSocketOptions {
  const interval = durationOption("interval", options.interval, 0, { min: 1, max: 3_600_000 });
  const timeout = durationOption("timeout", options.timeout, interval, { min: 1, max: 3_600_000 });
  const out: TransportHeartbeatSocketOptions = {
    heartbeatInterval: interval,
    heartbeatTimeout: timeout,
  };
  if (options.timeToLive !== undefined && options.timeToLive !== 0) {
    out.heartbeatTimeToLive = durationOption("timeToLive", options.timeToLive, 0, {
      min: 100,
      max: MAX_TRANSPORT_HEARTBEAT_TTL,
    });
  }
  return out;
}

/** Events of a {@link TransportMonitor}; `address` is the endpoint (libzmq gives no routing id). */
export interface TransportMonitorEvents {
  /** An outgoing connection was established (`connect`). */
  "connection:opened": { address: string; direction: "outgoing" | "incoming" };
  /** The ZMTP handshake completed (`handshake`). */
  "connection:ready": { address: string };
  /** A connection closed: peer gone, ZMTP heartbeat timeout or TTL, or a protocol error (`disconnect`). */
  "connection:lost": { address: string };
  /** A connecting socket will retry after `interval` ms (`connect:retry`). */
  "connection:retrying": { address: string; interval: number };
  /** The handshake failed (`handshake:error:*`). */
  "connection:failed": { address: string; reason: string };
}

/** Counters of a {@link TransportMonitor}. */
export interface TransportMonitorStats {
  opened: number;
  ready: number;
  lost: number;
  retries: number;
  failed: number;
}

/**
 * Surfaces a socket's libzmq monitor events (zeromq.js `socket.events`) as
 * typed `connection:*` events and counters. The ZMTP heartbeat's verdict
 * arrives here as `connection:lost`. Reads the observer itself (so nobody
 * else may read `socket.events`). The socket is
 * the caller's; the monitor stops with it.
 *
 * @example
 * ```ts
 * const dealer = createDealer({ linger: 0, ...transportHeartbeatOptions({ interval: 100, timeout: 300 }) });
 * const monitor = new TransportMonitor(dealer);
 * monitor.on("connection:lost", ({ address }) => logger.warn("connection lost", { address }));
 * monitor.close();
 * ```
 */
export class TransportMonitor extends TypedEmitter<TransportMonitorEvents> {
  readonly #observer: zmq.Observer;
  readonly #counters: TransportMonitorStats = {
    opened: 0,
    ready: 0,
    lost: 0,
    retries: 0,
    failed: 0,
  };

  readonly #logger: Logger | undefined;
  #closed = false;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` when `socket` is not a zeromq.js socket. */
  constructor(socket: zmq.Socket, { logger }: { logger?: Logger } = {}) {
    super();
    assertArgument(
      socket !== null && typeof socket === "object" && "events" in socket,
      "socket must be a zeromq.js socket",
    );
    this.listenerErrorLogger = logger;
    this.#logger = logger;
    this.#observer = socket.events;
    // Our own reader instead of the observer's emitter mode, whose background
    // loop is never awaited and rejects unobserved when the socket closes.
    void this.#run();
  }

  async #run(): Promise<void> {
    try {
      for await (const event of this.#observer) this.#dispatch(event);
    } catch (error) {
      if (!this.#closed) this.#logger?.debug("socket monitor ended", { error: String(error) });
    }
  }

  #dispatch(e: zmq.Event): void {
    if (this.#closed) return;
    switch (e.type) {
      case "connect":
        this.#counters.opened++;
        this.emit("connection:opened", { address: e.address, direction: "outgoing" });
        break;
      case "accept":
        this.#counters.opened++;
        this.emit("connection:opened", { address: e.address, direction: "incoming" });
        break;
      case "handshake":
        this.#counters.ready++;
        this.emit("connection:ready", { address: e.address });
        break;
      case "disconnect":
        this.#counters.lost++;
        this.#logger?.info("connection lost", { address: e.address });
        this.emit("connection:lost", { address: e.address });
        break;
      case "connect:retry":
        this.#counters.retries++;
        this.emit("connection:retrying", { address: e.address, interval: e.interval });
        break;
      case "handshake:error:protocol":
      case "handshake:error:auth":
      case "handshake:error:other":
        this.#counters.failed++;
        this.emit("connection:failed", {
          address: e.address,
          reason: `${e.type}: ${e.error.message}`,
        });
        break;
      default:
        break;
    }
  }

  /** Counters since construction. */
  stats(): TransportMonitorStats {
    return { ...this.#counters };
  }

  /**
   * Stops reporting. Idempotent; the socket stays open. The underlying
   * observer ends when the socket closes: closing a zeromq.js 6.8 observer
   * while its receive is pending breaks the polling of sockets created later
   * in the process (observed), so it is never closed explicitly.
   */
  close(): void {
    this.#closed = true;
    this.removeAllListeners();
  }
}
