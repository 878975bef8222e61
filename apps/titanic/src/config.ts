import type { OptionSpecs, OptionValues } from "@zg/app-kit";
import {
  DEFAULT_MDP_HEARTBEAT_INTERVAL,
  DEFAULT_MDP_HEARTBEAT_LIVENESS,
  DEFAULT_MDP_RECONNECT_DELAY,
  DEFAULT_TITANIC_DISPATCH_CONCURRENCY,
  DEFAULT_TITANIC_DISPATCH_INTERVAL,
  DEFAULT_TITANIC_DISPATCH_TIMEOUT,
  DEFAULT_TITANIC_MAX_BODY,
  type TitanicFsyncPolicy,
  type TitanicOptions,
} from "@zg/pirate";

/** The options of `zg-titanic`; the defaults are the Guide's (`titanic.c`: broker tcp://localhost:5555, 1 s dispatcher). */
export const options = {
  broker: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5555"],
    description: "the Majordomo broker to serve titanic.* on and to call the real services through",
  },
  dataDir: {
    type: "path",
    default: ".titanic",
    description:
      "directory of the durable request/reply log (created if missing; locked: one Titanic per directory)",
  },
  fsync: {
    type: "string",
    default: "always",
    choices: ["always", "interval", "never"],
    description:
      "when the log is fsynced: before acknowledging (always), every 100 ms (interval) or never",
  },
  workers: {
    type: "integer",
    default: 1,
    min: 1,
    description: "MDP workers per titanic.* service",
  },
  heartbeatInterval: {
    type: "duration",
    default: DEFAULT_MDP_HEARTBEAT_INTERVAL,
    min: 10,
    description:
      "heartbeat interval of Titanic's workers; must match the broker's (Guide mdwrkapi)",
  },
  heartbeatLiveness: {
    type: "integer",
    default: DEFAULT_MDP_HEARTBEAT_LIVENESS,
    min: 1,
    description: "missed heartbeats before the broker is declared dead (Guide mdwrkapi)",
  },
  reconnectDelay: {
    type: "duration",
    default: DEFAULT_MDP_RECONNECT_DELAY,
    min: 1,
    description: "delay before reconnecting to a silent broker (Guide mdwrkapi)",
  },
  dispatchInterval: {
    type: "duration",
    default: DEFAULT_TITANIC_DISPATCH_INTERVAL,
    min: 1,
    description:
      "dispatcher wake-up period: how often unanswered requests are retried (Guide titanic: 1 s)",
  },
  dispatchTimeout: {
    type: "duration",
    default: DEFAULT_TITANIC_DISPATCH_TIMEOUT,
    min: 1,
    description: "reply timeout of one call to a real service (Guide titanic: 1000 ms, 1 try)",
  },
  dispatchConcurrency: {
    type: "integer",
    default: DEFAULT_TITANIC_DISPATCH_CONCURRENCY,
    min: 1,
    description: "calls to real services in flight at once",
  },
  maxBody: {
    type: "integer",
    default: DEFAULT_TITANIC_MAX_BODY,
    min: 1,
    description:
      'largest titanic.request body in bytes; a larger one is refused with "400" and a reason',
  },
} as const satisfies OptionSpecs;

/** The {@link Titanic} options for parsed app options. */
export function titanicOptions(
  values: OptionValues<typeof options>,
  directory: string,
): TitanicOptions {
  return {
    broker: values.broker[0] ?? "",
    directory,
    fsync: values.fsync as TitanicFsyncPolicy,
    workers: values.workers,
    heartbeatInterval: values.heartbeatInterval,
    heartbeatLiveness: values.heartbeatLiveness,
    reconnectDelay: values.reconnectDelay,
    dispatchInterval: values.dispatchInterval,
    dispatchTimeout: values.dispatchTimeout,
    dispatchConcurrency: values.dispatchConcurrency,
    maxBody: values.maxBody,
  };
}
