import { toFrame, type Codec, type Frame } from "@zg/core/pure";
import { checkEncodedSize, maxBytesOption, singleFrame, type CodecLimits } from "./limits.js";

/** Content type of {@link bytesCodec}. */
export const BYTES_CONTENT_TYPE = "application/octet-stream";

/**
 * Raw bytes in one frame, unchanged. Decoding returns the received frame
 * itself (no copy), so it shares memory with the message.
 *
 * @throws (decode) {@link DecodeError} `frames` when the message is not one frame, `too-large` over `maxBytes`.
 * @example
 * ```ts
 * const codec = bytesCodec();
 * codec.decode(codec.encode(Buffer.from([1, 2, 3]))); // <Buffer 01 02 03>
 * ```
 */
export function bytesCodec(options: CodecLimits = {}): Codec<Uint8Array> {
  const maxBytes = maxBytesOption(options.maxBytes);
  return {
    contentType: BYTES_CONTENT_TYPE,
    encode(value: Uint8Array): Frame[] {
      checkEncodedSize(value.length, maxBytes, BYTES_CONTENT_TYPE);
      return [toFrame(value)];
    },
    decode(frames: readonly Frame[]): Uint8Array {
      return singleFrame(frames, maxBytes, BYTES_CONTENT_TYPE);
    },
  };
}
