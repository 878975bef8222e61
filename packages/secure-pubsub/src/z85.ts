import { ZgError } from "@zg/core/pure";

const ALPHABET =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/**
 * Z85-encodes `bytes` (zeromq/rfc 32/Z85, the text form of CURVE keys).
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` when the length is not a multiple of 4.
 */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      `Z85 input length must be a multiple of 4, got ${bytes.length}`,
    );
  }
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let v =
      ((bytes[i] as number) * 0x1000000 +
        ((bytes[i + 1] as number) << 16) +
        ((bytes[i + 2] as number) << 8) +
        (bytes[i + 3] as number)) >>>
      0;
    const chunk = new Array<string>(5);
    for (let j = 4; j >= 0; j--) {
      chunk[j] = ALPHABET[v % 85] as string;
      v = Math.floor(v / 85);
    }
    out += chunk.join("");
  }
  return out;
}

/**
 * Decodes Z85 text (32/Z85).
 *
 * @throws {@link ZgError} `ZG_DECODE` for a length not a multiple of 5, a
 * character outside the alphabet, or a group above 2^32 - 1.
 */
export function z85Decode(text: string): Uint8Array {
  if (typeof text !== "string" || text.length % 5 !== 0) {
    throw new ZgError("ZG_DECODE", "Z85 text length must be a multiple of 5");
  }
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let v = 0;
    for (let j = 0; j < 5; j++) {
      const c = text.charCodeAt(i + j);
      const d = c < 128 ? (DECODE[c] as number) : -1;
      if (d < 0) throw new ZgError("ZG_DECODE", `invalid Z85 character at ${i + j}`);
      v = v * 85 + d;
    }
    if (v > 0xffffffff) throw new ZgError("ZG_DECODE", `Z85 group at ${i} overflows 32 bits`);
    out[o] = v >>> 24;
    out[o + 1] = (v >>> 16) & 0xff;
    out[o + 2] = (v >>> 8) & 0xff;
    out[o + 3] = v & 0xff;
  }
  return out;
}

/** True when `text` is a 40-character Z85 CURVE key. */
export function isZ85Key(text: unknown): boolean {
  if (typeof text !== "string" || text.length !== 40) return false;
  try {
    z85Decode(text);
    return true;
  } catch {
    return false;
  }
}
