import type { SocketLoop } from "@zg/core";
import {
  Component,
  durationOption,
  endpointsOption,
  heartbeatIntervalOption,
  integerOption,
  lingerOption,
  livenessOption,
} from "@zg/core";
import { DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_LIVENESS } from "@zg/heartbeat";
import {
  DEFAULT_BIND_ENDPOINT,
  type BrokerEndpoints,
  type LruBrokerOptions,
} from "../common/broker-types.js";
import { maxMessageSizeOption } from "../common/max-message-size.js";
import { startLruBrokerLoops } from "../lb/broker-loops.js";
import { DEFAULT_MAX_WORKERS } from "../lb/load-balancing-broker.js";
import { PirateQueueCore, type PirateQueueEvents, type PirateQueueStats } from "./queue-core.js";

export type { PirateQueueEvents, PirateQueueStats } from "./queue-core.js";

/**
 * Default PPP heartbeat interval, 1000 ms: Guide `ppqueue`/`ppworker`
 * `HEARTBEAT_INTERVAL` (re-exported from @zg/heartbeat).
 */
export const DEFAULT_PPP_HEARTBEAT_INTERVAL = DEFAULT_HEARTBEAT_INTERVAL;
/** Default PPP liveness, 3: Guide `ppqueue`/`ppworker` `HEARTBEAT_LIVENESS` (queue expiry 3000 ms). */
export const DEFAULT_PPP_HEARTBEAT_LIVENESS = DEFAULT_HEARTBEAT_LIVENESS;
/** Default expiry-check granularity of the queue, 10 ms (reliability-battery.md §2.2, G ≤ 10 ms). */
export const DEFAULT_PPP_EXPIRY_GRANULARITY = 10;

/** Options of {@link PirateQueue}: those of every LRU broker, plus heartbeating. Durations in milliseconds. */
export interface PirateQueueOptions extends LruBrokerOptions {
  /** Heartbeat interval (Guide `HEARTBEAT_INTERVAL`). @defaultValue {@link DEFAULT_PPP_HEARTBEAT_INTERVAL} (1000) */
  heartbeatInterval?: number;
  /** Missed intervals before a worker is purged (Guide `HEARTBEAT_LIVENESS`). @defaultValue {@link DEFAULT_PPP_HEARTBEAT_LIVENESS} (3) */
  heartbeatLiveness?: number;
  /** Expiry sweep granularity: the most an expiry can be late. @defaultValue {@link DEFAULT_PPP_EXPIRY_GRANULARITY} (10) */
  expiryGranularity?: number;
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
 * - waiting requests are bounded with an `OverflowPolicy`.
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
  /** Heartbeat interval, ms. */
  readonly heartbeatInterval: number;
  /** Missed intervals before a worker is purged. */
  readonly heartbeatLiveness: number;
  readonly #frontendEndpoints: string[];
  readonly #backendEndpoints: string[];
  readonly #linger: number;
  readonly #maxMessageSize: number;
  readonly #core: PirateQueueCore;
  #frontend: SocketLoop | undefined;
  #backend: SocketLoop | undefined;

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: PirateQueueOptions = {}) {
    super("PirateQueue", options);
    this.#frontendEndpoints = endpointsOption("frontend", options.frontend, [
      DEFAULT_BIND_ENDPOINT,
    ]);
    this.#backendEndpoints = endpointsOption("backend", options.backend, [DEFAULT_BIND_ENDPOINT]);
    this.heartbeatInterval = heartbeatIntervalOption(
      "heartbeatInterval",
      options.heartbeatInterval,
      DEFAULT_PPP_HEARTBEAT_INTERVAL,
    );
    this.heartbeatLiveness = livenessOption(
      "heartbeatLiveness",
      options.heartbeatLiveness,
      DEFAULT_PPP_HEARTBEAT_LIVENESS,
    );
    this.#linger = lingerOption(options.linger);
    this.#maxMessageSize = maxMessageSizeOption(options.maxMessageSize);
    this.#core = new PirateQueueCore({
      heartbeatInterval: this.heartbeatInterval,
      heartbeatLiveness: this.heartbeatLiveness,
      granularity: durationOption(
        "expiryGranularity",
        options.expiryGranularity,
        DEFAULT_PPP_EXPIRY_GRANULARITY,
        { min: 1 },
      ),
      maxWorkers: integerOption("maxWorkers", options.maxWorkers, DEFAULT_MAX_WORKERS, { min: 1 }),
      ...(options.maxQueued === undefined ? {} : { maxQueued: options.maxQueued }),
      ...(options.overflow === undefined ? {} : { overflow: options.overflow }),
      toWorker: (m) => void this.#backend?.post(m),
      toClient: (m) => this.#frontend?.post(m) ?? false,
      emit: (type, event) => this.emit(type, event as never),
      logger: this.logger,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
  }

  /** Binds both ROUTERs and starts the loops. Resolves with the real endpoints. */
  protected async onStart(): Promise<BrokerEndpoints> {
    const { frontend, backend, endpoints } = await startLruBrokerLoops({
      frontend: this.#frontendEndpoints,
      backend: this.#backendEndpoints,
      linger: this.#linger,
      maxMessageSize: this.#maxMessageSize,
      logger: this.logger,
      core: this.#core,
      onBackend: (m) => this.#core.onWorker(m),
      onBackendSendFailure: (m) => this.#core.onWorkerSendFailure(m),
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

  /** A snapshot of the queue's counters. */
  stats(): PirateQueueStats {
    return this.#core.stats();
  }

  /** Identities of the workers in the table (idle and busy), for tests and dashboards. */
  workers(): string[] {
    return this.#core.workers();
  }
}
