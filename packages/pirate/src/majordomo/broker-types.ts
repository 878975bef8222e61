import type { MdpVersion } from "./protocol.js";

/** Per-service figures of {@link MajordomoBrokerStats}. Latencies in ms. */
export interface MajordomoServiceStats {
  /** Requests waiting for a worker. */
  queued: number;
  /** Registered live workers (idle + busy). */
  workers: number;
  /** Workers waiting for a request. */
  idleWorkers: number;
  /** Replies delivered to clients. */
  served: number;
  /** Requests answered `"504"` after waiting longer than `requestExpiry`. */
  expired: number;
  /** Requests answered `"504"` because their worker did not reply within `requestTimeout`. */
  timedOut: number;
  /** Requests re-queued after their worker died. */
  requeued: number;
  /** Requests refused with `"503"` because a queue was full. */
  refused: number;
  /** Request → reply latency (broker receipt to reply forwarded), median of the last 1024. */
  p50: number;
  /** Same, 99th percentile. */
  p99: number;
}

/** Counters of a Majordomo broker. */
export interface MajordomoBrokerStats {
  /** Live workers across services. */
  workers: number;
  /** Known services: those a worker registered plus those only clients asked for. */
  services: number;
  /** Services only clients asked for (no worker yet), bounded by `maxPendingServices`. */
  pendingServices: number;
  /** Requests waiting across services. */
  queued: number;
  /** Bytes of the request bodies waiting across services (bounded by `maxQueuedBytes`). */
  queuedBytes: number;
  /** Client requests accepted (MMI included). */
  requests: number;
  /** Replies forwarded to clients (FINAL; MMI included). */
  replies: number;
  /** PARTIAL replies forwarded (18/MDP). */
  partials: number;
  /** Requests expired (`"504"`). */
  expired: number;
  /** Requests whose worker did not reply within `requestTimeout` (`"504"`; the worker is disconnected). */
  timedOut: number;
  /** Requests re-queued after a worker died. */
  requeued: number;
  /** Requests whose worker died and that were answered `"502"` instead of re-queued. */
  lost: number;
  /** Requests refused (`"503"`: a queue, the byte bound or the service table full; or shutting down). */
  refused: number;
  /** MMI requests answered. */
  mmi: number;
  /** Invalid messages (bad input) counted and dropped; each is also a `protocol:invalid` event. */
  protocolErrors: number;
  /** DISCONNECTs sent for valid but unexpected commands. */
  disconnects: number;
  /** Workers expired by heartbeat silence. */
  workersExpired: number;
  /** HEARTBEATs sent to idle workers. */
  heartbeatsSent: number;
  /** Sends that failed because the peer was gone. */
  sendFailures: number;
  /** Messages to a peer whose pipe was full, held in its outgoing buffer and sent later. */
  deferred: number;
  /** Messages dropped because a peer's outgoing buffer (or the broker's) was full (logged at warn). */
  dropped: number;
  /** Services left out of `perService` (beyond `maxServiceStats`). */
  servicesOmitted: number;
  /**
   * Per service: at most `maxServiceStats` entries, services with workers
   * first (by name), then the others by most queued.
   */
  perService: Record<string, MajordomoServiceStats>;
}

/** Events of a Majordomo broker (see docs/events.md for the vocabulary). */
export interface MajordomoBrokerEvents {
  "worker:ready": { identity: string; service: string; version: MdpVersion };
  "worker:removed": {
    identity: string;
    service: string;
    reason: "expired" | "disconnected" | "unreachable" | "violation" | "timeout";
  };
  "request:expired": { service: string; waited: number };
  /** A worker did not reply within `requestTimeout`: the client got `"504"`, the worker DISCONNECT. */
  "request:timeout": { service: string; identity: string; waited: number };
  "request:requeued": { service: string; attempts: number };
  "request:lost": { service: string; attempts: number };
  "request:refused": {
    service: string;
    reason:
      "queue-full" | "client-queue-full" | "bytes-full" | "too-many-services" | "shutting-down";
  };
  "service:removed": { service: string };
  /** A valid but unexpected command was answered with DISCONNECT. */
  "protocol:disconnect": { identity: string; reason: string };
  /** An invalid message was dropped. */
  "protocol:invalid": { identity: string; reason: string };
  /** Federation: a peer broker's state flow arrived for the first time. */
  "peer:joined": { peer: string; epoch: string };
  /**
   * Federation: a peer broker went silent (`silent`), restarted (`restarted`:
   * a new epoch) or was unreachable; its `failed` forwarded requests were
   * re-queued or answered `"502"`.
   */
  "peer:lost": { peer: string; reason: "silent" | "restarted" | "unreachable"; failed: number };
  /** Federation: a lost peer broker's state flow arrived again. */
  "peer:returned": { peer: string; epoch: string };
}
