import type { OptionSpecs } from "@zg/app-kit";
import { DEFAULT_MDP_CLIENT_TIMEOUT } from "@zg/pirate";
import {
  DEFAULT_TCP_BRIDGE_IDLE_TIMEOUT,
  DEFAULT_TCP_BRIDGE_MAX_CONNECTIONS,
  DEFAULT_TCP_BRIDGE_MAX_LINE_LENGTH,
  DEFAULT_TCP_BRIDGE_MAX_PIPELINED,
} from "./tcp-bridge.js";

/** Default TCP address of `zg-tcp-bridge` (project-chosen; the Guide names none). */
export const DEFAULT_TCP_BRIDGE_LISTEN = "127.0.0.1:5591";

/** The options of `zg-tcp-bridge`. */
export const options = {
  listen: {
    type: "address",
    default: DEFAULT_TCP_BRIDGE_LISTEN,
    description: "host:port the TCP clients connect to (port 0 = any free port)",
  },
  broker: {
    type: "string",
    default: "tcp://127.0.0.1:5555",
    description: "the Majordomo broker's endpoint",
  },
  service: {
    type: "string",
    description: "send every line to this service; when unset a line is '<service> <payload>'",
  },
  maxConnections: {
    type: "integer",
    default: DEFAULT_TCP_BRIDGE_MAX_CONNECTIONS,
    min: 1,
    description: "open TCP connections before new ones get 'ERR busy' and are closed",
  },
  maxLineLength: {
    type: "integer",
    default: DEFAULT_TCP_BRIDGE_MAX_LINE_LENGTH,
    min: 1,
    description: "longest request line in bytes; a longer one closes that connection",
  },
  idleTimeout: {
    type: "duration",
    default: DEFAULT_TCP_BRIDGE_IDLE_TIMEOUT,
    description: "close a connection with no request for this long (0 = never)",
  },
  requestTimeout: {
    type: "duration",
    default: DEFAULT_MDP_CLIENT_TIMEOUT,
    min: 1,
    description: "reply timeout per request ('ERR timeout' after it)",
  },
  maxPipelined: {
    type: "integer",
    default: DEFAULT_TCP_BRIDGE_MAX_PIPELINED,
    min: 1,
    description: "request lines a connection may have waiting; more closes it",
  },
} as const satisfies OptionSpecs;
