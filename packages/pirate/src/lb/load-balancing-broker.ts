import type { SocketLoop } from "@zg/core";
import { Component, endpointsOption, integerOption, lingerOption, type Message } from "@zg/core";
import {
  DEFAULT_BIND_ENDPOINT,
  type BrokerEndpoints,
  type BrokerStats,
  type LruBrokerOptions,
} from "../common/broker-types.js";
import { maxMessageSizeOption } from "../common/max-message-size.js";
import { startLruBrokerLoops } from "./broker-loops.js";
import { LruQueueCore } from "./lru-queue-core.js";
import { decodeLbWorkerMessage, encodeLbRequest, lbRequestOf } from "./protocol.js";

export { READY_BYTE, READY_STRING } from "./protocol.js";

/** Default most busy workers remembered by a broker without heartbeats: 10 000 (project bound, see README). */
export const DEFAULT_MAX_WORKERS = 10_000;

/** Options of {@link LoadBalancingBroker}: those of every LRU broker. */
export type LoadBalancingBrokerOptions = LruBrokerOptions;

/** Stats of a {@link LoadBalancingBroker}. */
export type LoadBalancingBrokerStats = BrokerStats;

/** Events of a {@link LoadBalancingBroker}. */
export interface LoadBalancingBrokerEvents {
  /** A worker announced itself (READY) or finished a request and is idle. */
  "worker:ready": { identity: string; joined: boolean };
  /** A worker was found gone (a send to it was unroutable) and forgotten. */
  "worker:gone": { identity: string; silentFor: number };
  /** A request was dropped by the overflow policy. */
  "request:dropped": { reason: "overflow" };
  /** A malformed message was counted and dropped. */
  "protocol:invalid": { socket: "frontend" | "backend"; reason: string };
}

/**
 * The Guide's load-balancing broker (ch. 3, "A Load Balancing Message
 * Broker", formerly the "LRU queue"; `lbbroker.c`, `lbbroker3.c`): a frontend
 * ROUTER for REQ (or REQ-like DEALER) clients and a backend ROUTER for
 * workers. Requests go only to idle workers, least recently used first; while
 * none is free they wait in a bounded queue with a documented
 * `OverflowPolicy`. Workers announce themselves with `"\001"` or
 * `"READY"` (both accepted).
 *
 * Frames: client `[C][""][body…]` → worker `[W][""][C][""][body…]`; worker
 * `[W][""][C][""][reply…]` → client `[C][""][reply…]`.
 *
 * The queueing itself is the pure {@link LruQueueCore} with liveness `none`
 * (the same core as the Paranoid Pirate queue); this class is its socket
 * shell. The broker owns its two sockets.
 *
 * @example
 * ```ts
 * const broker = new LoadBalancingBroker({ frontend: "tcp://127.0.0.1:*", backend: "tcp://127.0.0.1:*" });
 * const { frontend, backend } = await broker.start();
 * // clients connect REQ sockets to frontend[0], workers REQ sockets to backend[0] and send "READY"
 * await broker.close();
 * ```
 */
export class LoadBalancingBroker extends Component<
  LoadBalancingBrokerEvents,
  LoadBalancingBrokerStats,
  BrokerEndpoints
> {
  readonly #frontendEndpoints: string[];
  readonly #backendEndpoints: string[];
  readonly #linger: number;
  readonly #maxMessageSize: number;
  readonly #core: LruQueueCore;
  #frontend: SocketLoop | undefined;
  #backend: SocketLoop | undefined;

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: LoadBalancingBrokerOptions = {}, name = "LoadBalancingBroker") {
    super(name, options);
    this.#frontendEndpoints = endpointsOption("frontend", options.frontend, [
      DEFAULT_BIND_ENDPOINT,
    ]);
    this.#backendEndpoints = endpointsOption("backend", options.backend, [DEFAULT_BIND_ENDPOINT]);
    this.#linger = lingerOption(options.linger);
    this.#maxMessageSize = maxMessageSizeOption(options.maxMessageSize);
    this.#core = new LruQueueCore({
      liveness: { kind: "none" },
      maxWorkers: integerOption("maxWorkers", options.maxWorkers, DEFAULT_MAX_WORKERS, {
        min: 1,
      }),
      maxQueued: options.maxQueued,
      overflow: options.overflow,
      clock: options.clock,
      logger: this.logger,
      toWorker: (id, request) => void this.#backend?.post(encodeLbRequest(id, request)),
      toClient: (reply) => this.#frontend?.post(reply) ?? false,
      emit: (type, event) => {
        if (type !== "worker:expired") this.emit(type, event);
      },
    });
  }

  /** Binds both ROUTERs and starts forwarding. Resolves with the real endpoints. */
  protected async onStart(): Promise<BrokerEndpoints> {
    const { frontend, backend, endpoints } = await startLruBrokerLoops({
      frontend: this.#frontendEndpoints,
      backend: this.#backendEndpoints,
      linger: this.#linger,
      maxMessageSize: this.#maxMessageSize,
      logger: this.logger,
      core: this.#core,
      onBackend: (m) => this.#onBackend(m),
      onBackendSendFailure: (m) => {
        const id = m[0];
        if (id !== undefined) this.#core.onWorkerSendFailure(id, lbRequestOf(m));
      },
      onProtocolError: (socket, reason) => this.emit("protocol:invalid", { socket, reason }),
      own: (r) => this.own(r),
    });
    this.#frontend = frontend;
    this.#backend = backend;
    return endpoints;
  }

  /** Drain hook: stop reading the frontend (new requests wait in libzmq; clients' retries go elsewhere). */
  protected override onDrain(): void {
    this.#frontend?.pause();
  }

  /** In-flight work for `drain()`: queued requests + busy workers. */
  protected override inFlight(): number {
    const s = this.stats();
    return s.queued + s.workers - s.idleWorkers;
  }

  /** A snapshot of the broker's counters. */
  stats(): LoadBalancingBrokerStats {
    const { workersRefused: _refused, ...stats } = this.#core.stats();
    return stats;
  }

  #onBackend(message: Message): void {
    // [W][""][READY] or [W][""][C…][""][reply…]
    const id = message[0];
    const decoded = decodeLbWorkerMessage(message.slice(1));
    if (id === undefined) return;
    if (decoded.type === "ready") this.#core.onWorkerReady(id);
    else this.#core.onWorkerReply(id, decoded.reply);
  }
}
