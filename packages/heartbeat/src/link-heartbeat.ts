/**
 * `LinkHeartbeat` lives in `@zg/core` (so that core's `ReconnectingLink` can
 * use it); it is re-exported here unchanged.
 */
export { LinkHeartbeat, type LinkHeartbeatOptions } from "@zg/core";
