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
export {
  HeartbeatDealer,
  type HeartbeatDealerEvents,
  type HeartbeatDealerOptions,
  type HeartbeatDealerStats,
} from "./heartbeat-dealer.js";
export {
  HeartbeatMonitor,
  type HeartbeatMonitorEvents,
  type HeartbeatMonitorOptions,
  type HeartbeatMonitorStats,
  type PublisherState,
} from "./heartbeat-monitor.js";
export {
  HeartbeatPublisher,
  type HeartbeatPublisherOptions,
  type HeartbeatPublisherStats,
} from "./heartbeat-publisher.js";
export {
  HeartbeatRouter,
  type HeartbeatRouterEvents,
  type HeartbeatRouterOptions,
  type HeartbeatRouterStats,
} from "./heartbeat-router.js";
export { HeartbeatSender, type HeartbeatSenderOptions } from "./heartbeat-sender.js";
export { LinkHeartbeat, type LinkHeartbeatOptions } from "./link-heartbeat.js";
export {
  PresenceTracker,
  type PeerState,
  type PresenceEvents,
  type PresenceStats,
  type PresenceTrackerOptions,
} from "./presence-tracker.js";
export {
  decodeHeartbeat,
  encodeHeartbeat,
  HEARTBEAT_HEADER,
  HeartbeatCommand,
  isHeartbeatHeader,
  type DecodedHeartbeat,
  type HeartbeatCommandName,
  type HeartbeatFrame,
} from "./protocol/wire.js";
export {
  MAX_TRANSPORT_HEARTBEAT_TTL,
  TransportMonitor,
  transportHeartbeatOptions,
  type TransportHeartbeatOptions,
  type TransportHeartbeatSocketOptions,
  type TransportMonitorEvents,
  type TransportMonitorStats,
} from "./transport-heartbeat.js";
