/**
 * Defaults of `@zg/harmony`. The reliable pipeline is project-defined (the
 * Guide author's notes, "Reliable Pipeline (Harmony Pattern)", give no
 * numbers); each value names what it derives from.
 *
 * @packageDocumentation
 */

/**
 * Heartbeat interval of every Harmony link (worker ↔ client, client ↔
 * collector), ms. Paranoid Pirate's `HEARTBEAT_INTERVAL` (`ppqueue`, `ppworker`).
 */
export const DEFAULT_PIPELINE_HEARTBEAT_INTERVAL = 1000;

/**
 * Missed heartbeats before a worker (at its client) or the collector (at a
 * client) is declared dead. Paranoid Pirate's `HEARTBEAT_LIVENESS` (`ppqueue`).
 */
export const DEFAULT_PIPELINE_LIVENESS = 3;

/**
 * Credit a worker grants each client, in bytes of task frames (payload +
 * {@link TASK_OVERHEAD}). Project value: 64 KiB, one `FRAGMENT_SIZE` of the
 * notes' credit-flow example; ≈ 680 tasks of 64 B at risk in one dead worker.
 */
export const DEFAULT_WORKER_CREDIT = 65_536;

/** Bytes each task counts against a worker's credit on top of its payload (its routing and numbering frames). */
export const TASK_OVERHEAD = 32;

/**
 * How long a batch may run before `batch.done` rejects with `ZG_TIMEOUT`, ms.
 * Project value.
 */
export const DEFAULT_BATCH_TIMEOUT = 60_000;

/**
 * A client resends from its last response when a batch made no progress (no
 * new result, no MISSING, no DONE) for this long, ms. Project value: 2 ×
 * Lazy Pirate's `REQUEST_TIMEOUT` (`lpclient`, 2500 ms).
 */
export const DEFAULT_RESEND_TIMEOUT = 5000;

/**
 * After END, the collector asks for missing numbers once no new result came
 * for this long, ms (and again every such period). Project value: one
 * heartbeat interval.
 */
export const DEFAULT_MISSING_AFTER = 1000;

/** Most tasks in one batch (task numbers are 32-bit; the collector keeps one bit per task). */
export const DEFAULT_MAX_BATCH_SIZE = 1_000_000;

/** Most unconfirmed batches one client keeps at once (a further `submit` rejects with `ZG_OVERFLOW`). */
export const DEFAULT_MAX_BATCHES = 64;

/** Most clients a collector serves at once (a START from a further client is refused and counted). */
export const DEFAULT_MAX_CLIENTS = 1024;

/**
 * A collector frees the batches of a client silent for this long, ms (a
 * client killed mid-batch). Project value: 10 × the heartbeat interval.
 */
export const DEFAULT_BATCH_TTL = 10_000;

/** Largest message a Harmony socket accepts, bytes (libzmq `ZMQ_MAXMSGSIZE`; larger ones drop the connection). */
export const DEFAULT_PIPELINE_MAX_MESSAGE_SIZE = 16_777_216;
