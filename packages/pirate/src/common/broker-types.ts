import type { Clock, ComponentOptions, LatencySummary } from "@zg/core";
import type { OverflowPolicy } from "./request-queue.js";

/** Default bind endpoint when none is given: loopback, ephemeral port (read the real one from `start()`). */
export const DEFAULT_BIND_ENDPOINT = "tcp://127.0.0.1:*";

/** What a broker's `start()` resolves with: the endpoints actually bound. */
export interface BrokerEndpoints {
  /** Frontend (client-facing) endpoints, resolved (`tcp://127.0.0.1:40123`). */
  frontend: string[];
  /** Backend (worker-facing) endpoints, resolved. */
  backend: string[];
}

/** Counters the load-balancing, Simple Pirate and Paranoid Pirate brokers report from `stats()` (the apps display them). */
export interface BrokerStats {
  /** Workers the broker currently knows (idle + busy). */
  workers: number;
  /** Workers idle and ready for a request. */
  idleWorkers: number;
  /** Requests waiting for a worker (never more than `maxQueued`). */
  queued: number;
  /** Requests read while the queue was full and held until a slot frees (backpressure: 0 or 1). */
  held: number;
  /**
   * Hand-offs of a request to a worker (a counter: it never goes down). A
   * hand-off whose send failed is counted here and in {@link redispatched},
   * and again when the next worker takes it: requests that reached a worker
   * = `requestsForwarded − redispatched`.
   */
  requestsForwarded: number;
  /** Replies sent back to a client. */
  repliesForwarded: number;
  /** Replies whose client had gone (unroutable), dropped. */
  repliesDropped: number;
  /** Requests dropped by the overflow policy. */
  overflowDropped: number;
  /** Requests put back in the queue because their worker vanished before taking them. */
  redispatched: number;
  /** Workers removed after silence (expired) or because they vanished. */
  workersPurged: number;
  /** Heartbeats sent to workers (0 for brokers without heartbeats). */
  heartbeatsSent: number;
  /** Malformed or unexpected messages counted and dropped. */
  protocolErrors: number;
  /** Worker round-trip latency (request forwarded → reply received), ms. */
  latency: LatencySummary;
}

/** Options every LRU broker (load-balancing, Simple Pirate, Paranoid Pirate) accepts. */
export interface LruBrokerOptions extends ComponentOptions {
  /** Client-facing ROUTER endpoints to bind. @defaultValue "tcp://127.0.0.1:*" */
  frontend?: string | readonly string[];
  /** Worker-facing ROUTER endpoints to bind. @defaultValue "tcp://127.0.0.1:*" */
  backend?: string | readonly string[];
  /** Most requests waiting for a free worker (`stats().queued` never exceeds it). @defaultValue 1000 (`DEFAULT_MAX_QUEUED`) */
  maxQueued?: number;
  /** What happens when `maxQueued` is reached. @defaultValue "backpressure" (the Guide's behaviour) */
  overflow?: OverflowPolicy;
  /**
   * Most workers tracked at once. Without heartbeats the longest-busy worker
   * is forgotten to make room; with them, a new worker beyond it is refused.
   * @defaultValue 10 000 (`DEFAULT_MAX_WORKERS`)
   */
  maxWorkers?: number;
  /** Socket linger in ms (-1 = forever). @defaultValue `DEFAULT_LINGER` (0) from `@zg/core` */
  linger?: number;
  /**
   * Largest inbound frame on both ROUTERs, bytes (ZMQ_MAXMSGSIZE; 0 = no
   * limit): a client or worker sending a larger one is disconnected by libzmq
   * before the frame is buffered, and it never reaches a worker.
   * @defaultValue 16 MiB (`DEFAULT_MDP_MAX_MESSAGE_SIZE`, the default of every broker and server)
   */
  maxMessageSize?: number;
  /** Time source of liveness and latency figures. @defaultValue systemClock */
  clock?: Clock;
}
