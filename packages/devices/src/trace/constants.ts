/**
 * Capture records a {@link TraceProxy} sink buffers before it drops new ones
 * (counted), 10 000: the same bound as `@zg/core`'s
 * `DEFAULT_SEND_QUEUE_LIMIT`. Forwarding never waits for a sink.
 */
export const DEFAULT_CAPTURE_BUFFER = 10_000;

/**
 * Most frontend peers a ROUTER-mode {@link TraceProxy} keeps a backend DEALER
 * for, 10 000 (project bound; messages from further peers are dropped and counted).
 */
export const DEFAULT_TRACE_MAX_PEERS = 10_000;

/**
 * A ROUTER-mode peer silent this long has its backend DEALER closed, 600 000 ms
 * (10 min; project choice: well above the Guide's heartbeat intervals, so a
 * live MDP/PPP peer is never cut). 0 keeps every peer until close.
 */
export const DEFAULT_TRACE_PEER_IDLE = 600_000;

/** Bytes of a frame shown in the readable dump before it is cut (the JSONL capture has all), 64. */
export const DEFAULT_DUMP_FRAME_BYTES = 64;
