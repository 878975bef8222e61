import type { OptionSpecs } from "@zg/app-kit";
import { DEFAULT_MDP_CLIENT_TIMEOUT } from "@zg/pirate";
import {
  DEFAULT_WS_BRIDGE_CLONE_SYNC_TIMEOUT,
  DEFAULT_WS_BRIDGE_MAX_BUFFERED,
  DEFAULT_WS_BRIDGE_MAX_CONNECTIONS,
  DEFAULT_WS_BRIDGE_MAX_IN_FLIGHT,
  DEFAULT_WS_BRIDGE_MAX_MESSAGE_SIZE,
  DEFAULT_WS_BRIDGE_MAX_SUBSCRIPTIONS,
} from "./ws-bridge.js";

/** Default address of `zg-ws-bridge` (project-chosen; the Guide names none). */
export const DEFAULT_WS_BRIDGE_LISTEN = "127.0.0.1:5592";

/** The options of `zg-ws-bridge`. */
export const options = {
  listen: {
    type: "address",
    default: DEFAULT_WS_BRIDGE_LISTEN,
    description:
      "host:port to serve the WebSocket (/ws), the client module and the example page on",
  },
  broker: {
    type: "string",
    default: "tcp://127.0.0.1:5555",
    description: "the Majordomo broker's endpoint (requests)",
  },
  publishers: {
    type: "endpoints",
    description: "PUB endpoints to subscribe to for the browsers' topics (none = no pub-sub)",
  },
  allowedOrigins: {
    type: "string",
    default: "",
    description:
      "comma-separated origins allowed to connect, or * (default: same-origin pages and non-browser clients only)",
  },
  token: {
    type: "string",
    description: "require this token (?token= or Authorization: Bearer) on every connection",
  },
  maxMessageSize: {
    type: "integer",
    default: DEFAULT_WS_BRIDGE_MAX_MESSAGE_SIZE,
    min: 64,
    description: "largest message a browser may send, bytes; larger closes the connection (1009)",
  },
  maxInFlight: {
    type: "integer",
    default: DEFAULT_WS_BRIDGE_MAX_IN_FLIGHT,
    min: 1,
    description: "requests a connection may have in flight; more closes it (1008)",
  },
  maxSubscriptions: {
    type: "integer",
    default: DEFAULT_WS_BRIDGE_MAX_SUBSCRIPTIONS,
    description: "topics a connection may subscribe to; more closes it (1008)",
  },
  maxBuffered: {
    type: "integer",
    default: DEFAULT_WS_BRIDGE_MAX_BUFFERED,
    min: 1,
    description: "bytes a connection may leave unread before pub-sub messages to it are dropped",
  },
  maxConnections: {
    type: "integer",
    default: DEFAULT_WS_BRIDGE_MAX_CONNECTIONS,
    min: 1,
    description: "open connections before new ones are refused (503)",
  },
  requestTimeout: {
    type: "duration",
    default: DEFAULT_MDP_CLIENT_TIMEOUT,
    min: 1,
    description: "default reply timeout of a request (a request may ask for its own, up to 60 s)",
  },
  clone: {
    type: "endpoints",
    description:
      "Clone servers whose subtrees browsers may follow: tcp://host:P (one, or two for an HA pair) or snapshot,publisher,collector (none = no Clone)",
  },
  cloneSubtrees: {
    type: "string",
    default: "",
    description:
      "comma-separated subtrees (key prefixes) a browser may follow, or *; required with --clone",
  },
  cloneSet: {
    type: "boolean",
    default: false,
    description: "let browsers set and delete keys under a subtree they follow (off by default)",
  },
  cloneSyncTimeout: {
    type: "duration",
    default: DEFAULT_WS_BRIDGE_CLONE_SYNC_TIMEOUT,
    min: 1,
    description: "how long a first subscription to a subtree waits for the Clone snapshot",
  },
} as const satisfies OptionSpecs;
