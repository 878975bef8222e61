/**
 * Federation defaults (Guide ch. 3, "Worked Example: Inter-Broker Routing",
 * booksbyus/zguide `examples/C/peering1.c`–`peering3.c`).
 */

/** How often a broker announces its state to each peer, ms: Guide `peering1` sends its state once a second. */
export const DEFAULT_MDP_FEDERATION_STATE_INTERVAL = 1000;
/**
 * Missed announcements before a peer is lost, so a peer is lost after
 * `stateInterval × peerLiveness` ms of silence (3 s). Not in the Guide (its
 * peers never die); 3, the Guide's liveness for heartbeats (`ppqueue`, `mdbroker`).
 */
export const DEFAULT_MDP_FEDERATION_PEER_LIVENESS = 3;
/**
 * Longest a peer may hold a forwarded request before it fails over (re-queued
 * here, or `"502"`) and the peer gets no overflow for as long, ms. Not in the
 * Guide; 10 000, above the peer's own `requestExpiry` (7 500) so a peer that
 * is merely full answers `"504"` first.
 */
export const DEFAULT_MDP_FEDERATION_FORWARD_TIMEOUT = 10_000;
/**
 * Broker-to-broker links a request may cross. The Guide's `peering3` forwards
 * once (a request from the cloud only goes to local workers); 2 lets an edge
 * broker reach workers behind a core broker's peer in a router tree.
 */
export const DEFAULT_MDP_FEDERATION_MAX_HOPS = 2;
