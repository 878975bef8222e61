import { EMPTY_FRAME, type Frame } from "./frames.js";
import { ProtocolError } from "./errors.js";

/**
 * A ROUTER message split at its first empty delimiter: the identity stack
 * (`envelope`, outermost first) and the `body` after the delimiter.
 */
export interface Envelope {
  /** Routing ids, outermost (the one ROUTER prepended last) first. */
  envelope: Frame[];
  /** The frames after the empty delimiter. */
  body: Frame[];
}

/**
 * Splits `[id…][""][body…]` at the first empty frame.
 *
 * @throws {@link ProtocolError} when there is no empty delimiter, or more than
 * `maxHops` routing ids before it.
 */
export function splitEnvelope(message: readonly Frame[], maxHops = 8): Envelope {
  const at = message.findIndex((f) => f.length === 0);
  if (at < 0) throw new ProtocolError("no empty delimiter frame in envelope");
  if (at > maxHops) throw new ProtocolError(`envelope has ${at} routing ids, limit ${maxHops}`);
  return { envelope: message.slice(0, at), body: message.slice(at + 1) };
}

/** Builds `[id…][""][body…]`: pushes an identity stack and the empty delimiter. */
export function wrapEnvelope(envelope: readonly Frame[], body: readonly Frame[]): Frame[] {
  return [...envelope, EMPTY_FRAME, ...body];
}

/** Builds `[id][""][body…]` for one routing id (the common one-hop case). */
export function wrap(id: Frame, body: readonly Frame[]): Frame[] {
  return [id, EMPTY_FRAME, ...body];
}

/**
 * Pops one routing id and, if present, the empty delimiter after it:
 * `[id][""][body…]` → `{ id, body }`; `[id][body…]` (DEALER peers that send no
 * delimiter) → `{ id, body, delimited: false }`.
 *
 * @throws {@link ProtocolError} on an empty message.
 */
export function unwrap(message: readonly Frame[]): {
  id: Frame;
  body: Frame[];
  delimited: boolean;
} {
  const id = message[0];
  if (id === undefined) throw new ProtocolError("empty message has no routing id");
  const delimited = message[1]?.length === 0;
  return { id, body: message.slice(delimited ? 2 : 1), delimited };
}

/**
 * A string key for a routing id, for use in `Map`s. Routing ids are opaque
 * binary (libzmq's generated ones start with 0x00), so the key is the bytes in
 * latin1, which is lossless and cheap.
 */
export function identityKey(id: Uint8Array): string {
  // Frames from zeromq.js are Buffers already: no view to allocate per message on a broker's hot path.
  return (Buffer.isBuffer(id) ? id : Buffer.from(id.buffer, id.byteOffset, id.length)).toString(
    "latin1",
  );
}

/** The routing id for a key made by {@link identityKey}. */
export function identityFromKey(key: string): Frame {
  return Buffer.from(key, "latin1");
}

/** A printable form of a routing id for logs: text when printable, hex otherwise. */
export function formatIdentity(id: Uint8Array): string {
  const b = Buffer.from(id.buffer, id.byteOffset, id.length);
  for (const byte of b) if (byte < 0x20 || byte > 0x7e) return `0x${b.toString("hex")}`;
  return b.toString("latin1");
}
