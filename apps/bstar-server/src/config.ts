import type { OptionSpecs, OptionValues } from "@zg/app-kit";
import { AppError } from "@zg/app-kit";
import {
  DEFAULT_BSTAR_HEARTBEAT,
  type BinaryStarOptions,
  type BinaryStarRole,
} from "@zg/pirate/bstar";

/**
 * The Guide's Binary Star ports (`bstarsrv2`): primary frontend 5001 / state 5003, backup frontend
 * 5002 / state 5004, each server's state SUB connected to the other's state PUB. Loopback here.
 */
export const GUIDE_PORTS = {
  primary: { frontend: 5001, state: 5003, peer: 5004 },
  backup: { frontend: 5002, state: 5004, peer: 5003 },
} as const;

/** The options of `zg-bstar-server`; the defaults are the Guide's `bstarsrv2`. */
export const options = {
  primary: {
    type: "boolean",
    default: false,
    description: "run as the primary (Guide bstarsrv2 -p); exactly one of --primary / --backup",
  },
  backup: {
    type: "boolean",
    default: false,
    description: "run as the backup (Guide bstarsrv2 -b)",
  },
  frontend: {
    type: "endpoints",
    description:
      "the request ROUTER endpoint(s) clients connect to; default tcp://127.0.0.1:5001 (primary) or :5002 (backup)",
  },
  stateBind: {
    type: "string",
    description: "the state PUB endpoint; default tcp://127.0.0.1:5003 (primary) or :5004 (backup)",
  },
  peer: {
    type: "string",
    description:
      "the peer's state PUB endpoint; default tcp://127.0.0.1:5004 (primary) or :5003 (backup)",
  },
  heartbeat: {
    type: "duration",
    default: DEFAULT_BSTAR_HEARTBEAT,
    min: 1,
    description:
      "state publish interval; the peer counts as dead after 2 × heartbeat (Guide: 1000 ms)",
  },
  watch: {
    type: "endpoints",
    description:
      "run as a witness instead of a server: the primary's and the backup's state PUB endpoints, in that order (beyond the Guide)",
  },
  witnessBind: {
    type: "string",
    default: "tcp://127.0.0.1:5005",
    description:
      "with --watch: the witness PUB endpoint servers pass as --witness (project-defined port)",
  },
  witness: {
    type: "string",
    description:
      "a BinaryStarWitness PUB endpoint: take over only while the witness also no longer hears the peer (beyond the Guide)",
  },
} as const satisfies OptionSpecs;

/** The role from `--primary` / `--backup`, or `witness` with `--watch`. @throws {@link AppError} unless exactly one is set. */
export function roleOf(values: OptionValues<typeof options>): BinaryStarRole | "witness" {
  if (values.watch !== undefined) {
    if (values.primary || values.backup) {
      throw new AppError("--watch runs a witness: give neither --primary nor --backup", {
        app: "bstar-server",
        option: "watch",
        exitCode: 2,
      });
    }
    if (values.watch.length !== 2) {
      throw new AppError("--watch takes two endpoints: the primary's and the backup's state PUB", {
        app: "bstar-server",
        option: "watch",
        exitCode: 2,
      });
    }
    return "witness";
  }
  if (values.primary === values.backup) {
    throw new AppError("give exactly one of --primary or --backup", {
      app: "bstar-server",
      option: values.primary ? "backup" : "primary",
      exitCode: 2,
    });
  }
  return values.primary ? "primary" : "backup";
}

/** The {@link BinaryStar} options for parsed app options (without handler and logger). */
export function starOptions(
  values: OptionValues<typeof options>,
  role: BinaryStarRole,
): Omit<BinaryStarOptions, "frontend"> & { frontendBind: string[] } {
  const ports = GUIDE_PORTS[role];
  return {
    role,
    state: values.stateBind ?? `tcp://127.0.0.1:${ports.state}`,
    peer: values.peer ?? `tcp://127.0.0.1:${ports.peer}`,
    heartbeat: values.heartbeat,
    ...(values.witness === undefined ? {} : { witness: values.witness }),
    frontendBind: values.frontend ?? [`tcp://127.0.0.1:${ports.frontend}`],
  };
}
