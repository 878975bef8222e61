/**
 * Default heartbeat interval, 1000 ms: Guide ch. 4 Paranoid Pirate
 * (`ppqueue`/`ppworker` `HEARTBEAT_INTERVAL`).
 */
export const DEFAULT_HEARTBEAT_INTERVAL = 1000;

/**
 * Default liveness, 3 missed intervals: Guide ch. 4 (`HEARTBEAT_LIVENESS`;
 * "3–5 is reasonable").
 */
export const DEFAULT_HEARTBEAT_LIVENESS = 3;

/** Smallest interval a peer may announce, 10 ms (the Guide's range is 10 ms to 30 s). */
export const MIN_HEARTBEAT_INTERVAL = 10;

/** Largest interval a peer may announce, 1 hour; larger announcements are clamped. */
export const MAX_HEARTBEAT_INTERVAL = 3_600_000;
