import * as zmq from "zeromq";
import { ZgError } from "./errors.js";

/**
 * Oldest libzmq zg runs on: 4.3.3 fixed the last published advisories
 * (CVE-2020-15166, CVE-2021-20236, …; reliability-battery.md §5.3).
 */
export const MIN_LIBZMQ_VERSION = "4.3.3";

function versionAtLeast(v: string, min: string): boolean {
  const a = v.split(".").map(Number);
  const b = min.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * Refuses to run on an old libzmq, or without CURVE when `curve` is asked for.
 *
 * @throws {@link ZgError} `ZG_STATE` naming the version or capability found.
 */
export function assertLibzmq({
  curve = false,
  draft = false,
}: { curve?: boolean; draft?: boolean } = {}): void {
  if (!versionAtLeast(zmq.version, MIN_LIBZMQ_VERSION)) {
    throw new ZgError("ZG_STATE", `libzmq ${zmq.version} is older than ${MIN_LIBZMQ_VERSION}`);
  }
  if (curve && zmq.capability.curve !== true)
    throw new ZgError("ZG_STATE", "libzmq was built without CURVE");
  if (draft && zmq.capability.draft !== true)
    throw new ZgError("ZG_STATE", "libzmq was built without draft sockets");
}
