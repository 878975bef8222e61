import { isUtf8 } from "node:buffer";
import type { Codec, Frame } from "@zg/core/pure";
import { DecodeError } from "./errors.js";
import { checkEncodedSize, maxBytesOption, singleFrame, type CodecLimits } from "./limits.js";

/** Content type of {@link textCodec}. */
export const TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";

/**
 * UTF-8 text in one frame, without a trailing NUL (as CZMQ `zstr_send` and
 * pyzmq `send_string` send it). Invalid UTF-8 is rejected, not replaced with
 * U+FFFD, so a corrupted frame never turns silently into a different string.
 *
 * @throws (decode) {@link DecodeError} `frames`, `too-large` or `malformed` (invalid UTF-8).
 * @example
 * ```ts
 * textCodec().decode([Buffer.from("hello")]); // "hello"
 * ```
 */
export function textCodec(options: CodecLimits = {}): Codec<string> {
  const maxBytes = maxBytesOption(options.maxBytes);
  return {
    contentType: TEXT_CONTENT_TYPE,
    encode(value: string): Frame[] {
      const frame = Buffer.from(value, "utf8");
      checkEncodedSize(frame.length, maxBytes, TEXT_CONTENT_TYPE);
      return [frame];
    },
    decode(frames: readonly Frame[]): string {
      const frame = singleFrame(frames, maxBytes, TEXT_CONTENT_TYPE);
      if (!isUtf8(frame))
        throw new DecodeError("malformed", `${TEXT_CONTENT_TYPE}: invalid UTF-8`, {
          details: { contentType: TEXT_CONTENT_TYPE },
        });
      return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("utf8");
    },
  };
}
