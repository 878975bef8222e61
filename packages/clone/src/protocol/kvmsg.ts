// The kvmsg codec of 12/CHP (Guide ch. 5, "Working with Subtrees" onwards):
// pure functions from five frames to a typed message and back, no sockets.
import { randomUUID } from "node:crypto";
import {
  decodeInt64BE,
  decodeProperties,
  encodeProperties,
  encodeUint64BE,
  ProtocolError,
  ZgError,
  type Frame,
  type Message,
} from "@zg/core";

/** Largest key kvmsg carries, bytes (the Guide's `kvmsg` caps keys at 255). */
export const MAX_KVMSG_KEY_SIZE = 255;
/** Bytes of a binary UUID frame. */
export const KVMSG_UUID_SIZE = 16;
/** Properties decoded per message at most (bad input beyond that is a decode error). */
export const MAX_KVMSG_PROPERTIES = 64;

/** The ICANHAZ command (snapshot request, client → server). */
export const ICANHAZ = "ICANHAZ?";
/** The end-of-snapshot command (server → client). */
export const KTHXBAI = "KTHXBAI";
/** The idle heartbeat key (server → client, on the publisher). */
export const HUGZ = "HUGZ";

/**
 * One kvmsg (12/CHP): `[key][sequence: 8 bytes big-endian][uuid: 16 bytes or
 * empty][properties: name=value\n…][body]`. An empty body means "delete the key".
 */
export interface KvMsg {
  /** The key (UTF-8 on the wire, ≤ {@link MAX_KVMSG_KEY_SIZE} bytes). Subtrees are key prefixes. */
  key: string;
  /** Sequence number: assigned by the server, 0 (ignored) in a client's update. */
  sequence: bigint;
  /** 16-byte UUID of the update, or an empty buffer when the sender set none. */
  uuid: Buffer;
  /** Properties (`ttl` in seconds, others opaque). */
  properties: Map<string, string>;
  /** The value; empty = delete. */
  body: Buffer;
}

/** Why a frame sequence is not a kvmsg. */
export type KvMsgDecodeReason =
  "frame-count" | "key-size" | "key-encoding" | "sequence" | "uuid" | "properties";

/**
 * A frame sequence that is not a kvmsg: a `ZG_PROTOCOL` error (counted and
 * dropped by components, never thrown out of a loop) with a typed `reason`.
 */
export class KvMsgDecodeError extends ProtocolError {
  /** What was wrong. */
  readonly reason: KvMsgDecodeReason;
  constructor(reason: KvMsgDecodeReason, message: string, options: { cause?: unknown } = {}) {
    super(`kvmsg ${reason}: ${message}`, { ...options, details: { reason } });
    this.reason = reason;
  }
  override get name(): string {
    return "KvMsgDecodeError";
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A fresh random 16-byte UUID (v4). */
export function newUuid(): Buffer {
  return Buffer.from(randomUUID().replace(/-/g, ""), "hex");
}

/** Decodes a key frame. @throws {@link KvMsgDecodeError} */
export function decodeKey(frame: Frame, maxKeySize = MAX_KVMSG_KEY_SIZE): string {
  if (frame.length > maxKeySize) {
    throw new KvMsgDecodeError("key-size", `key is ${frame.length} bytes, limit ${maxKeySize}`);
  }
  try {
    return utf8.decode(frame);
  } catch (error) {
    throw new KvMsgDecodeError("key-encoding", "key is not UTF-8", { cause: error });
  }
}

const NO_PROPERTIES = Buffer.alloc(0);

/**
 * Decodes five frames into a {@link KvMsg}. The message keeps the `uuid` and
 * `body` frames themselves (no copy: zeromq.js hands out a fresh Buffer per
 * frame); copy them if you reuse the frames.
 *
 * @throws {@link KvMsgDecodeError} for anything that is not a kvmsg: not 5
 * frames, a key over `maxKeySize` or not UTF-8, a sequence frame that is not
 * 8 bytes or is negative, a UUID that is neither 16 bytes nor empty, a bad
 * property block.
 */
export function decodeKvMsg(
  frames: readonly Frame[],
  { maxKeySize = MAX_KVMSG_KEY_SIZE }: { maxKeySize?: number } = {},
): KvMsg {
  if (frames.length !== 5) {
    throw new KvMsgDecodeError("frame-count", `expected 5 frames, got ${frames.length}`);
  }
  const [keyFrame, seqFrame, uuidFrame, propFrame, body] = frames as [
    Frame,
    Frame,
    Frame,
    Frame,
    Frame,
  ];
  const key = decodeKey(keyFrame, maxKeySize);
  if (seqFrame.length !== 8) {
    throw new KvMsgDecodeError("sequence", `sequence frame is ${seqFrame.length} bytes, not 8`);
  }
  const sequence = decodeInt64BE(seqFrame, "sequence");
  if (sequence < 0n) throw new KvMsgDecodeError("sequence", `negative sequence ${sequence}`);
  if (uuidFrame.length !== KVMSG_UUID_SIZE && uuidFrame.length !== 0) {
    throw new KvMsgDecodeError("uuid", `uuid frame is ${uuidFrame.length} bytes, not 16 or 0`);
  }
  let properties: Map<string, string>;
  try {
    properties =
      propFrame.length === 0
        ? new Map<string, string>()
        : decodeProperties(propFrame, { maxProperties: MAX_KVMSG_PROPERTIES });
  } catch (error) {
    throw new KvMsgDecodeError("properties", (error as Error).message, { cause: error });
  }
  return { key, sequence, uuid: uuidFrame, properties, body };
}

/**
 * Encodes a {@link KvMsg} as its five frames.
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a key over 255 bytes, a
 * negative or oversized sequence, a UUID that is neither 16 bytes nor empty,
 * or a property name/value that cannot be written.
 */
export function encodeKvMsg(msg: KvMsg): Message {
  const key = Buffer.from(msg.key, "utf8");
  if (key.length > MAX_KVMSG_KEY_SIZE) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      `key is ${key.length} bytes, limit ${MAX_KVMSG_KEY_SIZE}`,
    );
  }
  if (msg.sequence < 0n) {
    throw new ZgError("ZG_INVALID_ARGUMENT", `sequence must be >= 0, got ${msg.sequence}`);
  }
  if (msg.uuid.length !== KVMSG_UUID_SIZE && msg.uuid.length !== 0) {
    throw new ZgError("ZG_INVALID_ARGUMENT", `uuid must be 16 bytes or empty`);
  }
  const props = msg.properties.size === 0 ? NO_PROPERTIES : encodeProperties(msg.properties);
  return [key, encodeUint64BE(msg.sequence), msg.uuid, props, msg.body];
}

/** The `ttl` property in ms, or undefined when absent, not a number, or ≤ 0. */
export function ttlOf(msg: KvMsg): number | undefined {
  const raw = msg.properties.get("ttl");
  if (raw === undefined) return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) return undefined;
  return seconds * 1000;
}

/** A client's snapshot request: `["ICANHAZ?"][subtree]` (2 frames, model 4 onwards). */
export function encodeIcanhaz(subtree: string): Message {
  return [Buffer.from(ICANHAZ), Buffer.from(subtree, "utf8")];
}

/**
 * Decodes a snapshot request body (the frames after the ROUTER identity):
 * `["ICANHAZ?"]` (models 2–3, whole map) or `["ICANHAZ?"][subtree]`.
 *
 * @throws {@link KvMsgDecodeError} for anything else.
 */
export function decodeIcanhaz(frames: readonly Frame[]): { subtree: string } {
  const [command, subtree, ...rest] = frames;
  if (command === undefined || rest.length > 0 || command.toString("latin1") !== ICANHAZ) {
    throw new KvMsgDecodeError("frame-count", "not an ICANHAZ? request");
  }
  return { subtree: subtree === undefined ? "" : decodeKey(subtree) };
}

/**
 * The end-of-snapshot message: `["KTHXBAI"][sequence][""][props][subtree]`.
 * zg adds a `count=<entries sent>` property (the spec leaves the property
 * frame open) so a client can tell a complete snapshot from a truncated one.
 */
export function kthxbai(sequence: bigint, subtree: string, count?: number, run?: string): KvMsg {
  const properties = new Map<string, string>();
  if (count !== undefined) properties.set("count", String(count));
  if (run !== undefined) properties.set("run", run);
  return {
    key: KTHXBAI,
    sequence,
    uuid: Buffer.alloc(0),
    properties,
    body: Buffer.from(subtree, "utf8"),
  };
}

/**
 * The heartbeat: `["HUGZ"][current sequence][""][props][""]`; with `ts` (the
 * sender's wall clock, epoch ms) the property block holds `ts=<ms>` so a
 * client can measure its lag (beyond the Guide; 12/CHP leaves it open).
 */
export function hugz(sequence: bigint, ts?: number, run?: string): KvMsg {
  const properties = new Map<string, string>();
  if (ts !== undefined) properties.set("ts", String(Math.round(ts)));
  if (run !== undefined) properties.set("run", run);
  return { key: HUGZ, sequence, uuid: Buffer.alloc(0), properties, body: Buffer.alloc(0) };
}
