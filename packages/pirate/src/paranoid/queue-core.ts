import {
  formatIdentity,
  identityFromKey,
  identityKey,
  LatencyWindow,
  ProtocolError,
  splitEnvelope,
  systemClock,
  wrapEnvelope,
  type Clock,
  type Frame,
  type Logger,
  type Message,
} from "@zg/core";
import { PresenceTracker } from "@zg/heartbeat";
import type { BrokerStats } from "../common/broker-types.js";
import { RequestQueue, type OverflowPolicy } from "../common/request-queue.js";
import { WorkerList } from "../common/worker-list.js";
import { decodePppWorkerMessage, encodePppHeartbeat } from "./protocol.js";

/** Stats of a Paranoid Pirate queue. */
export interface PirateQueueStats extends BrokerStats {
  /** Worker messages refused because the table was full. */
  workersRefused: number;
}

/** Events of a Paranoid Pirate queue. */
export interface PirateQueueEvents {
  /** A worker became ready: `joined` is true for a worker the queue did not know. */
  "worker:ready": { identity: string; joined: boolean };
  /** A worker was silent for interval × liveness and was purged. */
  "worker:expired": { identity: string; silentFor: number };
  /** A send to a worker was unroutable: it was purged at once (`silentFor`: ms since it was last heard). */
  "worker:gone": { identity: string; silentFor: number };
  /** A request was dropped by the overflow policy. */
  "request:dropped": { reason: "overflow" };
  /** A malformed message was counted and dropped. */
  "protocol:invalid": { socket: "frontend" | "backend"; reason: string };
}

/** Options of {@link PirateQueueCore} (internal). */
export interface PirateQueueCoreOptions {
  heartbeatInterval: number;
  heartbeatLiveness: number;
  granularity: number;
  maxWorkers: number;
  maxQueued?: number;
  overflow?: OverflowPolicy;
  /** Queues a message on the backend ROUTER (`[worker][…]`). */
  toWorker: (message: Message) => void;
  /** Queues a message on the frontend ROUTER (`[client][""][…]`); false when refused. */
  toClient: (message: Message) => boolean;
  emit: <K extends keyof PirateQueueEvents>(type: K, event: PirateQueueEvents[K]) => void;
  clock?: Clock;
  logger?: Logger;
}

/**
 * The 6/PPP queue as a state machine without sockets (internal): the worker
 * table (liveness from `@zg/heartbeat` PresenceTracker), LRU idle list,
 * busy set and bounded request queue. The socket shell ({@link PirateQueue})
 * feeds it messages and executes its sends; tests drive it with a ManualClock.
 */
export class PirateQueueCore {
  readonly #o: PirateQueueCoreOptions;
  readonly #clock: Clock;
  readonly #tracker: PresenceTracker<string>;
  readonly #queue: RequestQueue<Frame[]>;
  readonly #idle = new WorkerList();
  readonly #busy = new Map<string, number>();
  readonly #latency = new LatencyWindow();
  readonly #counters = {
    requestsForwarded: 0,
    repliesForwarded: 0,
    repliesDropped: 0,
    redispatched: 0,
    workersPurged: 0,
    protocolErrors: 0,
  };

  constructor(options: PirateQueueCoreOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#queue = new RequestQueue({
      ...(options.maxQueued === undefined ? {} : { limit: options.maxQueued }),
      ...(options.overflow === undefined ? {} : { policy: options.overflow }),
    });
    this.#tracker = new PresenceTracker<string>({
      interval: options.heartbeatInterval,
      liveness: options.heartbeatLiveness,
      granularity: options.granularity,
      maxPeers: options.maxWorkers,
      rememberExpired: 0,
      clock: this.#clock,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      sendHeartbeat: (key) => options.toWorker([identityFromKey(key), ...encodePppHeartbeat()]),
    });
    this.#tracker.on("peer:expired", ({ key, silentFor }) => {
      this.#forget(key);
      options.emit("worker:expired", { identity: formatIdentity(identityFromKey(key)), silentFor });
    });
  }

  /** A client message `[C…][""][body…]`. Returns a promise while the reader must wait (backpressure). @throws ProtocolError */
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

  /** A worker message `[W][…]`. @throws ProtocolError */
  onWorker(message: Message): void {
    const id = message[0];
    if (id === undefined) throw new ProtocolError("empty message");
    const decoded = decodePppWorkerMessage(message.slice(1));
    const key = identityKey(id);
    const seen = this.#tracker.seen(key);
    if (seen === "refused") return;
    const known = seen === "alive";
    switch (decoded.type) {
      case "ready":
        // READY from a worker we think busy: it restarted; its request is lost (the client retries).
        this.#busy.delete(key);
        this.#ready(id, key, !known);
        return;
      case "heartbeat":
        // From a busy worker it only proves liveness; from an unknown one (queue restarted) it means ready.
        if (!known) this.#ready(id, key, true);
        return;
      case "reply": {
        const since = this.#busy.get(key);
        if (since !== undefined) this.#latency.record(this.#clock.now() - since);
        this.#busy.delete(key);
        if (this.#o.toClient(wrapEnvelope(decoded.envelope, decoded.body)))
          this.#counters.repliesForwarded++;
        this.#ready(id, key, !known);
        return;
      }
    }
  }

  /** A backend send failed (unroutable, slow or refused): purge the worker, re-queue a request it never got. */
  onWorkerSendFailure(message: Message): void {
    const id = message[0];
    if (id === undefined) return;
    const key = identityKey(id);
    const lastSeen = this.#tracker.get(key)?.lastSeen;
    if (lastSeen !== undefined && this.#tracker.remove(key)) {
      this.#forget(key);
      this.#o.emit("worker:gone", {
        identity: formatIdentity(id),
        silentFor: this.#clock.now() - lastSeen,
      });
    }
    if (message.length > 2) {
      this.#queue.unshift(message.slice(1));
      this.#counters.redispatched++;
      this.#dispatch();
    }
  }

  /** A frontend send failed: the client is gone. */
  onClientSendFailure(): void {
    this.#counters.repliesDropped++;
  }

  /** Counts a malformed message (the shell catches the ProtocolError). */
  protocolError(): void {
    this.#counters.protocolErrors++;
  }

  /** Identities in the worker table. */
  workers(): string[] {
    return [...this.#tracker.keys()].map((k) => formatIdentity(identityFromKey(k)));
  }

  /** Counters. */
  stats(): PirateQueueStats {
    const t = this.#tracker.stats();
    return {
      workers: this.#tracker.size,
      idleWorkers: this.#idle.size,
      queued: this.#queue.size,
      requestsForwarded: this.#counters.requestsForwarded,
      repliesForwarded: this.#counters.repliesForwarded,
      repliesDropped: this.#counters.repliesDropped,
      overflowDropped: this.#queue.dropped,
      redispatched: this.#counters.redispatched,
      workersPurged: this.#counters.workersPurged,
      workersRefused: t.refused,
      heartbeatsSent: t.heartbeatsSent,
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
    this.#tracker.close();
    this.#queue.clear();
    this.#idle.clear();
    this.#busy.clear();
  }

  #ready(id: Frame, key: string, joined: boolean): void {
    this.#idle.ready(id, key);
    this.#o.emit("worker:ready", { identity: formatIdentity(id), joined });
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#idle.size > 0 && this.#queue.size > 0) {
      const worker = this.#idle.next();
      if (worker === undefined) return;
      if (!this.#tracker.has(worker.key)) continue; // never send to an expired worker
      const request = this.#queue.shift();
      if (request === undefined) return;
      this.#busy.set(worker.key, this.#clock.now());
      this.#tracker.sent(worker.key);
      this.#counters.requestsForwarded++;
      this.#o.toWorker([worker.id, ...request]);
    }
  }

  #forget(key: string): void {
    this.#idle.delete(key);
    this.#busy.delete(key);
    this.#counters.workersPurged++;
  }
}
