import { AppError, type OptionSpecs, type OptionValues } from "@zg/app-kit";
import {
  DEFAULT_MDP_FEDERATION_FORWARD_TIMEOUT,
  DEFAULT_MDP_FEDERATION_MAX_HOPS,
  DEFAULT_MDP_FEDERATION_PEER_LIVENESS,
  DEFAULT_MDP_FEDERATION_STATE_INTERVAL,
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
  type MajordomoFederationOptions,
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
  name: {
    type: "string",
    default: "",
    description:
      "federation: this broker's name, unique among its peers ([A-Za-z0-9._-]); set it to federate (with --peering-endpoint)",
  },
  peeringEndpoint: {
    type: "string",
    default: "",
    description:
      "federation: endpoint to bind the peering socket to; peer brokers connect here (with --name)",
  },
  peer: {
    type: "string",
    default: "",
    description:
      "federation: a peer broker NAME=ENDPOINT (its --peering-endpoint) to connect and overflow to; repeat the flag or separate with commas",
  },
  accept: {
    type: "string",
    default: "",
    description:
      'federation: further broker names allowed to connect without being a --peer (a router tree\'s edge brokers), comma-separated, or "any"',
  },
  stateInterval: {
    type: "duration",
    default: DEFAULT_MDP_FEDERATION_STATE_INTERVAL,
    min: 10,
    description:
      "federation: how often this broker announces its capacity to each peer (Guide peering1: 1 s)",
  },
  peerLiveness: {
    type: "integer",
    default: DEFAULT_MDP_FEDERATION_PEER_LIVENESS,
    min: 1,
    description: "federation: missed announcements before a peer is lost",
  },
  forwardTimeout: {
    type: "duration",
    default: DEFAULT_MDP_FEDERATION_FORWARD_TIMEOUT,
    min: 1,
    description:
      "federation: longest a peer may hold a forwarded request before it is re-queued here (or answered 502)",
  },
  maxHops: {
    type: "integer",
    default: DEFAULT_MDP_FEDERATION_MAX_HOPS,
    min: 1,
    description: "federation: broker-to-broker links a request may cross",
  },
} as const satisfies OptionSpecs;

/**
 * Every `--peer` value on the command line (the flag may be repeated; app-kit
 * keeps only the last), else the parsed option (environment or default).
 */
export function peerValues(argv: readonly string[], parsed: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--peer" && i + 1 < argv.length) found.push(argv[++i] as string);
    else if (a.startsWith("--peer=")) found.push(a.slice("--peer=".length));
  }
  return (found.length > 0 ? found : [parsed])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** The federation options for parsed app options, or undefined when `--name` is not set. */
export function federationOptions(
  values: OptionValues<typeof options>,
  argv: readonly string[],
): MajordomoFederationOptions | undefined {
  const bad = (option: string, why: string): AppError =>
    new AppError(`--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${why}`, {
      app: "majordomo-broker",
      option,
    });
  const peers: Record<string, string> = {};
  for (const p of peerValues(argv, values.peer)) {
    const eq = p.indexOf("=");
    if (eq <= 0 || eq === p.length - 1) throw bad("peer", `expected NAME=ENDPOINT, got "${p}"`);
    peers[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const accept = values.accept.trim();
  if (values.name === "") {
    if (Object.keys(peers).length > 0 || values.peeringEndpoint !== "" || accept !== "")
      throw bad("name", "federation options need --name (this broker's name among its peers)");
    return undefined;
  }
  if (values.peeringEndpoint === "")
    throw bad("peeringEndpoint", "a federated broker (--name) needs a peering endpoint to bind");
  return {
    name: values.name,
    endpoints: values.peeringEndpoint,
    peers,
    accept:
      accept === "any"
        ? "any"
        : accept
            .split(",")
            .map((n) => n.trim())
            .filter((n) => n !== ""),
    stateInterval: values.stateInterval,
    peerLiveness: values.peerLiveness,
    forwardTimeout: values.forwardTimeout,
    maxHops: values.maxHops,
  };
}

/** The {@link MajordomoBroker} options for parsed app options (`argv` for repeated `--peer`). */
export function brokerOptions(
  values: OptionValues<typeof options>,
  argv: readonly string[] = [],
): MajordomoBrokerOptions {
  const federation = federationOptions(values, argv);
  return {
    ...(federation === undefined ? {} : { federation }),
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
