/**
 * The heartbeat timing constants live in `@zg/core` (the one place that
 * validates intervals and liveness); re-exported here unchanged.
 */
export {
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_LIVENESS,
  MAX_HEARTBEAT_INTERVAL,
  MIN_HEARTBEAT_INTERVAL,
} from "@zg/core";

/**
 * The `silentAfter` the components use: 1.5 intervals, so a heartbeat that
 * is merely late is not reported, one really missing is (capped at liveness).
 *
 * @internal
 */
export function missedHeartbeat(liveness: number): number {
  return Math.min(1.5, liveness);
}
