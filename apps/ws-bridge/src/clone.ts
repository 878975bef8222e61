// Pure helpers of the bridge's Clone subtrees: server addresses, the allow-list,
// and the snapshot as a bounded series of messages. No sockets.
import type { CloneAddress } from "@zg/clone";
import { assertArgument } from "@zg/core";
import { encodeFrame, type ServerMessage } from "./protocol.js";

/** Largest `clone-snapshot` message the bridge builds, bytes of values and keys (project-chosen). */
export const WS_BRIDGE_CLONE_SNAPSHOT_BYTES = 65_536;
/** Most entries in one `clone-snapshot` message (project-chosen). */
export const WS_BRIDGE_CLONE_SNAPSHOT_ENTRIES = 256;

/**
 * The Clone servers named by `--clone`: one or two `tcp://host:P` (a server,
 * or an HA pair, 12/CHP ports P, P+1, P+2), or three endpoints per server
 * (`snapshot,publisher,collector`; six for a pair).
 *
 * @throws ZgError `ZG_INVALID_ARGUMENT` for any other count.
 */
export function cloneServers(list: readonly string[]): CloneAddress[] {
  if (list.length === 1 || list.length === 2) return [...list];
  assertArgument(
    list.length === 3 || list.length === 6,
    `clone takes tcp://host:P (one or two) or snapshot,publisher,collector (three per server), got ${list.length} endpoints`,
  );
  const out: CloneAddress[] = [];
  for (let i = 0; i < list.length; i += 3)
    out.push({
      snapshot: list[i] ?? "",
      publisher: list[i + 1] ?? "",
      collector: list[i + 2] ?? "",
    });
  return out;
}

/** `true` when `prefix` lies under one of the `allowed` subtrees (`*` allows any). */
export function subtreeAllowed(prefix: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => a === "*" || prefix.startsWith(a));
}

/**
 * A snapshot as `clone-snapshot` messages of at most
 * {@link WS_BRIDGE_CLONE_SNAPSHOT_ENTRIES} entries and about
 * {@link WS_BRIDGE_CLONE_SNAPSHOT_BYTES} bytes each (one entry at least); the
 * last has `more: false`. An empty snapshot is one message with no entries.
 */
export function* snapshotMessages(
  id: number | null,
  prefix: string,
  sequence: bigint,
  entries: Iterable<[string, Buffer]>,
  resync: boolean,
): Generator<Extract<ServerMessage, { type: "clone-snapshot" }>> {
  const base = { type: "clone-snapshot", id, prefix, sequence: String(sequence), resync } as const;
  let batch: [string, ReturnType<typeof encodeFrame>][] = [];
  let bytes = 0;
  for (const [key, value] of entries) {
    const size = Buffer.byteLength(key) + value.length;
    if (
      batch.length > 0 &&
      (batch.length >= WS_BRIDGE_CLONE_SNAPSHOT_ENTRIES ||
        bytes + size > WS_BRIDGE_CLONE_SNAPSHOT_BYTES)
    ) {
      yield { ...base, entries: batch, more: true };
      batch = [];
      bytes = 0;
    }
    batch.push([key, encodeFrame(value)]);
    bytes += size;
  }
  yield { ...base, entries: batch, more: false };
}
