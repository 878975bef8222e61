import { isUtf8 } from "node:buffer";
import { assertArgument, integerOption, type Codec, type Frame } from "@zg/core/pure";
import { asDecodeError, DecodeError } from "./errors.js";
import {
  checkEncodedSize,
  DEFAULT_MAX_DEPTH,
  maxBytesOption,
  singleFrame,
  type CodecLimits,
} from "./limits.js";

/** Content type of {@link jsonCodec}. */
export const JSON_CONTENT_TYPE = "application/json";

/** Keys that can reach `Object.prototype` when a parsed object is later merged or assigned. */
export const FORBIDDEN_JSON_KEYS: readonly string[] = Object.freeze([
  "__proto__",
  "constructor",
  "prototype",
]);

/** Options of {@link jsonCodec}. */
export interface JsonCodecOptions<T> extends CodecLimits {
  /**
   * Maximum nesting depth of arrays and objects (the top-level value is depth 1).
   * @defaultValue {@link DEFAULT_MAX_DEPTH}
   */
  maxDepth?: number;
  /**
   * What to do with the keys `__proto__`, `constructor` and `prototype` at any
   * depth: `"reject"` the whole message (`DecodeError` `forbidden-key`) or
   * `"strip"` them and keep the rest.
   * @defaultValue `"reject"`
   */
  forbiddenKeys?: "reject" | "strip";
  /**
   * Validates and narrows the parsed value (e.g. a zod schema's `parse`).
   * Whatever it throws becomes a `DecodeError` `invalid` with the original as
   * `cause`. Without it the value is trusted to be a `T`.
   */
  parse?: (value: unknown) => T;
}

const FORBIDDEN = new Set(FORBIDDEN_JSON_KEYS);

/**
 * JSON in one UTF-8 frame, parsed safely:
 *
 * 1. the frame size is checked against `maxBytes` before anything else;
 * 2. invalid UTF-8 is rejected;
 * 3. `JSON.parse` (V8's parser is iterative, so deep input cannot overflow the stack);
 * 4. one walk of the result enforces `maxDepth` and removes or rejects
 *    `__proto__` / `constructor` / `prototype` keys, so a decoded value can be
 *    spread, merged or `Object.assign`ed without prototype pollution;
 * 5. the optional `parse` validator.
 *
 * Encoding uses `JSON.stringify`; values it cannot represent (`undefined`,
 * `bigint`, cycles) throw `ZG_INVALID_ARGUMENT`, and so does output over `maxBytes`.
 *
 * @throws (decode) {@link DecodeError} `frames`, `too-large`, `malformed`, `too-deep`, `forbidden-key`, `invalid`.
 * @example
 * ```ts
 * const codec = jsonCodec<{ n: number }>({ parse: (v) => schema.parse(v) });
 * codec.decode(codec.encode({ n: 1 })); // { n: 1 }
 * ```
 */
export function jsonCodec<T = unknown>(options: JsonCodecOptions<T> = {}): Codec<T> {
  const maxBytes = maxBytesOption(options.maxBytes);
  const maxDepth = integerOption("maxDepth", options.maxDepth, DEFAULT_MAX_DEPTH, {
    min: 1,
    max: 10_000,
  });
  const strip = (options.forbiddenKeys ?? "reject") === "strip";
  assertArgument(
    options.forbiddenKeys === undefined ||
      options.forbiddenKeys === "reject" ||
      options.forbiddenKeys === "strip",
    `forbiddenKeys must be "reject" or "strip", got ${String(options.forbiddenKeys)}`,
  );
  const parse = options.parse;
  const ct = JSON_CONTENT_TYPE;
  return {
    contentType: ct,
    encode(value: T): Frame[] {
      // JSON.stringify returns undefined (despite its typing) for undefined, functions and symbols.
      let text: unknown;
      try {
        text = JSON.stringify(value);
      } catch (error) {
        assertArgument(
          false,
          `${ct}: value cannot be encoded: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (typeof text !== "string")
        assertArgument(false, `${ct}: value cannot be encoded (undefined, a function or a symbol)`);
      const frame = Buffer.from(text, "utf8");
      checkEncodedSize(frame.length, maxBytes, ct);
      return [frame];
    },
    decode(frames: readonly Frame[]): T {
      const frame = singleFrame(frames, maxBytes, ct);
      if (!isUtf8(frame))
        throw new DecodeError("malformed", `${ct}: invalid UTF-8`, {
          details: { contentType: ct },
        });
      let value: unknown;
      try {
        value = JSON.parse(
          Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("utf8"),
        );
      } catch (error) {
        throw asDecodeError(error, ct);
      }
      sanitize(value, 1, maxDepth, strip);
      if (parse === undefined) return value as T;
      try {
        return parse(value);
      } catch (error) {
        throw new DecodeError(
          "invalid",
          `${ct}: rejected by parse: ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
            details: { contentType: ct },
          },
        );
      }
    },
  };
}

/**
 * Walks a freshly parsed JSON value: enforces the depth limit and removes or
 * rejects forbidden keys. Recursion depth is bounded by `maxDepth`.
 */
function sanitize(value: unknown, depth: number, maxDepth: number, strip: boolean): void {
  if (typeof value !== "object" || value === null) return;
  if (depth > maxDepth) {
    throw new DecodeError(
      "too-deep",
      `${JSON_CONTENT_TYPE}: nesting exceeds maxDepth ${maxDepth}`,
      { details: { contentType: JSON_CONTENT_TYPE, maxDepth } },
    );
  }
  if (Array.isArray(value)) {
    for (const item of value) sanitize(item, depth + 1, maxDepth, strip);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (FORBIDDEN.has(key)) {
      if (!strip) {
        throw new DecodeError(
          "forbidden-key",
          `${JSON_CONTENT_TYPE}: forbidden key ${JSON.stringify(key)}`,
          { details: { contentType: JSON_CONTENT_TYPE, key } },
        );
      }
      delete record[key];
      continue;
    }
    sanitize(record[key], depth + 1, maxDepth, strip);
  }
}
