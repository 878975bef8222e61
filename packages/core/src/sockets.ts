import * as zmq from "zeromq";
import { validateEndpoint } from "./endpoint.js";
import { ZgError } from "./errors.js";

/**
 * Options every socket zg creates must state. `linger` is required: zeromq.js
 * defaults to -1 (wait forever for queued messages at close/exit), which
 * hangs processes (zeromq/zeromq.js#364).
 */
export interface BaseSocketOptions {
  /** ms to keep unsent messages after close; 0 drops them at once. */
  linger: number;
  /** Messages queued per peer before sends block or drop (libzmq ZMQ_SNDHWM). @defaultValue 1000 */
  sendHighWaterMark?: number;
  /** Messages queued per peer on receive (ZMQ_RCVHWM). @defaultValue 1000 */
  receiveHighWaterMark?: number;
  /** Largest accepted message in bytes; larger ones disconnect the peer (ZMQ_MAXMSGSIZE). @defaultValue unlimited */
  maxMessageSize?: number;
  /** ZMTP 3.1 PING interval in ms, 0 = off (ZMQ_HEARTBEAT_IVL). */
  heartbeatInterval?: number;
  /** ZMTP 3.1 PONG wait in ms (ZMQ_HEARTBEAT_TIMEOUT). */
  heartbeatTimeout?: number;
  /** ZMTP 3.1 TTL asked of the remote side, ms (ZMQ_HEARTBEAT_TTL). */
  heartbeatTimeToLive?: number;
  /** Reconnect interval in ms (ZMQ_RECONNECT_IVL). @defaultValue 100 */
  reconnectInterval?: number;
  /** Reconnect back-off cap in ms, 0 = no back-off (ZMQ_RECONNECT_IVL_MAX). */
  reconnectMaxInterval?: number;
  /** Send timeout in ms, -1 = block (ZMQ_SNDTIMEO). */
  sendTimeout?: number;
  /** Receive timeout in ms, -1 = block (ZMQ_RCVTIMEO). */
  receiveTimeout?: number;
  /** Only queue messages to completed connections (ZMQ_IMMEDIATE). */
  immediate?: boolean;
  /** The zeromq.js context; the default context otherwise. */
  context?: zmq.Context;
}

/** Options of {@link createRouter}. */
export interface RouterSocketOptions extends BaseSocketOptions {
  /**
   * Fail sends to unknown peers with EHOSTUNREACH instead of dropping them
   * silently (ZMQ_ROUTER_MANDATORY). @defaultValue true
   */
  mandatory?: boolean;
  /** This socket's routing id (for ROUTER-to-ROUTER peering, e.g. Freelance servers). */
  routingId?: string;
  /** Let a new peer take over a live routing id (ZMQ_ROUTER_HANDOVER). @defaultValue false */
  handover?: boolean;
}

/** Options of {@link createDealer}. */
export interface DealerSocketOptions extends BaseSocketOptions {
  /** This socket's routing id as the peer ROUTER sees it. */
  routingId?: string;
}

function strip<T extends object>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== "context") out[k] = v;
  return out as Partial<T>;
}

/**
 * A ROUTER socket with broker-safe defaults: `mandatory: true` and
 * `sendTimeout: 0`, so a send to a vanished peer fails at once with
 * EHOSTUNREACH and a send to a slow peer with EAGAIN, instead of stalling the
 * socket (protocols.md §3.3). The caller owns the socket.
 */
export function createRouter(options: RouterSocketOptions): zmq.Router {
  return new zmq.Router({
    mandatory: true,
    sendTimeout: 0,
    ...strip(options),
    ...(options.context === undefined ? {} : { context: options.context }),
  });
}

/** A DEALER socket with an explicit linger. The caller owns the socket. */
export function createDealer(options: DealerSocketOptions): zmq.Dealer {
  return new zmq.Dealer({
    ...strip(options),
    ...(options.context === undefined ? {} : { context: options.context }),
  });
}

/**
 * A socket of any zeromq.js class with an explicit linger.
 *
 * @example `const pub = createSocket(zmq.Publisher, { linger: 0 });`
 */
export function createSocket<T extends zmq.Socket>(
  SocketClass: new (options?: zmq.SocketOptions<T>) => T,
  options: BaseSocketOptions & Record<string, unknown>,
): T {
  return new SocketClass({
    ...strip(options),
    ...(options.context === undefined ? {} : { context: options.context }),
  } as zmq.SocketOptions<T>);
}

/**
 * Binds `socket` to each endpoint and returns the endpoints actually bound:
 * `tcp://127.0.0.1:*` comes back as `tcp://127.0.0.1:40123`.
 *
 * @throws {@link ZgError} `ZG_SOCKET` naming the endpoint (details: `endpoint`,
 * `code`, e.g. EADDRINUSE), or `ZG_INVALID_ARGUMENT` for a malformed endpoint.
 */
export async function bindAll(socket: zmq.Socket, endpoints: readonly string[]): Promise<string[]> {
  const bound: string[] = [];
  for (const endpoint of endpoints) {
    validateEndpoint("endpoint", endpoint);
    try {
      await socket.bind(endpoint);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const why = code === "EADDRINUSE" ? "address already in use" : (error as Error).message;
      throw new ZgError("ZG_SOCKET", `cannot bind ${endpoint}: ${why}`, {
        cause: error,
        details: { endpoint, code },
      });
    }
    bound.push(socket.lastEndpoint ?? endpoint);
  }
  return bound;
}

/**
 * Connects `socket` to each endpoint (connects complete in the background).
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a malformed endpoint.
 */
export function connectAll(socket: zmq.Socket, endpoints: readonly string[]): void {
  for (const endpoint of endpoints) {
    try {
      socket.connect(endpoint);
    } catch (error) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `cannot connect to ${endpoint}: ${(error as Error).message}`,
        {
          cause: error,
          details: { endpoint },
        },
      );
    }
  }
}

/**
 * Default `linger` of every socket a zg component creates, in ms: 0, queued
 * messages are dropped at close. The Guide's reliable patterns set linger 0
 * on the sockets they close and reopen (Lazy Pirate `lpclient`, Paranoid
 * Pirate `ppworker`: "zmq_setsockopt (client, ZMQ_LINGER, &linger, ...)" with
 * `linger = 0`), and zg's close() must never hang on an absent peer.
 */
export const DEFAULT_LINGER = 0;

/** The `linger` option every component that owns sockets accepts. */
export interface LingerOptions {
  /**
   * ms the component's sockets keep unsent messages after close (-1 = wait
   * forever, not advised). @defaultValue {@link DEFAULT_LINGER}
   */
  linger?: number;
}

/**
 * Validates a `linger` option: an integer ≥ -1 (ms; -1 = forever).
 *
 * @returns `value`, or {@link DEFAULT_LINGER} when undefined.
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT`.
 */
export function lingerOption(value: number | undefined, name = "linger"): number {
  if (value === undefined) return DEFAULT_LINGER;
  if (!Number.isSafeInteger(value) || value < -1 || value > 86_400_000) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      `${name} must be an integer number of milliseconds ≥ -1, got ${String(value)}`,
    );
  }
  return value;
}

/** Validates an endpoint list option (each with {@link validateEndpoint}). @throws {@link ZgError} `ZG_INVALID_ARGUMENT`. */
export function endpointsOption(
  name: string,
  value: string | readonly string[] | undefined,
  fallback?: readonly string[],
): string[] {
  const list = value === undefined ? fallback : typeof value === "string" ? [value] : value;
  if (list === undefined || list.length === 0) {
    throw new ZgError("ZG_INVALID_ARGUMENT", `${name} needs at least one endpoint`);
  }
  for (const e of list) validateEndpoint(name, e);
  return [...list];
}
