import type { OptionSpecs, OptionValues } from "@zg/app-kit";
import {
  DEFAULT_MAX_QUEUED,
  DEFAULT_MDP_MAX_MESSAGE_SIZE,
  DEFAULT_MAX_WORKERS,
  type LoadBalancingBrokerOptions,
} from "@zg/pirate";

/** The options of `zg-lb-broker`; the ports are the Paranoid Pirate ones (5555/5556) so REQ clients and lbworker-style workers connect unchanged over TCP. */
export const options = {
  frontend: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5555"],
    description: "client-facing endpoints to bind (REQ clients, LazyPirateClient)",
  },
  backend: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5556"],
    description: "worker-facing endpoints to bind (REQ workers that send READY / \\001 first)",
  },
  maxQueued: {
    type: "integer",
    default: DEFAULT_MAX_QUEUED,
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
  maxWorkers: {
    type: "integer",
    default: DEFAULT_MAX_WORKERS,
    min: 1,
    description:
      "most workers remembered at once (no heartbeats here: vanished busy workers are forgotten beyond it)",
  },
  maxMessageSize: {
    type: "integer",
    default: DEFAULT_MDP_MAX_MESSAGE_SIZE,
    description:
      "largest inbound frame in bytes on both sockets (ZMQ_MAXMSGSIZE; 0 = no limit); a peer sending a larger one is disconnected",
  },
} as const satisfies OptionSpecs;

/** The {@link LoadBalancingBroker} options for parsed app options. */
export function brokerOptions(values: OptionValues<typeof options>): LoadBalancingBrokerOptions {
  return {
    frontend: values.frontend,
    backend: values.backend,
    maxQueued: values.maxQueued,
    maxWorkers: values.maxWorkers,
    overflow: values.overflow as NonNullable<LoadBalancingBrokerOptions["overflow"]>,
    maxMessageSize: values.maxMessageSize,
  };
}
