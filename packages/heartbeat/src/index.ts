/**
 * @zg/heartbeat: the Guide's heartbeat models and presence detection.
 *
 * @packageDocumentation
 */
export {
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_LIVENESS,
  MAX_HEARTBEAT_INTERVAL,
  MIN_HEARTBEAT_INTERVAL,
} from "./constants.js";
export { LinkHeartbeat, type LinkHeartbeatOptions } from "./link-heartbeat.js";
export {
  PresenceTracker,
  type PeerState,
  type PresenceEvents,
  type PresenceStats,
  type PresenceTrackerOptions,
} from "./presence-tracker.js";
