import type { Server } from "node:net";
import { assertArgument, ZgError } from "@zg/core";

/** `true` when `listen` has the `host:port` form the apps' servers take (`[::1]:0` included). */
export function isHostPort(listen: string): boolean {
  return /^.+:\d+$/.test(listen);
}

/**
 * Starts `server` (a `node:net` or `node:http` server) listening on a
 * `host:port` address (port 0 = any free port; an IPv6 host may be in
 * brackets) and resolves with the address it really bound, as `host:port`
 * (IPv6 in brackets). Rejects with the listen error (`EADDRINUSE`, …).
 *
 * @throws ZgError `ZG_INVALID_ARGUMENT` (synchronously) when `listen` is not `host:port`.
 */
export function listenOn(server: Server, listen: string): Promise<string> {
  assertArgument(isHostPort(listen), `listen must be host:port, got ${JSON.stringify(listen)}`);
  return bind(server, listen);
}

async function bind(server: Server, listen: string): Promise<string> {
  const cut = listen.lastIndexOf(":");
  const host = listen.slice(0, cut).replace(/^\[(.*)\]$/, "$1");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(listen.slice(cut + 1)), host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address();
  if (a === null || typeof a === "string") throw new ZgError("ZG_STATE", "no TCP address");
  return `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
}
