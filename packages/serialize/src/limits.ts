import { assertArgument, type Frame } from "@zg/core/pure";
import { DecodeError } from "./errors.js";

/**
 * Default upper bound on a codec's input (and output), in bytes: 1 MiB, the
 * Guide's credit-flow window (`notes.txt` `TRANSIT_TOTAL`). Project-defined:
 * the Guide sets no payload limit. Checked before any decoding, so a hostile
 * frame cannot make a decoder allocate more than a small multiple of it.
 */
export const DEFAULT_MAX_BYTES = 1_048_576;

/**
 * Default maximum JSON nesting depth: 64. Project-defined (the Guide has no
 * JSON); deep enough for real documents, far below any stack limit.
 */
export const DEFAULT_MAX_DEPTH = 64;

/** Options every codec accepts. */
export interface CodecLimits {
  /**
   * Largest accepted input (decode) and output (encode) in bytes.
   * @defaultValue {@link DEFAULT_MAX_BYTES}
   */
  maxBytes?: number;
}

/** Validates `maxBytes`. @internal */
export function maxBytesOption(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_BYTES;
  assertArgument(
    Number.isSafeInteger(value) && value >= 1,
    `maxBytes must be a positive integer, got ${String(value)}`,
  );
  return value;
}

/**
 * Returns the single frame of a one-frame codec, after checking its size
 * against `maxBytes`. @internal
 *
 * @throws {@link DecodeError} `frames` or `too-large`.
 */
export function singleFrame(
  frames: readonly Frame[],
  maxBytes: number,
  contentType: string,
): Frame {
  if (frames.length !== 1) {
    throw new DecodeError("frames", `${contentType}: expected 1 frame, got ${frames.length}`, {
      details: { contentType, frames: frames.length },
    });
  }
  const frame = frames[0] as Frame;
  if (!(frame instanceof Uint8Array)) {
    throw new DecodeError("malformed", `${contentType}: frame is not bytes`, {
      details: { contentType },
    });
  }
  if (frame.length > maxBytes) {
    throw new DecodeError(
      "too-large",
      `${contentType}: ${frame.length} bytes exceeds maxBytes ${maxBytes}`,
      { details: { contentType, size: frame.length, maxBytes } },
    );
  }
  return frame;
}

/** Throws `ZG_INVALID_ARGUMENT` when an encoded value is over `maxBytes`. @internal */
export function checkEncodedSize(size: number, maxBytes: number, contentType: string): void {
  // Not assertArgument(cond, `template`): that would build the message on every encode.
  if (size > maxBytes)
    assertArgument(
      false,
      `${contentType}: encoded value is ${size} bytes, over maxBytes ${maxBytes}`,
    );
}
