import type { OptionSpecs, OptionValues } from "@zg/app-kit";
import { AppError } from "@zg/app-kit";
import {
  DEFAULT_CLONE_MAX_MESSAGE_SIZE,
  DEFAULT_FLUSH_INTERVAL,
  DEFAULT_HUGZ_INTERVAL,
  DEFAULT_MAX_KEYS,
  DEFAULT_MAX_VALUE_SIZE,
  type CloneAddress,
  type CloneServerOptions,
} from "@zg/clone";

/**
 * The Guide's Clone ports (`clonesrv6`): primary 5556 (snapshot), 5557 (publisher), 5558
 * (collector), backup 5566/5567/5568; Binary Star state 5003 (primary) / 5004 (backup). Loopback here.
 */
export const GUIDE_PORTS = {
  primary: { bind: 5556, peer: 5566, state: 5003, statePeer: 5004 },
  backup: { bind: 5566, peer: 5556, state: 5004, statePeer: 5003 },
} as const;

/** The options of `zg-clone-server`; the defaults are the Guide's `clonesrv5`/`clonesrv6`. */
export const options = {
  primary: {
    type: "boolean",
    default: false,
    description:
      "run as the primary of an HA pair (Guide clonesrv6 -p); neither flag: a lone server",
  },
  backup: {
    type: "boolean",
    default: false,
    description: "run as the backup of an HA pair (Guide clonesrv6 -b)",
  },
  bind: {
    type: "string",
    description:
      "snapshot endpoint tcp://host:P (publisher P+1, collector P+2), or snapshot,publisher,collector; default tcp://127.0.0.1:5556 (:5566 with --backup)",
  },
  peer: {
    type: "string",
    description:
      "with --primary/--backup: the peer's snapshot endpoint (or its three, comma-separated); default tcp://127.0.0.1:5566 (primary) or :5556 (backup)",
  },
  stateBind: {
    type: "string",
    description:
      "Binary Star state PUB endpoint; default tcp://127.0.0.1:5003 (primary) or :5004 (backup)",
  },
  statePeer: {
    type: "string",
    description:
      "the peer's Binary Star state PUB endpoint; default tcp://127.0.0.1:5004 (primary) or :5003 (backup)",
  },
  dataDir: {
    type: "path",
    description:
      "data directory: an update log and snapshot, so a restart resumes map and sequence (beyond the Guide); off when unset",
  },
  fsync: {
    type: "string",
    default: "always",
    choices: ["always", "interval", "never"],
    description: "with --data-dir: when the log is fsynced (as Titanic's)",
  },
  collector: {
    type: "string",
    default: "sub",
    choices: ["sub", "pull"],
    description:
      "collector socket: sub (12/CHP, model 6: clients PUB) or pull (model 5: clients PUSH)",
  },
  hugzInterval: {
    type: "duration",
    default: DEFAULT_HUGZ_INTERVAL,
    min: 1,
    description: "HUGZ heartbeat interval on the publisher (Guide: 1000 ms)",
  },
  flushInterval: {
    type: "duration",
    default: DEFAULT_FLUSH_INTERVAL,
    min: 1,
    description: "TTL flush cadence (Guide: 1000 ms)",
  },
  maxKeys: {
    type: "integer",
    default: DEFAULT_MAX_KEYS,
    min: 1,
    description: "most keys held; a new key beyond it is refused (project value)",
  },
  maxValueSize: {
    type: "integer",
    default: DEFAULT_MAX_VALUE_SIZE,
    min: 1,
    description: "largest value accepted, bytes (project value)",
  },
  maxMessageSize: {
    type: "integer",
    default: DEFAULT_CLONE_MAX_MESSAGE_SIZE,
    description: "largest message accepted on the collector, bytes (ZMQ_MAXMSGSIZE); 0 = no limit",
  },
  heartbeat: {
    type: "duration",
    default: 1000,
    min: 1,
    description:
      "with --primary/--backup: Binary Star state interval; the peer counts as dead after 2 × (Guide: 1000 ms)",
  },
} as const satisfies OptionSpecs;

/** `tcp://host:P`, or three comma-separated endpoints `snapshot,publisher,collector`. */
export function addressOf(text: string): CloneAddress {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length === 1) return text;
  const [snapshot = "", publisher = "", collector = ""] = parts;
  if (parts.length !== 3) {
    throw new AppError(
      `${text}: give tcp://host:P or three endpoints snapshot,publisher,collector`,
      {
        app: "clone-server",
        option: "bind",
        exitCode: 2,
      },
    );
  }
  return { snapshot, publisher, collector };
}

/** The role: `primary`, `backup` or `alone`. @throws {@link AppError} for both flags. */
export function roleOf(values: OptionValues<typeof options>): "primary" | "backup" | "alone" {
  if (values.primary && values.backup) {
    throw new AppError("give at most one of --primary or --backup", {
      app: "clone-server",
      option: "backup",
      exitCode: 2,
    });
  }
  return values.primary ? "primary" : values.backup ? "backup" : "alone";
}

/** The {@link CloneServerOptions} for parsed app options (without logger and data directory). */
export function serverOptions(
  values: OptionValues<typeof options>,
  role: "primary" | "backup" | "alone",
): CloneServerOptions {
  const ports = GUIDE_PORTS[role === "alone" ? "primary" : role];
  return {
    bind: addressOf(values.bind ?? `tcp://127.0.0.1:${ports.bind}`),
    collector: values.collector as "sub" | "pull",
    hugzInterval: values.hugzInterval,
    flushInterval: values.flushInterval,
    maxKeys: values.maxKeys,
    maxValueSize: values.maxValueSize,
    maxMessageSize: values.maxMessageSize,
    fsync: values.fsync as "always" | "interval" | "never",
    ...(role === "alone"
      ? {}
      : {
          pair: {
            role,
            stateBind: values.stateBind ?? `tcp://127.0.0.1:${ports.state}`,
            statePeer: values.statePeer ?? `tcp://127.0.0.1:${ports.statePeer}`,
            peer: addressOf(values.peer ?? `tcp://127.0.0.1:${ports.peer}`),
            heartbeat: values.heartbeat,
          },
        }),
  };
}
