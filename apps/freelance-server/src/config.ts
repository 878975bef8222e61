import type { OptionSpecs, OptionValues } from "@zg/app-kit";
import {
  DEFAULT_MDP_MAX_MESSAGE_SIZE,
  type FreelanceModel,
  type FreelanceServerOptions,
} from "@zg/pirate";

/** The options of `zg-freelance-server`; the defaults are the Guide's `flserver3` (10/FLP on 5555). */
export const options = {
  endpoint: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5555"],
    description:
      "the endpoint to bind (one); model 3 uses it as the server identity unless --public-endpoint is set",
  },
  publicEndpoint: {
    type: "string",
    description:
      "model 3: the endpoint clients connect to, when it differs from the bound one (e.g. bound tcp://*:5555)",
  },
  model: {
    type: "integer",
    default: 3,
    min: 1,
    description:
      "1 = flserver1 (REQ-style echo), 2 = flserver2 (sequence frame), 3 = flserver3 (10/FLP, PING/PONG)",
  },
  reply: {
    type: "string",
    default: "ok",
    choices: ["ok", "echo"],
    description:
      'what a request gets back: "OK" (flserver2, flserver3) or the request body (flserver1)',
  },
  maxMessageSize: {
    type: "integer",
    default: DEFAULT_MDP_MAX_MESSAGE_SIZE,
    description:
      "largest inbound frame in bytes (ZMQ_MAXMSGSIZE; 0 = no limit); a client sending a larger one is disconnected",
  },
} as const satisfies OptionSpecs;

/** The {@link FreelanceServer} options for parsed app options. */
export function serverOptions(values: OptionValues<typeof options>): FreelanceServerOptions {
  const ok = Buffer.from("OK");
  return {
    endpoints: values.endpoint[0] ?? "",
    ...(values.publicEndpoint === undefined ? {} : { publicEndpoint: values.publicEndpoint }),
    model: values.model as FreelanceModel,
    maxMessageSize: values.maxMessageSize,
    // Idempotent by construction: clients may send duplicates (Freelance resends).
    handler: values.reply === "echo" ? (body) => body : () => ok,
  };
}
