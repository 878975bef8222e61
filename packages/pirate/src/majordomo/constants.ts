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
/**
 * Largest inbound frame the broker's ROUTER accepts, bytes (ZMQ_MAXMSGSIZE):
 * a peer that sends a larger one is disconnected by libzmq before the frame is
 * buffered. Not in the Guide (libzmq's default is no limit); 16 MiB.
 */
export const DEFAULT_MDP_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
/**
 * Requests one client may have queued per service before its new ones are
 * refused with `"503"`; with round-robin across clients this keeps one greedy
 * client from filling a service's queue. Not in the Guide; 1000.
 */
export const DEFAULT_MDP_MAX_QUEUED_PER_CLIENT = 1000;
/** Bytes of request bodies queued across services before new ones are refused with `"503"`. Not in the Guide; 256 MiB. */
export const DEFAULT_MDP_MAX_QUEUED_BYTES = 256 * 1024 * 1024;
/**
 * Services only clients asked for (no worker has registered them) the broker
 * holds requests for; beyond it requests for new names are refused with
 * `"503"`. Kept apart from `maxServices`, so they never lock out a worker's
 * service. Not in the Guide (its broker creates a service for any name); 1000.
 */
export const DEFAULT_MDP_MAX_PENDING_SERVICES = 1000;
/** Services listed in `stats().perService` (and so in per-service metric labels). Not in the Guide; 100. */
export const DEFAULT_MDP_MAX_SERVICE_STATS = 100;
/**
 * Longest a worker may hold a request before the client is answered `"504"`
 * and the worker is sent DISCONNECT, ms; 0 = no bound (the Guide's brokers
 * wait forever).
 */
export const DEFAULT_MDP_REQUEST_TIMEOUT = 0;
/**
 * Messages held for one peer whose pipe is momentarily full (EAGAIN) and
 * retried, before new ones to it are dropped (with a warn line). Not in the
 * Guide (its broker blocks on a full pipe); 100 000 (memory is bounded by
 * `DEFAULT_MDP_BACKLOG_BYTES` over all peers).
 */
export const DEFAULT_MDP_PEER_BACKLOG = 100_000;
/** Bytes held across peers' outgoing buffers before new messages are dropped. Not in the Guide; 64 MiB. */
export const DEFAULT_MDP_BACKLOG_BYTES = 64 * 1024 * 1024;
/** Bound of the ROUTER's send queue in the socket loop, messages. Not in the Guide; 100 000. */
export const DEFAULT_MDP_SEND_QUEUE_LIMIT = 100_000;
