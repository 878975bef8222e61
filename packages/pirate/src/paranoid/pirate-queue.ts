import {
  bindAll,
  Component,
  createRouter,
  durationOption,
  endpointsOption,
  formatIdentity,
  identityFromKey,
  identityKey,
  integerOption,
  isZgError,
  LatencyWindow,
  ProtocolError,
  SocketLoop,
  splitEnvelope,
  wrapEnvelope,
  type ComponentOptions,
  type Frame,
  type Message,
} from "@zg/core";
import { DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_LIVENESS, PresenceTracker } from "@zg/heartbeat";
import { DEFAULT_BIND_ENDPOINT, type BrokerEndpoints, type BrokerStats } from "../common/broker-types.js";
import { RequestQueue, type OverflowPolicy } from "../common/request-queue.js";
import { WorkerList } from "../common/worker-list.js";
import { DEFAULT_MAX_WORKERS } from "../lb/load-balancing-broker.js";
import { decodePppWorkerMessage, encodePppHeartbeat } from "./protocol.js";

/**
 * Default PPP heartbeat interval, 1000 ms: Guide `ppqueue`/`ppworker`
 * `HEARTBEAT_INTERVAL` (re-exported from @zg/heartbeat).
 */
export const DEFAULT_PPP_HEARTBEAT_INTERVAL = DEFAULT_HEARTBEAT_INTERVAL;
/** Default PPP liveness, 3: Guide `ppqueue`/`ppworker` `HEARTBEAT_LIVENESS` (queue expiry 3000 ms). */
export const DEFAULT_PPP_HEARTBEAT_LIVENESS = DEFAULT_HEARTBEAT_LIVENESS;
/** Default expiry-check granularity of the queue, 10 ms (reliability-battery.md §2.2, G ≤ 10 ms). */
export const DEFAULT_PPP_EXPIRY_GRANULARITY = 10;

/** Options of {@link PirateQueue}. Durations in milliseconds. */
export interface PirateQueueOptions extends ComponentOptions {
  /** Client-facing ROUTER endpoints. @defaultValue "tcp://127.0.0.1:*" */
  frontend?: string | readonly string[];
  /** Worker-facing ROUTER endpoints. @defaultValue "tcp://127.0.0.1:*" */
  backend?: string | readonly string[];
  /** Heartbeat interval (Guide `HEARTBEAT_INTERVAL`). @defaultValue {@link DEFAULT_PPP_HEARTBEAT_INTERVAL} (1000) */
  heartbeatInterval?: number;
  /** Missed intervals before a worker is purged (Guide `HEARTBEAT_LIVENESS`). @defaultValue {@link DEFAULT_PPP_HEARTBEAT_LIVENESS} (3) */
  heartbeatLiveness?: number;
  /** Expiry sweep granularity: the most an expiry can be late. @defaultValue {@link DEFAULT_PPP_EXPIRY_GRANULARITY} (10) */
  expiryGranularity?: number;
  /** Most requests waiting for a worker. @defaultValue 1000 */
  maxQueued?: number;
  /** What happens when `maxQueued` is reached. @defaultValue "backpressure" (Guide behaviour) */
  overflow?: OverflowPolicy;
  /** Most workers tracked at once; READY beyond it is refused. @defaultValue {@link DEFAULT_MAX_WORKERS} */
  maxWorkers?: number;
  /** Socket linger in ms. @defaultValue 0 */
  linger?: number;
}

/** Stats of a {@link PirateQueue}. */
export interface PirateQueueStats extends BrokerStats {
  /** Worker messages refused because the table was full. */
  workersRefused: number;
}

/** Events of a {@link PirateQueue}. */
export interface PirateQueueEvents {
  [type: string]: unknown;
  /** A worker became ready: `joined` is true for a worker the queue did not know. */
  "worker:ready": { identity: string; joined: boolean };
  /** A worker was silent for interval × liveness and was purged. */
  "worker:expired": { identity: string; silentFor: number };
  /** A send to a worker was unroutable: it was purged at once (`silentFor`: ms since it was last heard). */
  "worker:gone": { identity: string; silentFor: number };
  /** A request was dropped by the overflow policy. */
  "request:dropped": { reason: "overflow" };
  /** A malformed message was counted and dropped. */
  "protocol:error": { socket: "frontend" | "backend"; reason: string };
}

/**
 * The Paranoid Pirate queue, 6/PPP (Guide ch. 4, "Robust Reliable Queuing
 * (Paranoid Pirate Pattern)", `ppqueue`), byte-compatible with `ppworker`:
 *
 * - workers send READY `[0x01]` and HEARTBEAT `[0x02]`; any worker message is
 *   a sign of life, and a worker the queue does not know becomes ready (so
 *   workers carry on after a queue restart);
 * - requests `[C][""][body]` go to the least recently used idle worker as
 *   `[W][C][""][body]`; replies `[C][""][body]` go back to the client;
 * - liveness comes from `@zg/heartbeat`'s {@link PresenceTracker}: HEARTBEAT
 *   to each worker after an interval with nothing sent to it, and a worker
 *   silent for interval × liveness is purged and never sent a request again;
 * - waiting requests are bounded with an {@link OverflowPolicy}.
 *
 * Heartbeats go to busy workers too (`ppworker` accepts them at any time),
 * and a HEARTBEAT from a busy worker does not make it idle, so a worker that
 * heartbeats while it works is never given a second request.
 *
 * For `ppworker` interop, clients must send single-frame bodies: it accepts
 * exactly 3-frame requests. The queue owns its sockets.
 *
 * @example
 * ```ts
 * const queue = new PirateQueue({ heartbeatInterval: 1000 });
 * const { frontend, backend } = await queue.start();
 * await queue.close();
 * ```
 */
export class PirateQueue extends Component<PirateQueueEvents, PirateQueueStats, BrokerEndpoints> {
  readonly heartbeatInterval: number;
  readonly heartbeatLiveness: number;
  readonly #frontendEndpoints: string[];
  readonly #backendEndpoints: string[];
  readonly #linger: number;
  readonly #granularity: number;
  readonly #maxWorkers: number;
  readonly #queue: RequestQueue<Frame[]>;
  readonly #idle = new WorkerList();
  readonly #busy = new Map<string, number>();
  readonly #latency = new LatencyWindow();
  #tracker: PresenceTracker<string> | undefined;
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
  constructor(options: PirateQueueOptions = {}) {
    super("PirateQueue", options);
    this.#frontendEndpoints = endpointsOption("frontend", options.frontend, [DEFAULT_BIND_ENDPOINT]);
    this.#backendEndpoints = endpointsOption("backend", options.backend, [DEFAULT_BIND_ENDPOINT]);
    this.heartbeatInterval = durationOption("heartbeatInterval", options.heartbeatInterval, DEFAULT_PPP_HEARTBEAT_INTERVAL, { min: 10 });
    this.heartbeatLiveness = integerOption("heartbeatLiveness", options.heartbeatLiveness, DEFAULT_PPP_HEARTBEAT_LIVENESS, { min: 1, max: 1000 });
    this.#granularity = durationOption("expiryGranularity", options.expiryGranularity, DEFAULT_PPP_EXPIRY_GRANULARITY, { min: 1 });
    this.#linger = integerOption("linger", options.linger, 0, { min: -1 });
    this.#maxWorkers = integerOption("maxWorkers", options.maxWorkers, DEFAULT_MAX_WORKERS, { min: 1 });
    this.#queue = new RequestQueue({
      ...(options.maxQueued === undefined ? {} : { limit: options.maxQueued }),
      ...(options.overflow === undefined ? {} : { policy: options.overflow }),
    });
  }

  /** Binds both ROUTERs and starts the loops. Resolves with the real endpoints. */
  protected async onStart(): Promise<BrokerEndpoints> {
    const frontendSocket = this.own(createRouter({ linger: this.#linger }));
    const backendSocket = this.own(createRouter({ linger: this.#linger }));
    const frontend = await bindAll(frontendSocket, this.#frontendEndpoints);
    const backend = await bindAll(backendSocket, this.#backendEndpoints);
    const tracker = new PresenceTracker<string>({
      interval: this.heartbeatInterval,
      liveness: this.heartbeatLiveness,
      granularity: this.#granularity,
      maxPeers: this.#maxWorkers,
      rememberExpired: 0,
      logger: this.logger,
      sendHeartbeat: (key) => this.#backend?.post([identityFromKey(key), ...encodePppHeartbeat()]),
    });
    tracker.on("peer:expired", ({ key, silentFor }) => {
      this.#forget(key);
      this.emit("worker:expired", { identity: formatIdentity(identityFromKey(key)), silentFor });
    });
    this.#tracker = this.own(tracker);
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

  /** A snapshot of the queue's counters. */
  stats(): PirateQueueStats {
    const t = this.#tracker?.stats();
    return {
      workers: this.#tracker?.size ?? 0,
      idleWorkers: this.#idle.size,
      queued: this.#queue.size,
      requestsForwarded: this.#counters.requestsForwarded,
      repliesForwarded: this.#counters.repliesForwarded,
      repliesDropped: this.#counters.repliesDropped,
      overflowDropped: this.#queue.dropped,
      redispatched: this.#counters.redispatched,
      workersPurged: this.#counters.workersPurged,
      workersRefused: t?.refused ?? 0,
      heartbeatsSent: t?.heartbeatsSent ?? 0,
      protocolErrors: this.#counters.protocolErrors,
      latency: this.#latency.summary(),
    };
  }

  /** Identities of the workers in the table (idle and busy), for tests and dashboards. */
  workers(): string[] {
    return [...(this.#tracker?.keys() ?? [])].map((k) => formatIdentity(identityFromKey(k)));
  }

  #guard(socket: "frontend" | "backend", fn: () => void | Promise<void>): void | Promise<void> {
    try {
      return fn();
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#counters.protocolErrors++;
      this.logger.debug("malformed message dropped", { socket, error: error.message });
      this.emit("protocol:error", { socket, reason: error.message });
    }
  }

  #onFrontend(message: Message): void | Promise<void> {
    const { envelope, body } = splitEnvelope(message);
    if (envelope.length === 0) throw new ProtocolError("client message has no routing id before the delimiter");
    if (body.length === 0) throw new ProtocolError("client request has no body");
    const { dropped, wait } = this.#queue.push(message);
    if (dropped !== undefined) this.emit("request:dropped", { reason: "overflow" });
    this.#dispatch();
    return wait;
  }

  #onBackend(message: Message): void {
    const id = message[0];
    if (id === undefined) throw new ProtocolError("empty message");
    const decoded = decodePppWorkerMessage(message.slice(1));
    const tracker = this.#tracker;
    if (tracker === undefined) return;
    const key = identityKey(id);
    const seen = tracker.seen(key);
    if (seen === "refused") return;
    const known = seen === "alive";
    switch (decoded.type) {
      case "ready":
        // A READY from a worker we think busy: it restarted; its request is lost (the client retries).
        this.#busy.delete(key);
        this.#ready(id, key, !known);
        return;
      case "heartbeat":
        if (!known) this.#ready(id, key, true);
        return;
      case "reply": {
        const since = this.#busy.get(key);
        if (since !== undefined) this.#latency.record(performance.now() - since);
        this.#busy.delete(key);
        if (this.#frontend?.post(wrapEnvelope(decoded.envelope, decoded.body))) this.#counters.repliesForwarded++;
        this.#ready(id, key, !known);
        return;
      }
    }
  }

  #ready(id: Frame, key: string, joined: boolean): void {
    this.#idle.ready(id, key);
    this.emit("worker:ready", { identity: formatIdentity(id), joined });
    this.#dispatch();
  }

  #dispatch(): void {
    const backend = this.#backend;
    const tracker = this.#tracker;
    if (backend === undefined || tracker === undefined) return;
    while (this.#idle.size > 0 && this.#queue.size > 0) {
      const worker = this.#idle.next();
      if (worker === undefined) return;
      if (!tracker.has(worker.key)) continue; // never send to an expired worker
      const request = this.#queue.shift();
      if (request === undefined) return;
      this.#busy.set(worker.key, performance.now());
      tracker.sent(worker.key);
      backend.post([worker.id, ...request]);
      this.#counters.requestsForwarded++;
    }
  }

  #forget(key: string): void {
    this.#idle.delete(key);
    this.#busy.delete(key);
    this.#counters.workersPurged++;
  }

  #onBackendSendFailure(message: Message, outcome: string): void {
    const id = message[0];
    if (id === undefined || outcome === "closed") return;
    const key = identityKey(id);
    const lastSeen = this.#tracker?.get(key)?.lastSeen;
    if (lastSeen !== undefined && this.#tracker?.remove(key)) {
      this.#forget(key);
      this.emit("worker:gone", { identity: formatIdentity(id), silentFor: performance.now() - lastSeen });
    }
    if (message.length > 2) {
      // A request the worker never got: give it to the next worker.
      this.#counters.requestsForwarded--;
      this.#queue.unshift(message.slice(1));
      this.#counters.redispatched++;
      this.#dispatch();
    }
  }
}
