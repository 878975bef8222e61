import { parseEndpoint, validateEndpoint, ZgError } from "@zg/core";

/**
 * The three endpoints of one Clone server (12/CHP): the snapshot ROUTER on
 * port P, the publisher on P+1 and the collector on P+2.
 */
export interface CloneEndpoints {
  /** Snapshot ROUTER (ICANHAZ? → KVSYNC… KTHXBAI); the Binary Star voter of an HA pair. */
  snapshot: string;
  /** Publisher PUB (KVPUB, HUGZ). */
  publisher: string;
  /** Collector (SUB, or PULL in model 5) that takes client updates (KVSET). */
  collector: string;
}

/**
 * One server as given to a client or server: either its snapshot endpoint
 * `tcp://host:P` (publisher and collector on P+1 and P+2, the 12/CHP
 * convention) or the three endpoints spelled out (ipc, or ports that do not
 * follow P, P+1, P+2).
 */
export type CloneAddress = string | CloneEndpoints;

/**
 * The three endpoints of `address`.
 *
 * @throws `ZG_INVALID_ARGUMENT` for a bad endpoint, or a string that is not
 * `tcp://host:port` with a numeric port (P+1 and P+2 cannot be derived).
 */
export function cloneEndpoints(name: string, address: CloneAddress): CloneEndpoints {
  if (typeof address !== "string") {
    if (typeof address !== "object" || address === null) {
      throw new ZgError("ZG_INVALID_ARGUMENT", `${name} must be an endpoint or three endpoints`);
    }
    validateEndpoint(`${name}.snapshot`, address.snapshot);
    validateEndpoint(`${name}.publisher`, address.publisher);
    validateEndpoint(`${name}.collector`, address.collector);
    return {
      snapshot: address.snapshot,
      publisher: address.publisher,
      collector: address.collector,
    };
  }
  validateEndpoint(name, address);
  const parsed = parseEndpoint(address);
  if (parsed.transport !== "tcp" || typeof parsed.port !== "number" || parsed.port > 65533) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      `${name}: ${address} is not tcp://host:P with a numeric port; give { snapshot, publisher, collector }`,
    );
  }
  const at = (port: number): string => `tcp://${parsed.host ?? "*"}:${port}`;
  return { snapshot: address, publisher: at(parsed.port + 1), collector: at(parsed.port + 2) };
}
