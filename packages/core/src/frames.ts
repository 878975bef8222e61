import { ProtocolError, ZgError } from "./errors.js";

/** One ZeroMQ frame as zeromq.js delivers it. */
export type Frame = Buffer;

/** A multipart message: the frames of one `send()` / `receive()`. */
export type Message = Buffer[];

/** Anything {@link toFrame} turns into a frame: bytes or a string (UTF-8, no trailing NUL). */
export type FrameLike = Buffer | Uint8Array | string;

const EMPTY = Buffer.alloc(0);

/** The empty frame (`""`), shared and immutable by convention: never write into it. */
export const EMPTY_FRAME: Frame = EMPTY;

/**
 * Converts bytes or a string to a frame. Strings travel as UTF-8 without a
 * trailing NUL, as CZMQ `zstr_send` and pyzmq `send_string` do.
 */
export function toFrame(value: FrameLike): Frame {
  if (typeof value === "string") return Buffer.from(value, "utf8");
  if (Buffer.isBuffer(value)) return value;
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Builds a multipart message from frame-like values. */
export function toMessage(...parts: FrameLike[]): Message {
  return parts.map(toFrame);
}

/** Total payload bytes of a message (sum of frame lengths). */
export function messageSize(message: readonly Frame[]): number {
  let n = 0;
  for (const f of message) n += f.length;
  return n;
}

/** True when both frames hold the same bytes. */
export function framesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** True when the frame is empty (the REQ/ROUTER delimiter). */
export function isEmptyFrame(frame: Uint8Array | undefined): boolean {
  return frame !== undefined && frame.length === 0;
}

/**
 * Returns frame `index` or throws a {@link ProtocolError} naming `what`, so a
 * short message never turns into `undefined` deeper in a handler.
 *
 * @throws {@link ProtocolError} when the frame is missing.
 */
export function frameAt(message: readonly Frame[], index: number, what = `frame ${index}`): Frame {
  const f = message[index];
  if (f === undefined) {
    throw new ProtocolError(`missing ${what} (message has ${message.length} frames)`, {
      details: { index, frames: message.length },
    });
  }
  return f;
}

/**
 * A cursor over a multipart message for codecs: each `take*` consumes one
 * frame or raises a {@link ProtocolError} naming what was expected.
 *
 * @example
 * ```ts
 * const r = new FrameReader(msg);
 * const header = r.takeString("header");
 * const body = r.rest();
 * ```
 */
export class FrameReader {
  #index = 0;
  readonly #message: readonly Frame[];

  constructor(message: readonly Frame[]) {
    this.#message = message;
  }

  /** Frames not yet consumed. */
  get remaining(): number {
    return this.#message.length - this.#index;
  }

  /** Index of the next frame. */
  get position(): number {
    return this.#index;
  }

  /** The next frame without consuming it, or `undefined` at the end. */
  peek(): Frame | undefined {
    return this.#message[this.#index];
  }

  /** Consumes and returns the next frame. @throws {@link ProtocolError} at the end. */
  take(what?: string): Frame {
    const f = frameAt(this.#message, this.#index, what);
    this.#index++;
    return f;
  }

  /** Consumes the next frame as a UTF-8 string. */
  takeString(what?: string): string {
    return this.take(what).toString("utf8");
  }

  /** Consumes the next frame, which must be empty (a delimiter). */
  takeEmpty(what = "empty delimiter frame"): void {
    const f = this.take(what);
    if (f.length !== 0) {
      throw new ProtocolError(
        `expected ${what} at frame ${this.#index - 1}, got ${f.length} bytes`,
      );
    }
  }

  /** Consumes a single-byte command frame and returns the byte. */
  takeCommand(what = "command frame"): number {
    return decodeCommand(this.take(what), what);
  }

  /** Consumes and returns every remaining frame. */
  rest(): Frame[] {
    const out = this.#message.slice(this.#index);
    this.#index = this.#message.length;
    return out;
  }

  /** Throws unless every frame has been consumed. */
  end(what = "message"): void {
    if (this.remaining !== 0) {
      throw new ProtocolError(`${what} has ${this.remaining} unexpected trailing frame(s)`);
    }
  }
}

// ---------------------------------------------------------------------------
// The Guide's encodings
// ---------------------------------------------------------------------------

/** Encodes a single-byte command frame (PPP `0x01` READY, MDP `0x04` HEARTBEAT, …). */
export function encodeCommand(command: number): Frame {
  if (!Number.isInteger(command) || command < 0 || command > 255) {
    throw new ZgError("ZG_INVALID_ARGUMENT", `command must be a byte, got ${command}`);
  }
  return Buffer.from([command]);
}

/** Decodes a single-byte command frame. @throws {@link ProtocolError} unless exactly one byte. */
export function decodeCommand(frame: Uint8Array, what = "command frame"): number {
  if (frame.length !== 1) {
    throw new ProtocolError(`${what} must be 1 byte, got ${frame.length}`);
  }
  return frame[0] as number;
}

const MAX_U64 = (1n << 64n) - 1n;
const MIN_I64 = -(1n << 63n);

/**
 * Encodes a sequence number as 8 bytes, big-endian (CHP kvmsg `sequence`).
 * Accepts the signed and unsigned 64-bit ranges.
 */
export function encodeUint64BE(value: bigint | number): Frame {
  const v = typeof value === "number" ? BigInt(value) : value;
  if (v < MIN_I64 || v > MAX_U64) {
    throw new ZgError("ZG_INVALID_ARGUMENT", `value ${v} does not fit in 64 bits`);
  }
  const buf = Buffer.allocUnsafe(8);
  if (v < 0n) buf.writeBigInt64BE(v);
  else buf.writeBigUInt64BE(v);
  return buf;
}

/** Decodes an 8-byte big-endian unsigned integer. @throws {@link ProtocolError} unless 8 bytes. */
export function decodeUint64BE(frame: Uint8Array, what = "64-bit integer frame"): bigint {
  if (frame.length !== 8) throw new ProtocolError(`${what} must be 8 bytes, got ${frame.length}`);
  return Buffer.from(frame.buffer, frame.byteOffset, 8).readBigUInt64BE(0);
}

/** Decodes an 8-byte big-endian signed integer (CZMQ writes kvmsg sequences signed). */
export function decodeInt64BE(frame: Uint8Array, what = "64-bit integer frame"): bigint {
  if (frame.length !== 8) throw new ProtocolError(`${what} must be 8 bytes, got ${frame.length}`);
  return Buffer.from(frame.buffer, frame.byteOffset, 8).readBigInt64BE(0);
}

/** Encodes a non-negative integer as ASCII decimal (Lazy Pirate and Freelance sequence numbers). */
export function encodeDecimal(value: number | bigint): Frame {
  if (typeof value === "number" && (!Number.isSafeInteger(value) || value < 0)) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      `decimal frames hold non-negative integers, got ${value}`,
    );
  }
  if (typeof value === "bigint" && value < 0n) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      `decimal frames hold non-negative integers, got ${value}`,
    );
  }
  return Buffer.from(value.toString(10), "ascii");
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Decodes an ASCII decimal frame strictly: digits only, no sign, no spaces, no
 * leading zeros, at most 15 digits (a safe integer).
 *
 * @throws {@link ProtocolError} on anything else.
 */
export function decodeDecimal(frame: Uint8Array, what = "decimal frame"): number {
  if (frame.length === 0 || frame.length > 15) {
    throw new ProtocolError(`${what} must be 1-15 ASCII digits, got ${frame.length} bytes`);
  }
  const s = Buffer.from(frame.buffer, frame.byteOffset, frame.length).toString("latin1");
  if (!DECIMAL.test(s)) throw new ProtocolError(`${what} is not an ASCII decimal`);
  return Number(s);
}

/**
 * Encodes a `name=value\n` property block (CHP kvmsg properties, ZPL-like
 * headers). Names may not contain `=` or newline; values may not contain newline.
 */
export function encodeProperties(
  props: Iterable<readonly [string, string]> | Record<string, string>,
): Frame {
  const entries: Iterable<readonly [string, string]> =
    Symbol.iterator in props ? props : Object.entries(props);
  let out = "";
  for (const [name, value] of entries) {
    if (name.length === 0 || /[=\n]/.test(name)) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `property name ${JSON.stringify(name)} is empty or holds '=' or newline`,
      );
    }
    if (value.includes("\n")) {
      throw new ZgError("ZG_INVALID_ARGUMENT", `property ${name} value holds a newline`);
    }
    out += `${name}=${value}\n`;
  }
  return Buffer.from(out, "utf8");
}

/**
 * Decodes a `name=value\n` property block into a `Map` (insertion order kept;
 * a repeated name keeps the last value). A final line without `\n` is accepted.
 *
 * @throws {@link ProtocolError} on a line without `=` or an empty name.
 */
export function decodeProperties(
  frame: Uint8Array,
  { maxProperties = 1024 } = {},
): Map<string, string> {
  const text = Buffer.from(frame.buffer, frame.byteOffset, frame.length).toString("utf8");
  const out = new Map<string, string>();
  if (text.length === 0) return out;
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length > maxProperties) {
    throw new ProtocolError(`property block has ${lines.length} entries, limit ${maxProperties}`);
  }
  for (const line of lines) {
    const eq = line.indexOf("=");
    if (eq <= 0)
      throw new ProtocolError(`property line without a name: ${JSON.stringify(line.slice(0, 40))}`);
    out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}
