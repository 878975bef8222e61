import type { OptionSpecs } from "@zg/app-kit";
import { DEFAULT_REFRESH_INTERVAL, DEFAULT_ROTATE_INTERVAL } from "@zg/secure-pubsub";

/** The options of `zg-secure-broker`. */
export const options = {
  keys: {
    type: "path",
    default: "./keys",
    description:
      "directory of the broker's own secret certificates (broker.key_secret, key-service.key_secret; created 0600 on first start)",
  },
  allow: {
    type: "path",
    default: "./allow",
    description:
      "directory of allowed client public certificates (czmq zcert format; reloaded on change)",
  },
  issuer: {
    type: "string",
    description:
      "trusted token issuer: its public certificate file (with sign-public-key) or its Z85 Ed25519 key (required)",
  },
  frontend: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5570"],
    description: "pub-sub endpoints to bind (SecurePubSubClient, SecureTopicClient connect here)",
  },
  keyService: {
    type: "endpoints",
    default: ["tcp://127.0.0.1:5571"],
    description: "key-service endpoints to bind (KeyClient connects here)",
  },
  domain: {
    type: "string",
    default: "zg",
    description: "ZAP domain of both CURVE servers (must be non-empty: an empty one fails open)",
  },
  refreshInterval: {
    type: "duration",
    default: DEFAULT_REFRESH_INTERVAL,
    min: 10,
    description: "clients PING this often when idle; silent for 3 intervals = flushed",
  },
  rotateInterval: {
    type: "duration",
    default: DEFAULT_ROTATE_INTERVAL,
    min: 10,
    description: "group-key rotation period per topic (rotation on revocation is always on)",
  },
} as const satisfies OptionSpecs;
