import type { OptionSpecs } from "@zg/app-kit";
import { DEFAULT_BEACON_INTERVAL, DEFAULT_WATCH_INTERVAL } from "@zg/zns";

/** Default feed endpoint of `zg-zns-server` (project-chosen; the Guide names none). */
export const DEFAULT_ZNS_FEED_ENDPOINT = "tcp://127.0.0.1:5671";
/** Default UDP port of ZNS discovery beacons (project-chosen, next to ZRE's 5670). */
export const DEFAULT_ZNS_BEACON_PORT = 5671;

/** The options of `zg-zns-server`. */
export const options = {
  names: {
    type: "path",
    description:
      "the names file (ZPL): names, connect/bind endpoints, environments, per-host overrides",
  },
  endpoint: {
    type: "endpoints",
    default: [DEFAULT_ZNS_FEED_ENDPOINT],
    description: "endpoint of the names feed that agents connect to (one)",
  },
  watchInterval: {
    type: "duration",
    default: DEFAULT_WATCH_INTERVAL,
    min: 10,
    description: "ms between checks of the names file for changes",
  },
  announce: {
    type: "boolean",
    default: false,
    description:
      "announce the feed by UDP broadcast (ZRE beacons), so agents without --servers find it",
  },
  beaconPort: {
    type: "integer",
    default: DEFAULT_ZNS_BEACON_PORT,
    min: 1,
    description: "UDP port of the discovery beacons",
  },
  beaconInterval: {
    type: "duration",
    default: DEFAULT_BEACON_INTERVAL,
    min: 10,
    description: "ms between discovery beacons",
  },
} as const satisfies OptionSpecs;
