import type { Frame } from "@zg/core";

/**
 * The reply body of an 8/MMI request: `mmi.service` → `"200"` when the named
 * service has a live worker, `"404"` otherwise; `mmi.services` (a zg
 * extension) → `"200"` and the sorted names of the live services; any other
 * `mmi.*` → `"501"`.
 *
 * @param liveWorkers how many live workers a service has (0 when unknown).
 * @param liveServices the names of the services with live workers.
 * @internal
 */
export function mmiReply(
  name: string,
  body: readonly Frame[],
  liveWorkers: (service: string) => number,
  liveServices: () => Iterable<string>,
): Frame[] {
  if (name === "mmi.service") {
    const target = body[body.length - 1]?.toString("utf8") ?? "";
    return [Buffer.from(liveWorkers(target) > 0 ? "200" : "404")];
  }
  if (name === "mmi.services") {
    const names = [...liveServices()].sort();
    return [Buffer.from("200"), ...names.map((n) => Buffer.from(n))];
  }
  return [Buffer.from("501")];
}
