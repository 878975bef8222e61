import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { parseEndpoint } from "@zg/core/pure";

/** How a host name is turned into addresses (`node:dns` `lookup` by default). */
export type HostLookup = (host: string) => Promise<string>;

const defaultLookup: HostLookup = async (host) => (await dnsLookup(host)).address;

/** The first IPv4 address of a network interface, or undefined when `name` is not one. */
function interfaceAddress(name: string): string | undefined {
  const list = networkInterfaces()[name];
  return list?.find((a) => a.family === "IPv4")?.address ?? list?.[0]?.address;
}

/**
 * Rewrites the host names of tcp/ws/wss endpoints where libzmq would not
 * resolve them: for `bind`, a host that is neither `*`, an address nor an
 * interface name is looked up with `node:dns` (libzmq binds only interfaces
 * and addresses); for `connect`, an interface name (`tcp://lo:5555`, the
 * notes' per-host example) becomes that interface's address (libzmq would
 * try it as a DNS name), and other names are left to libzmq, which resolves
 * them itself on every (re)connect. Other transports pass unchanged.
 *
 * @throws the lookup's error (e.g. `ENOTFOUND`) for a bind host that does not resolve.
 */
export async function mapEndpoint(
  endpoint: string,
  role: "connect" | "bind",
  lookup: HostLookup = defaultLookup,
): Promise<string> {
  const p = parseEndpoint(endpoint);
  if (p.host === undefined || p.host === "*" || p.host.startsWith("[") || isIP(p.host) !== 0)
    return endpoint;
  if (p.transport !== "tcp" && p.transport !== "ws" && p.transport !== "wss") return endpoint;
  if (p.address.includes(";")) return endpoint; // source;target syntax: libzmq's own
  const iface = interfaceAddress(p.host);
  let address: string;
  if (role === "bind") {
    if (iface !== undefined) return endpoint;
    address = await lookup(p.host);
  } else {
    if (iface === undefined) return endpoint;
    address = iface;
  }
  const host = isIP(address) === 6 ? `[${address}]` : address;
  const at = endpoint.indexOf("://") + 3;
  return `${endpoint.slice(0, at)}${host}${endpoint.slice(at + p.host.length)}`;
}
