import {
  formatIdentity,
  identityFromKey,
  identityKey,
  LatencyWindow,
  ProtocolError,
  splitEnvelope,
  systemClock,
  type Clock,
  type Frame,
  type Logger,
  type Message,
} from "@zg/core";
import { PresenceTracker } from "@zg/heartbeat";
import type { BrokerStats } from "../common/broker-types.js";
import { RequestQueue, type OverflowPolicy } from "../common/request-queue.js";
import { WorkerList } from "../common/worker-list.js";

/**
 * How an {@link LruQueueCore} knows its workers are alive.
 *
 * - `none` (load-balancing broker, Simple Pirate): a worker is known from its
 *   READY until a send to it fails; with the table full, the longest-busy
 *   worker is forgotten to make room.
 * - `presence` (Paranoid Pirate): any worker message is a sign of life; the
 *   queue heartbeats each worker after an interval with nothing sent to it
 *   and purges one silent for interval × liveness (a `PresenceTracker`); a
 *   worker it does not know becomes ready on any message; beyond `maxWorkers`
 *   new workers are refused.
 */
export type WorkerLiveness =
  | { kind: "none" }
  | {
      kind: "presence";
      interval: number;
      liveness: number;
      granularity: number;
      /** Sends one heartbeat to the worker. */
      heartbeat: (id: Frame) => void;
    };

/** Events of an {@link LruQueueCore}. */
export interface LruQueueEvents {
  /** A worker became ready: `joined` is true for a worker the queue did not know. */
  "worker:ready": { identity: string; joined: boolean };
  /** A worker was silent for interval × liveness and was purged (`presence` only). */
  "worker:expired": { identity: string; silentFor: number };
  /** A send to a worker failed: it was purged at once (`silentFor`: ms since it was last heard). */
  "worker:gone": { identity: string; silentFor: number };
  /** A request was dropped by the overflow policy. */
  "request:dropped": { reason: "overflow" };
}

/** Counters of an {@link LruQueueCore}. */
export interface LruQueueStats extends BrokerStats {
  /** Worker messages refused because the table was full. */
  workersRefused: number;
}

/** Options of {@link LruQueueCore}. */
export interface LruQueueCoreOptions {
  liveness: WorkerLiveness;
  /** Most workers in the table. */
  maxWorkers: number;
  /** Most requests waiting for a worker. @defaultValue DEFAULT_MAX_QUEUED */
  maxQueued?: number | undefined;
  overflow?: OverflowPolicy | undefined;
  /** Sends a request `[C…][""][body…]` to worker `id` (the shell adds its wire framing). */
  toWorker: (id: Frame, request: Message) => void;
  /** Sends a reply `[C…][""][body…]` to its client; false when refused. */
  toClient: (reply: Message) => boolean;
  emit: <K extends keyof LruQueueEvents>(type: K, event: LruQueueEvents[K]) => void;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

interface Busy {
  id: Frame;
  request: Message;
  since: number;
}

/**
 * The one least-recently-used queue of the Guide's brokers, as a state
 * machine without sockets: a bounded request queue with an
 * {@link OverflowPolicy}, the LRU list of idle workers, the busy table, the
 * counters, and a {@link WorkerLiveness} policy. The load-balancing broker
 * and the Simple Pirate queue use it with `none`, the Paranoid Pirate queue
 * with `presence`. Their socket shells decode their wire forms into the
 * calls below and execute `toWorker`/`toClient`; tests drive it on a
 * `ManualClock`.
 *
 * @internal
 */
export class LruQueueCore {
  readonly #o: LruQueueCoreOptions;
  readonly #clock: Clock;
  readonly #tracker: PresenceTracker<string> | undefined;
  readonly #queue: RequestQueue<Message>;
  readonly #idle = new WorkerList();
  readonly #busy = new Map<string, Busy>();
  readonly #latency = new LatencyWindow();
  #refused = 0;
  readonly #counters = {
    requestsForwarded: 0,
    repliesForwarded: 0,
    repliesDropped: 0,
    redispatched: 0,
    workersPurged: 0,
    protocolErrors: 0,
  };

  constructor(options: LruQueueCoreOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#queue = new RequestQueue({
      ...(options.maxQueued === undefined ? {} : { limit: options.maxQueued }),
      ...(options.overflow === undefined ? {} : { policy: options.overflow }),
    });
    const live = options.liveness;
    if (live.kind === "presence") {
      this.#tracker = new PresenceTracker<string>({
        interval: live.interval,
        liveness: live.liveness,
        granularity: live.granularity,
        maxPeers: options.maxWorkers,
        rememberExpired: 0,
        clock: this.#clock,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
        sendHeartbeat: (key) => live.heartbeat(identityFromKey(key)),
      });
      this.#tracker.on("peer:expired", ({ key, silentFor }) => {
        this.#forget(key);
        options.emit("worker:expired", {
          identity: formatIdentity(identityFromKey(key)),
          silentFor,
        });
      });
    }
  }

  /**
   * A client request `[C…][""][body…]`. Returns a promise while the reader
   * must wait (backpressure).
   *
   * @throws ProtocolError for a request without a routing id or body.
   */
  onClient(message: Message): void | Promise<void> {
    const { envelope, body } = splitEnvelope(message);
    if (envelope.length === 0)
      throw new ProtocolError("client message has no routing id before the delimiter");
    if (body.length === 0) throw new ProtocolError("client request has no body");
    const { dropped, wait } = this.#queue.push(message);
    if (dropped !== undefined) this.#o.emit("request:dropped", { reason: "overflow" });
    this.#dispatch();
    return wait;
  }

  /** Worker `id` said READY (it started, restarted or finished a request it could not answer). */
  onWorkerReady(id: Frame): void {
    const key = identityKey(id);
    const known = this.#seen(key);
    if (known === undefined) return;
    // READY from a worker we think busy: it restarted; its request is lost (the client retries).
    this.#busy.delete(key);
    this.#ready(id, key, !known);
  }

  /** Worker `id` sent a heartbeat (`presence` only): liveness, or "ready" from a worker the queue does not know. */
  onWorkerHeartbeat(id: Frame): void {
    const key = identityKey(id);
    const known = this.#seen(key);
    if (known === false) this.#ready(id, key, true);
  }

  /** Worker `id` answered: `reply` is `[C…][""][body…]`; the worker is idle again. */
  onWorkerReply(id: Frame, reply: Message): void {
    const key = identityKey(id);
    const known = this.#seen(key);
    if (known === undefined) return;
    const busy = this.#busy.get(key);
    if (busy !== undefined) this.#latency.record(this.#clock.now() - busy.since);
    this.#busy.delete(key);
    if (this.#o.toClient(reply)) this.#counters.repliesForwarded++;
    this.#ready(id, key, !known);
  }

  /**
   * A send to worker `id` failed (unroutable, slow or refused): purge it and
   * give `request` (when the failed message was one) to the next worker.
   */
  onWorkerSendFailure(id: Frame, request: Message | undefined): void {
    const key = identityKey(id);
    const busy = this.#busy.get(key);
    const lastSeen = this.#tracker === undefined ? busy?.since : this.#tracker.get(key)?.lastSeen;
    const known = this.#tracker === undefined ? this.#isKnown(key) : this.#tracker.remove(key);
    if (known) {
      this.#forget(key);
      this.#o.emit("worker:gone", {
        identity: formatIdentity(id),
        silentFor: lastSeen === undefined ? 0 : this.#clock.now() - lastSeen,
      });
    }
    const lost = request ?? (this.#tracker === undefined ? busy?.request : undefined);
    if (lost !== undefined) {
      this.#queue.unshift(lost);
      this.#counters.redispatched++;
      this.#dispatch();
    }
  }

  /** A send to a client failed: the client is gone. */
  onClientSendFailure(): void {
    this.#counters.repliesDropped++;
  }

  /** Counts a malformed message (the shell catches the ProtocolError). */
  protocolError(): void {
    this.#counters.protocolErrors++;
  }

  /** Identities in the worker table (idle and busy). */
  workers(): string[] {
    const keys =
      this.#tracker === undefined
        ? [...this.#idle.keys(), ...this.#busy.keys()]
        : [...this.#tracker.keys()];
    return keys.map((k) => formatIdentity(identityFromKey(k)));
  }

  /** Counters. */
  stats(): LruQueueStats {
    const t = this.#tracker?.stats();
    return {
      workers: this.#tracker?.size ?? this.#idle.size + this.#busy.size,
      idleWorkers: this.#idle.size,
      queued: this.#queue.size,
      held: this.#queue.held,
      requestsForwarded: this.#counters.requestsForwarded,
      repliesForwarded: this.#counters.repliesForwarded,
      repliesDropped: this.#counters.repliesDropped,
      overflowDropped: this.#queue.dropped,
      redispatched: this.#counters.redispatched,
      workersPurged: this.#counters.workersPurged,
      workersRefused: t?.refused ?? this.#refused,
      heartbeatsSent: t?.heartbeatsSent ?? 0,
      protocolErrors: this.#counters.protocolErrors,
      latency: this.#latency.summary(),
    };
  }

  /** Drops waiting requests and releases a reader held by backpressure (call before closing the loops). */
  releaseWaiting(): void {
    this.#queue.clear();
  }

  /** Clears timers and tables; releases a waiting reader. */
  close(): void {
    this.#tracker?.close();
    this.#queue.clear();
    this.#idle.clear();
    this.#busy.clear();
  }

  /** Records a sign of life. @returns whether the worker was known, or `undefined` when it is refused. */
  #seen(key: string): boolean | undefined {
    if (this.#tracker === undefined) return this.#isKnown(key);
    const seen = this.#tracker.seen(key);
    return seen === "refused" ? undefined : seen === "alive";
  }

  #isKnown(key: string): boolean {
    return this.#busy.has(key) || this.#idle.has(key);
  }

  #ready(id: Frame, key: string, joined: boolean): void {
    if (joined && this.#tracker === undefined && !this.#makeRoom(id)) return;
    this.#idle.ready(id, key);
    this.#o.emit("worker:ready", { identity: formatIdentity(id), joined });
    this.#dispatch();
  }

  /** `none`: bounds the table by forgetting the longest-busy worker (it is most likely dead). */
  #makeRoom(id: Frame): boolean {
    if (this.#idle.size + this.#busy.size < this.#o.maxWorkers) return true;
    const oldest = this.#busy.keys().next();
    if (oldest.done) {
      this.#refused++;
      this.#o.logger?.warn("worker table full; worker refused", { worker: formatIdentity(id) });
      return false;
    }
    this.#busy.delete(oldest.value);
    this.#counters.workersPurged++;
    return true;
  }

  #dispatch(): void {
    while (this.#idle.size > 0 && this.#queue.size > 0) {
      const worker = this.#idle.next();
      if (worker === undefined) return;
      if (this.#tracker !== undefined && !this.#tracker.has(worker.key)) continue; // never send to an expired worker
      const request = this.#queue.shift();
      if (request === undefined) return;
      this.#busy.set(worker.key, { id: worker.id, request, since: this.#clock.now() });
      this.#tracker?.sent(worker.key);
      this.#counters.requestsForwarded++;
      this.#o.toWorker(worker.id, request);
    }
  }

  #forget(key: string): void {
    this.#idle.delete(key);
    this.#busy.delete(key);
    this.#counters.workersPurged++;
  }
}
