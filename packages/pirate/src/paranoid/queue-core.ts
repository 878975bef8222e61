import { ProtocolError, wrapEnvelope, type Clock, type Logger, type Message } from "@zg/core";
import type { OverflowPolicy } from "../common/request-queue.js";
import { LruQueueCore, type LruQueueEvents, type LruQueueStats } from "../lb/lru-queue-core.js";
import { decodePppWorkerMessage, encodePppHeartbeat } from "./protocol.js";

/** Stats of a Paranoid Pirate queue. */
export type PirateQueueStats = LruQueueStats;

/** Events of a Paranoid Pirate queue. */
export interface PirateQueueEvents extends LruQueueEvents {
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
 * The 6/PPP queue without sockets (internal): the 6/PPP codec in front of
 * the shared {@link LruQueueCore} with `presence` liveness (a
 * `PresenceTracker` from `@zg/heartbeat`). The socket shell
 * ({@link PirateQueue}) feeds it messages and executes its sends; tests
 * drive it with a ManualClock.
 *
 * @internal
 */
export class PirateQueueCore {
  readonly #lru: LruQueueCore;

  constructor(options: PirateQueueCoreOptions) {
    this.#lru = new LruQueueCore({
      liveness: {
        kind: "presence",
        interval: options.heartbeatInterval,
        liveness: options.heartbeatLiveness,
        granularity: options.granularity,
        heartbeat: (id) => options.toWorker([id, ...encodePppHeartbeat()]),
      },
      maxWorkers: options.maxWorkers,
      maxQueued: options.maxQueued,
      overflow: options.overflow,
      // 6/PPP: [W][C][""][body] to the worker, [C][""][body] back to the client.
      toWorker: (id, request) => options.toWorker([id, ...request]),
      toClient: options.toClient,
      emit: (type, event) => options.emit(type, event as never),
      clock: options.clock,
      logger: options.logger,
    });
  }

  /** A client message `[C…][""][body…]`. Returns a promise while the reader must wait (backpressure). @throws ProtocolError */
  onClient(message: Message): void | Promise<void> {
    return this.#lru.onClient(message);
  }

  /** A worker message `[W][…]`. @throws ProtocolError */
  onWorker(message: Message): void {
    const id = message[0];
    if (id === undefined) throw new ProtocolError("empty message");
    const decoded = decodePppWorkerMessage(message.slice(1));
    switch (decoded.type) {
      case "ready":
        this.#lru.onWorkerReady(id);
        return;
      case "heartbeat":
        this.#lru.onWorkerHeartbeat(id);
        return;
      case "reply":
        this.#lru.onWorkerReply(id, wrapEnvelope(decoded.envelope, decoded.body));
        return;
    }
  }

  /** A backend send `[W][…]` failed (unroutable, slow or refused): purge the worker, re-queue a request it never got. */
  onWorkerSendFailure(message: Message): void {
    const id = message[0];
    if (id === undefined) return;
    this.#lru.onWorkerSendFailure(id, message.length > 2 ? message.slice(1) : undefined);
  }

  /** A frontend send failed: the client is gone. */
  onClientSendFailure(): void {
    this.#lru.onClientSendFailure();
  }

  /** Counts a malformed message (the shell catches the ProtocolError). */
  protocolError(): void {
    this.#lru.protocolError();
  }

  /** Identities in the worker table. */
  workers(): string[] {
    return this.#lru.workers();
  }

  /** Counters. */
  stats(): PirateQueueStats {
    return this.#lru.stats();
  }

  /** Drops waiting requests and releases a reader held by backpressure (call before closing the loops). */
  releaseWaiting(): void {
    this.#lru.releaseWaiting();
  }

  /** Clears timers and tables; releases a waiting reader. */
  close(): void {
    this.#lru.close();
  }
}
