import type { OptionSpecs } from "@zg/app-kit";
import { DEFAULT_SERVER_TIMEOUT } from "@zg/zns";

/** Default UDP port of ZNS discovery beacons (as `zg-zns-server --beacon-port`). */
export const DEFAULT_ZNS_BEACON_PORT = 5671;

/** The options of `zg-zns-agent`. */
export const options = {
  servers: {
    type: "endpoints",
    description:
      "feed endpoints of the central zg-zns-server(s); none: --discover, else local file and cache only",
  },
  runtimeDir: {
    type: "path",
    description:
      "directory of the ipc socket and the table cache (default: $ZNS_RUNTIME_DIR, $XDG_RUNTIME_DIR/zns or <tmp>/zns-<user>)",
  },
  localFile: {
    type: "path",
    description: "a local names file (ZPL) whose names win over the central server's",
  },
  env: {
    type: "string",
    description: "environment of lookups that name none (default: the names file's default-env)",
  },
  serverTimeout: {
    type: "duration",
    default: DEFAULT_SERVER_TIMEOUT,
    min: 10,
    description: "ms of central-server silence after which answers carry stale: true",
  },
  discover: {
    type: "boolean",
    default: false,
    description: "with no --servers: find the central server by its UDP beacons",
  },
  beaconPort: {
    type: "integer",
    default: DEFAULT_ZNS_BEACON_PORT,
    min: 1,
    description: "UDP port of the discovery beacons",
  },
} as const satisfies OptionSpecs;
