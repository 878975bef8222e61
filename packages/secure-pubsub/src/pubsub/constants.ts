/**
 * Default refresh interval, 1000 ms: a logged-in client sends a PING when it
 * has sent nothing for this long (Guide ch. 4 `HEARTBEAT_INTERVAL`).
 */
export const DEFAULT_REFRESH_INTERVAL = 1000;

/**
 * Default liveness, 3 intervals: the broker flushes a client silent for
 * interval × liveness from both tables (Guide ch. 4 `HEARTBEAT_LIVENESS`).
 */
export const DEFAULT_REFRESH_LIVENESS = 3;

/** Default time a login challenge stays valid, 5000 ms (project choice: one round trip plus slack on a loaded host). */
export const DEFAULT_LOGIN_TIMEOUT = 5000;

/** Default limit of logged-in clients per broker, 10 000 (429 beyond it). */
export const DEFAULT_MAX_CLIENTS = 10_000;

/** Default limit of outstanding login challenges, 10 000 (429 beyond it). */
export const DEFAULT_MAX_PENDING_LOGINS = 10_000;

/** Default limit of subscriptions per client, 1000 (429 beyond it). */
export const DEFAULT_MAX_SUBSCRIPTIONS = 1000;

/** Default time a client request waits for its status, 5000 ms (project choice). */
export const DEFAULT_REQUEST_TIMEOUT = 5000;
