import type { OptionSpecs } from "@zg/app-kit";
import {
  DEFAULT_LOG_FILE_BYTES,
  DEFAULT_LOG_MAX_FILES,
  DEFAULT_LOG_ROTATE_INTERVAL,
} from "@zg/devices";

/** Default broker endpoint (project-chosen; the Guide names none). */
export const DEFAULT_LOG_ENDPOINT = "tcp://127.0.0.1:5570";

/** The options of `zg-log-broker`. */
export const options = {
  dir: {
    type: "path",
    default: "./zg-logs",
    description: "directory of the log files (created if missing)",
  },
  endpoint: {
    type: "endpoints",
    default: [DEFAULT_LOG_ENDPOINT],
    description: "endpoints to bind; publishers (--log-broker) and zg-log tail connect here",
  },
  publish: {
    type: "endpoints",
    description:
      "also bind a PUB here: every record on topic ZGLOG01/<D|I|W|E>/<app>/ for plain SUB sockets",
  },
  maxFileBytes: {
    type: "integer",
    default: DEFAULT_LOG_FILE_BYTES,
    min: 1024,
    description: "rotate the current file at this size (bytes)",
  },
  rotateInterval: {
    type: "duration",
    default: DEFAULT_LOG_ROTATE_INTERVAL,
    min: 10,
    description: "rotate the current file at this age",
  },
  maxFiles: {
    type: "integer",
    default: DEFAULT_LOG_MAX_FILES,
    min: 1,
    description: "files kept (older ones are deleted)",
  },
} as const satisfies OptionSpecs;
