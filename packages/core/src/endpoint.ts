import { ZgError } from "./errors.js";

/** The transports libzmq knows (`zmq_bind(3)`, `zmq_connect(3)`). */
export const ENDPOINT_TRANSPORTS = [
  "tcp",
  "ipc",
  "inproc",
  "ws",
  "wss",
  "tipc",
  "udp",
  "pgm",
  "epgm",
  "vmci",
  "norm",
] as const;

/** One of {@link ENDPOINT_TRANSPORTS}. */
export type EndpointTransport = (typeof ENDPOINT_TRANSPORTS)[number];

/** A ZeroMQ endpoint taken apart by {@link parseEndpoint}. */
export interface ParsedEndpoint {
  /** The endpoint as given. */
  readonly endpoint: string;
  /** `tcp`, `ipc`, `inproc`, … */
  readonly transport: EndpointTransport;
  /** Everything after `://`. */
  readonly address: string;
  /** For `tcp`/`udp`/`ws`/`wss`: the host part (`*`, an address, a name or `[v6]`). */
  readonly host?: string;
  /**
   * For `tcp`/`udp`/`ws`/`wss`: the port, 0..65535, or `"*"` for an
   * ephemeral port chosen at bind time (`0` means the same).
   */
  readonly port?: number | "*";
}

const HOST = /^(\*|\[[0-9A-Fa-f:.%\w]+\]|[A-Za-z0-9_.%-]+)$/;

/**
 * Why `endpoint` is not a valid ZeroMQ endpoint, or `undefined` when it is.
 * Checks the transport, that the address is not empty and has no white space,
 * and for the host:port transports that the host is well-formed and the port
 * is `*` or a decimal 0..65535 (libzmq itself silently wraps a larger port:
 * `tcp://127.0.0.1:99999` would bind port 34463).
 */
export function endpointProblem(endpoint: unknown): string | undefined {
  if (typeof endpoint !== "string") return `not a string: ${String(endpoint)}`;
  const m = /^([a-z]+):\/\/(.*)$/.exec(endpoint);
  if (m === null)
    return `not a ZeroMQ endpoint: "${endpoint}" (expected e.g. tcp://127.0.0.1:5555)`;
  const transport = m[1] as string;
  const address = m[2] as string;
  if (!(ENDPOINT_TRANSPORTS as readonly string[]).includes(transport))
    return `unknown transport "${transport}" in "${endpoint}" (expected one of ${ENDPOINT_TRANSPORTS.join(", ")})`;
  if (address.length === 0) return `no address after ${transport}:// in "${endpoint}"`;
  if (/\s/.test(address)) return `white space in endpoint "${endpoint}"`;
  if (transport === "tcp" || transport === "udp" || transport === "ws" || transport === "wss") {
    const hp = hostPort(transport, address);
    if (typeof hp === "string") return `${hp} in "${endpoint}"`;
  }
  return undefined;
}

/** tcp/udp/ws/wss `[source;]host:port[/path]` → host and port, or the problem. */
function hostPort(
  transport: string,
  address: string,
): { host: string; port: number | "*" } | string {
  // tcp (and udp) may name a source address first: `tcp://src:port;host:port`.
  const target = address.includes(";") ? address.slice(address.lastIndexOf(";") + 1) : address;
  const pathAt = transport === "ws" || transport === "wss" ? target.indexOf("/") : -1;
  const hostAndPort = pathAt >= 0 ? target.slice(0, pathAt) : target;
  const colon = hostAndPort.lastIndexOf(":");
  if (colon < 0) return "missing :port";
  const host = hostAndPort.slice(0, colon);
  const portText = hostAndPort.slice(colon + 1);
  if (host.length === 0) return "missing host";
  if (!HOST.test(host)) return `malformed host "${host}"`;
  if (portText === "*") return { host, port: "*" };
  if (!/^\d{1,5}$/.test(portText)) return `malformed port "${portText}"`;
  const port = Number(portText);
  if (port > 65_535) return `port ${port} out of range 0..65535`;
  return { host, port };
}

/**
 * Parses and validates one ZeroMQ endpoint (see {@link endpointProblem} for
 * the rules).
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` naming the problem.
 * @example
 * ```ts
 * parseEndpoint("tcp://127.0.0.1:5555"); // { transport: "tcp", host: "127.0.0.1", port: 5555, … }
 * parseEndpoint("tcp://127.0.0.1:99999"); // throws: port 99999 out of range 0..65535
 * ```
 */
export function parseEndpoint(endpoint: string): ParsedEndpoint {
  const problem = endpointProblem(endpoint);
  if (problem !== undefined)
    throw new ZgError("ZG_INVALID_ARGUMENT", problem, { details: { endpoint } });
  const i = endpoint.indexOf("://");
  const transport = endpoint.slice(0, i) as EndpointTransport;
  const address = endpoint.slice(i + 3);
  const hp =
    transport === "tcp" || transport === "udp" || transport === "ws" || transport === "wss"
      ? hostPort(transport, address)
      : undefined;
  return typeof hp === "object"
    ? { endpoint, transport, address, ...hp }
    : { endpoint, transport, address };
}

/**
 * Validates an endpoint option: `name` is the option's name, put first in the
 * error message.
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` `"<name>: <problem>"`.
 */
export function validateEndpoint(name: string, endpoint: unknown): string {
  const problem = endpointProblem(endpoint);
  if (problem !== undefined)
    throw new ZgError("ZG_INVALID_ARGUMENT", `${name}: ${problem}`, {
      details: { option: name, endpoint },
    });
  return endpoint as string;
}
