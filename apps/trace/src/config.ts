import type { OptionSpecs, OptionValues } from "@zg/app-kit";
import { DEFAULT_CAPTURE_BUFFER, DEFAULT_TRACE_PEER_IDLE, type TraceMode } from "@zg/devices";

/**
 * The options of `zg-trace`. Defaults put it in front of a broker on the
 * Guide's port: the proxy takes 5555 (where the Guide's clients connect) and
 * forwards to a broker moved to 5556.
 */
export const options = {
  mode: {
    type: "string",
    default: "router-dealer",
    choices: ["router-dealer", "xsub-xpub", "pull-push"],
    description:
      "socket pair: router-dealer (one backend DEALER per client: transparent to a ROUTER broker), xsub-xpub, pull-push",
  },
  frontend: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5555"],
    description: "frontend endpoints (bound; see --frontend-connect)",
  },
  frontendConnect: {
    type: "boolean",
    default: false,
    description: "connect the frontend instead of binding it (xsub-xpub: to the publishers)",
  },
  backend: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5556"],
    description: "backend endpoints (connected; see --backend-bind)",
  },
  backendBind: {
    type: "boolean",
    default: false,
    description: "bind the backend instead of connecting it (not for router-dealer)",
  },
  capture: {
    type: "string",
    description: "write the JSONL capture (one line per message, frames in hex) to this file",
  },
  dump: {
    type: "string",
    description: 'write the readable dump (text or hex per frame) to this file, "-" = stderr',
  },
  captureBuffer: {
    type: "integer",
    default: DEFAULT_CAPTURE_BUFFER,
    min: 1,
    description:
      "capture records buffered per sink before new ones are dropped (messages never are)",
  },
  peerIdle: {
    type: "duration",
    default: DEFAULT_TRACE_PEER_IDLE,
    description:
      "router-dealer: close a silent client's backend DEALER after this long (0 = never)",
  },
} as const satisfies OptionSpecs;

/** The endpoint lists with czmq's `@` (bind) / `>` (connect) marks for {@link TraceProxy}. */
export function endpoints(values: OptionValues<typeof options>): {
  mode: TraceMode;
  frontend: string[];
  backend: string[];
} {
  return {
    mode: values.mode as TraceMode,
    frontend: values.frontend.map((e) => `${values.frontendConnect ? ">" : "@"}${e}`),
    backend: values.backend.map((e) => `${values.backendBind ? "@" : ">"}${e}`),
  };
}
