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

/**
 * Counters every part-1 broker reports from `stats()` (the apps display
 * them). Shared type (src/common, owned by part 1 of @zg/pirate).
 */
export interface BrokerStats {
  /** Workers the broker currently knows (idle + busy). */
  workers: number;
  /** Workers idle and ready for a request. */
  idleWorkers: number;
  /** Requests waiting for a worker. */
  queued: number;
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
