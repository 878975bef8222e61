/**
 * Majordomo defaults. Timing rows cite protocols.md "Timing constants at a
 * glance" (booksbyus/zguide `examples/C/mdbroker.c`, `mdwrkapi.c`, `mdcliapi.c`).
 */

/** Broker and worker heartbeat interval, ms: Guide `mdbroker` / `mdwrkapi` `HEARTBEAT_INTERVAL` 2500. */
export const DEFAULT_MDP_HEARTBEAT_INTERVAL = 2500;
/** Missed heartbeats before a peer is dead: Guide `mdbroker` / `mdwrkapi` `HEARTBEAT_LIVENESS` 3 (expiry 7500 ms). */
export const DEFAULT_MDP_HEARTBEAT_LIVENESS = 3;
/** Worker reconnect delay, ms: Guide `mdwrkapi` `reconnect` 2500 (no back-off in MDP). */
export const DEFAULT_MDP_RECONNECT_DELAY = 2500;
/** Client reply timeout per attempt, ms: Guide `mdcliapi` `timeout` 2500. */
export const DEFAULT_MDP_CLIENT_TIMEOUT = 2500;
/** Client attempts in total: Guide `mdcliapi` `retries` 3. */
export const DEFAULT_MDP_CLIENT_ATTEMPTS = 3;
/**
 * How long a request may wait in a service queue before the broker answers it
 * with a `"504"` error reply, ms. Not in the Guide (its brokers queue forever;
 * 7/MDP says "SHOULD expire … after a configurable time"): 3 × the `mdcliapi`
 * timeout, the longest a Guide client with 3 tries waits.
 */
export const DEFAULT_MDP_REQUEST_EXPIRY = 7500;
/**
 * How long a service with no workers and no queued requests is kept, ms. Not
 * in the Guide (it says a real broker should remove empty services "after a
 * timeout"); 60 s.
 */
export const DEFAULT_MDP_SERVICE_TTL = 60_000;
/** Requests queued per service before new ones are refused with `"503"`. Not in the Guide. */
export const DEFAULT_MDP_MAX_QUEUED = 10_000;
/** Services the broker tracks before requests for new ones are refused with `"503"`. Not in the Guide. */
export const DEFAULT_MDP_MAX_SERVICES = 10_000;
/** Times a request is re-queued after its worker dies (at-least-once); 0 = at-most-once. The Guide never re-queues. */
export const DEFAULT_MDP_REQUEUE_LIMIT = 1;
