import {
  bindAll,
  Component,
  createRouter,
  EMPTY_FRAME,
  endpointsOption,
  formatIdentity,
  identityKey,
  integerOption,
  isZgError,
  LatencyWindow,
  ProtocolError,
  SocketLoop,
  splitEnvelope,
  type ComponentOptions,
  type Frame,
  type Message,
} from "@zg/core";
import {
  DEFAULT_BIND_ENDPOINT,
  type BrokerEndpoints,
  type BrokerStats,
} from "../common/broker-types.js";
import { RequestQueue, type OverflowPolicy } from "../common/request-queue.js";
import { WorkerList } from "../common/worker-list.js";

/** The ready signal of Pirate code and `lbbroker3`: one byte `0x01` (Guide `LRU_READY "\001"`). */
export const READY_BYTE = Buffer.from([0x01]);
/** The ready signal of `lbbroker`/`lbbroker2`: the ASCII string `READY`. */
export const READY_STRING = Buffer.from("READY");

/** Default most busy workers remembered by a broker without heartbeats: 10 000 (project bound, see README). */
export const DEFAULT_MAX_WORKERS = 10_000;

/** Options of {@link LoadBalancingBroker}. */
export interface LoadBalancingBrokerOptions extends ComponentOptions {
  /** Client-facing ROUTER endpoints to bind. @defaultValue "tcp://127.0.0.1:*" */
  frontend?: string | readonly string[];
  /** Worker-facing ROUTER endpoints to bind. @defaultValue "tcp://127.0.0.1:*" */
  backend?: string | readonly string[];
  /** Most requests waiting for a free worker. @defaultValue {@link DEFAULT_MAX_QUEUED} (1000) */
  maxQueued?: number;
  /** What happens when `maxQueued` is reached. @defaultValue "backpressure" (the Guide's behaviour) */
  overflow?: OverflowPolicy;
  /** Most workers tracked at once; beyond it the longest-busy worker is forgotten. @defaultValue {@link DEFAULT_MAX_WORKERS} */
  maxWorkers?: number;
  /** Socket linger in ms. @defaultValue 0 */
  linger?: number;
}

/** Stats of a {@link LoadBalancingBroker}. */
export type LoadBalancingBrokerStats = BrokerStats;

/** Events of a {@link LoadBalancingBroker}. */
export interface LoadBalancingBrokerEvents {
  /** A worker announced itself (READY) or finished a request and is idle. */
  "worker:ready": { identity: string; joined: boolean };
  /** A worker was found gone (a send to it was unroutable) and forgotten. */
  "worker:gone": { identity: string };
  /** A request was dropped by the overflow policy. */
  "request:dropped": { reason: "overflow" };
  /** A malformed message was counted and dropped. */
  "protocol:invalid": { socket: "frontend" | "backend"; reason: string };
}

interface Busy {
  id: Frame;
  request: Frame[];
  since: number;
}

/**
 * The Guide's load-balancing broker (ch. 3, "A Load Balancing Message
 * Broker", formerly the "LRU queue"; `lbbroker.c`, `lbbroker3.c`): a frontend
 * ROUTER for REQ (or REQ-like DEALER) clients and a backend ROUTER for
 * workers. Requests go only to idle workers, least recently used first; while
 * none is free they wait in a bounded queue with a documented
 * {@link OverflowPolicy}. Workers announce themselves with `"\001"` or
 * `"READY"` (both accepted).
 *
 * Frames: client `[C][""][body…]` → worker `[W][""][C][""][body…]`; worker
 * `[W][""][C][""][reply…]` → client `[C][""][reply…]`.
 *
 * The broker owns its two sockets.
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
  readonly #maxWorkers: number;
  readonly #queue: RequestQueue<Frame[]>;
  readonly #idle = new WorkerList();
  readonly #busy = new Map<string, Busy>();
  readonly #latency = new LatencyWindow();
  #frontend: SocketLoop | undefined;
  #backend: SocketLoop | undefined;
  readonly #counters = {
    requestsForwarded: 0,
    repliesForwarded: 0,
    repliesDropped: 0,
    redispatched: 0,
    workersPurged: 0,
    protocolErrors: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: LoadBalancingBrokerOptions = {}, name = "LoadBalancingBroker") {
    super(name, options);
    this.#frontendEndpoints = endpointsOption("frontend", options.frontend, [
      DEFAULT_BIND_ENDPOINT,
    ]);
    this.#backendEndpoints = endpointsOption("backend", options.backend, [DEFAULT_BIND_ENDPOINT]);
    this.#linger = integerOption("linger", options.linger, 0, { min: -1 });
    this.#maxWorkers = integerOption("maxWorkers", options.maxWorkers, DEFAULT_MAX_WORKERS, {
      min: 1,
    });
    this.#queue = new RequestQueue({
      ...(options.maxQueued === undefined ? {} : { limit: options.maxQueued }),
      ...(options.overflow === undefined ? {} : { policy: options.overflow }),
    });
  }

  /** Binds both ROUTERs and starts forwarding. Resolves with the real endpoints. */
  protected async onStart(): Promise<BrokerEndpoints> {
    const frontendSocket = this.own(createRouter({ linger: this.#linger }));
    const backendSocket = this.own(createRouter({ linger: this.#linger }));
    const frontend = await bindAll(frontendSocket, this.#frontendEndpoints);
    const backend = await bindAll(backendSocket, this.#backendEndpoints);
    this.#backend = this.own(
      new SocketLoop(backendSocket, {
        name: "backend",
        logger: this.logger,
        onMessage: (m) => this.#guard("backend", () => this.#onBackend(m)),
        onSendFailure: (m, outcome) => this.#onBackendSendFailure(m, outcome),
      }),
    );
    this.#frontend = this.own(
      new SocketLoop(frontendSocket, {
        name: "frontend",
        logger: this.logger,
        onMessage: (m) => this.#guard("frontend", () => this.#onFrontend(m)),
        onSendFailure: (_m, outcome) => {
          if (outcome !== "closed") this.#counters.repliesDropped++;
        },
      }),
    );
    this.own(() => this.#queue.clear());
    this.#backend.start();
    this.#frontend.start();
    return { frontend, backend };
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
    return {
      workers: this.#idle.size + this.#busy.size,
      idleWorkers: this.#idle.size,
      queued: this.#queue.size,
      requestsForwarded: this.#counters.requestsForwarded,
      repliesForwarded: this.#counters.repliesForwarded,
      repliesDropped: this.#counters.repliesDropped,
      overflowDropped: this.#queue.dropped,
      redispatched: this.#counters.redispatched,
      workersPurged: this.#counters.workersPurged,
      heartbeatsSent: 0,
      protocolErrors: this.#counters.protocolErrors,
      latency: this.#latency.summary(),
    };
  }

  #guard(socket: "frontend" | "backend", fn: () => void | Promise<void>): void | Promise<void> {
    try {
      return fn();
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#counters.protocolErrors++;
      this.logger.debug("malformed message dropped", { socket, error: error.message });
      this.emit("protocol:invalid", { socket, reason: error.message });
    }
  }

  #onFrontend(message: Message): void | Promise<void> {
    // [C…][""][body…]: at least one routing id, a delimiter, one body frame.
    const { envelope, body } = splitEnvelope(message);
    if (envelope.length === 0)
      throw new ProtocolError("client message has no routing id before the delimiter");
    if (body.length === 0) throw new ProtocolError("client request has no body");
    const { dropped, wait } = this.#queue.push(message);
    if (dropped !== undefined) this.emit("request:dropped", { reason: "overflow" });
    this.#dispatch();
    return wait;
  }

  #onBackend(message: Message): void {
    // [W][""][READY] or [W][""][C…][""][reply…]
    const id = message[0];
    if (id === undefined || message.length < 3 || message[1]?.length !== 0) {
      throw new ProtocolError(
        `worker message must be [worker][""][…], got ${message.length} frames`,
      );
    }
    const key = identityKey(id);
    const rest = message.slice(2);
    if (rest.length === 1) {
      const signal = rest[0] as Frame;
      if (!signal.equals(READY_BYTE) && !signal.equals(READY_STRING)) {
        throw new ProtocolError(`unknown worker signal (${signal.length} bytes)`);
      }
      this.#workerReady(id, key);
      return;
    }
    const reply = splitEnvelope(rest);
    if (reply.envelope.length === 0) throw new ProtocolError("worker reply has no client address");
    const busy = this.#busy.get(key);
    if (busy !== undefined) this.#latency.record(performance.now() - busy.since);
    if (this.#frontend?.post(rest)) this.#counters.repliesForwarded++;
    this.#workerReady(id, key);
  }

  #workerReady(id: Frame, key: string): void {
    const joined = !this.#busy.delete(key) && !this.#idle.has(key);
    if (joined && this.#idle.size + this.#busy.size >= this.#maxWorkers) {
      // Bound the tables: forget the longest-busy worker (it is most likely dead).
      const oldest = this.#busy.keys().next();
      if (!oldest.done) {
        this.#busy.delete(oldest.value);
        this.#counters.workersPurged++;
      } else {
        this.logger.warn("worker table full; worker refused", { worker: formatIdentity(id) });
        return;
      }
    }
    this.#idle.ready(id, key);
    this.emit("worker:ready", { identity: formatIdentity(id), joined });
    this.#dispatch();
  }

  #dispatch(): void {
    const backend = this.#backend;
    if (backend === undefined) return;
    while (this.#idle.size > 0 && this.#queue.size > 0) {
      const worker = this.#idle.next();
      const request = this.#queue.shift();
      if (worker === undefined || request === undefined) return;
      this.#busy.set(worker.key, { id: worker.id, request, since: performance.now() });
      backend.post([worker.id, EMPTY_FRAME, ...request]);
      this.#counters.requestsForwarded++;
    }
  }

  #onBackendSendFailure(message: Message, outcome: string): void {
    const id = message[0];
    if (id === undefined || outcome === "closed") return;
    const key = identityKey(id);
    const busy = this.#busy.get(key);
    this.#busy.delete(key);
    this.#idle.delete(key);
    this.#counters.workersPurged++;
    this.emit("worker:gone", { identity: formatIdentity(id) });
    // The worker never got it: give the request to the next worker.
    this.#queue.unshift(busy?.request ?? message.slice(2));
    this.#counters.redispatched++;
    this.#dispatch();
  }
}
