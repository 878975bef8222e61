import type { OptionSpecs, OptionValues } from "@zg/app-kit";
import {
  DEFAULT_MDP_HEARTBEAT_INTERVAL,
  DEFAULT_MDP_HEARTBEAT_LIVENESS,
  DEFAULT_MDP_MAX_MESSAGE_SIZE,
  DEFAULT_MDP_MAX_PENDING_SERVICES,
  DEFAULT_MDP_MAX_QUEUED,
  DEFAULT_MDP_MAX_QUEUED_BYTES,
  DEFAULT_MDP_MAX_QUEUED_PER_CLIENT,
  DEFAULT_MDP_MAX_SERVICE_STATS,
  DEFAULT_MDP_MAX_SERVICES,
  DEFAULT_MDP_PEER_BACKLOG,
  DEFAULT_MDP_REQUEST_EXPIRY,
  DEFAULT_MDP_REQUEST_TIMEOUT,
  DEFAULT_MDP_REQUEUE_LIMIT,
  DEFAULT_MDP_SERVICE_TTL,
  DEFAULT_TITANIC_MAX_BODY,
  type MajordomoBrokerOptions,
  type TitanicFsyncPolicy,
  type TitanicOptions,
} from "@zg/pirate";

/** The options of `zg-majordomo-broker`; the defaults are the Guide's (`mdbroker.c`: 5555, 2500 ms × 3). */
export const options = {
  endpoint: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5555"],
    description:
      "endpoints to bind; clients and workers share them (mdclient, mdworker, titanic connect here)",
  },
  heartbeatInterval: {
    type: "duration",
    default: DEFAULT_MDP_HEARTBEAT_INTERVAL,
    min: 10,
    description:
      "heartbeat interval towards workers; must match the workers' (Guide HEARTBEAT_INTERVAL)",
  },
  heartbeatLiveness: {
    type: "integer",
    default: DEFAULT_MDP_HEARTBEAT_LIVENESS,
    min: 1,
    description: "missed heartbeats before a worker is expired (Guide HEARTBEAT_LIVENESS)",
  },
  requestExpiry: {
    type: "duration",
    default: DEFAULT_MDP_REQUEST_EXPIRY,
    min: 1,
    description: 'longest a request waits for a worker before the client gets a "504" error reply',
  },
  serviceTtl: {
    type: "duration",
    default: DEFAULT_MDP_SERVICE_TTL,
    description: "how long a service with no workers and no requests is kept",
  },
  maxQueued: {
    type: "integer",
    default: DEFAULT_MDP_MAX_QUEUED,
    min: 1,
    description: 'requests queued per service; beyond it new ones get a "503" error reply',
  },
  maxQueuedPerClient: {
    type: "integer",
    default: DEFAULT_MDP_MAX_QUEUED_PER_CLIENT,
    min: 1,
    description:
      'requests one client may have queued per service (served round-robin across clients); beyond it "503"',
  },
  maxQueuedBytes: {
    type: "integer",
    default: DEFAULT_MDP_MAX_QUEUED_BYTES,
    min: 1,
    description: 'bytes of request bodies queued across services; beyond it new ones get "503"',
  },
  maxMessageSize: {
    type: "integer",
    default: DEFAULT_MDP_MAX_MESSAGE_SIZE,
    description:
      "largest inbound frame in bytes (ZMQ_MAXMSGSIZE; 0 = no limit); a peer sending a larger one is disconnected",
  },
  maxServices: {
    type: "integer",
    default: DEFAULT_MDP_MAX_SERVICES,
    min: 1,
    description: "services workers may register; a READY for a new one beyond it gets DISCONNECT",
  },
  maxPendingServices: {
    type: "integer",
    default: DEFAULT_MDP_MAX_PENDING_SERVICES,
    description:
      'services only clients asked for (no worker yet) whose requests are held; beyond it "503"',
  },
  maxServiceStats: {
    type: "integer",
    default: DEFAULT_MDP_MAX_SERVICE_STATS,
    description: "services exported with per-service metric labels (those with workers first)",
  },
  requestTimeout: {
    type: "duration",
    default: DEFAULT_MDP_REQUEST_TIMEOUT,
    description:
      'longest a worker may hold a request (0 = no bound); then the client gets "504" and the worker DISCONNECT',
  },
  peerBacklog: {
    type: "integer",
    default: DEFAULT_MDP_PEER_BACKLOG,
    min: 1,
    description:
      "messages held for a peer whose pipe is full and retried; beyond it they are dropped (warn, counted)",
  },
  requeueLimit: {
    type: "integer",
    default: DEFAULT_MDP_REQUEUE_LIMIT,
    description: "times a request is re-queued when its worker dies (0 = at-most-once)",
  },
  titanic: {
    type: "boolean",
    default: false,
    description:
      "also run Titanic (9/TSP: titanic.request/reply/close) in this process, storing in --data-dir",
  },
  dataDir: {
    type: "path",
    default: ".titanic",
    description:
      "Titanic's data directory (created if missing; locked: one Titanic per directory; used with --titanic)",
  },
  fsync: {
    type: "string",
    default: "always",
    choices: ["always", "interval", "never"],
    description:
      "when Titanic fsyncs its log: before acknowledging (always), every 100 ms (interval) or never (with --titanic)",
  },
  maxBody: {
    type: "integer",
    default: DEFAULT_TITANIC_MAX_BODY,
    min: 1,
    description:
      'largest titanic.request body in bytes; a larger one is refused with "400" and a reason (with --titanic)',
  },
} as const satisfies OptionSpecs;

/** The {@link MajordomoBroker} options for parsed app options. */
export function brokerOptions(values: OptionValues<typeof options>): MajordomoBrokerOptions {
  return {
    endpoints: values.endpoint,
    heartbeatInterval: values.heartbeatInterval,
    heartbeatLiveness: values.heartbeatLiveness,
    requestExpiry: values.requestExpiry,
    serviceTtl: values.serviceTtl,
    maxQueued: values.maxQueued,
    maxQueuedPerClient: values.maxQueuedPerClient,
    maxQueuedBytes: values.maxQueuedBytes,
    maxMessageSize: values.maxMessageSize,
    maxServices: values.maxServices,
    maxPendingServices: values.maxPendingServices,
    maxServiceStats: values.maxServiceStats,
    requestTimeout: values.requestTimeout,
    peerBacklog: values.peerBacklog,
    requeueLimit: values.requeueLimit,
  };
}

/** The in-process {@link Titanic} options: it connects to the broker's own endpoint and shares its heartbeat. */
export function titanicOptions(
  values: OptionValues<typeof options>,
  broker: string,
  directory: string,
): TitanicOptions {
  return {
    broker,
    directory,
    fsync: values.fsync as TitanicFsyncPolicy,
    heartbeatInterval: values.heartbeatInterval,
    heartbeatLiveness: values.heartbeatLiveness,
    maxBody: values.maxBody,
  };
}
