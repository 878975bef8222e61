import type { LatencySummary } from "@zg/core";

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
  /** Requests sent to a worker (re-sends after a failed send included). */
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
