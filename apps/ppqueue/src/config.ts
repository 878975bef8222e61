import type { OptionSpecs, OptionValues } from "@zg/app-kit";
import {
  DEFAULT_MDP_MAX_MESSAGE_SIZE,
  DEFAULT_PPP_HEARTBEAT_INTERVAL,
  DEFAULT_PPP_HEARTBEAT_LIVENESS,
  type PirateQueueOptions,
} from "@zg/pirate";

/** The options of `zg-ppqueue`; defaults are the Guide's (`ppqueue.c`: frontend 5555, backend 5556, 1000 ms × 3). */
export const options = {
  frontend: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5555"],
    description: "client-facing endpoints to bind (lpclient, LazyPirateClient connect here)",
  },
  backend: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5556"],
    description: "worker-facing endpoints to bind (ppworker, PirateWorker connect here)",
  },
  heartbeatInterval: {
    type: "duration",
    default: DEFAULT_PPP_HEARTBEAT_INTERVAL,
    min: 10,
    description:
      "heartbeat interval towards workers; must match the workers' (Guide HEARTBEAT_INTERVAL)",
  },
  heartbeatLiveness: {
    type: "integer",
    default: DEFAULT_PPP_HEARTBEAT_LIVENESS,
    min: 1,
    description: "missed heartbeats before a worker is purged (Guide HEARTBEAT_LIVENESS)",
  },
  maxQueued: {
    type: "integer",
    default: 1000,
    min: 1,
    description: "most requests waiting for a free worker",
  },
  overflow: {
    type: "string",
    default: "backpressure",
    choices: ["backpressure", "drop-newest", "drop-oldest"],
    description:
      "what happens when --max-queued is reached (backpressure = the Guide's: stop reading clients)",
  },
  maxMessageSize: {
    type: "integer",
    default: DEFAULT_MDP_MAX_MESSAGE_SIZE,
    description:
      "largest inbound frame in bytes on both sockets (ZMQ_MAXMSGSIZE; 0 = no limit); a peer sending a larger one is disconnected",
  },
} as const satisfies OptionSpecs;

/** The {@link PirateQueue} options for parsed app options. */
export function queueOptions(values: OptionValues<typeof options>): PirateQueueOptions {
  return {
    frontend: values.frontend,
    backend: values.backend,
    heartbeatInterval: values.heartbeatInterval,
    heartbeatLiveness: values.heartbeatLiveness,
    maxQueued: values.maxQueued,
    overflow: values.overflow as NonNullable<PirateQueueOptions["overflow"]>,
    maxMessageSize: values.maxMessageSize,
  };
}
