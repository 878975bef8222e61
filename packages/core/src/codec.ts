import type { Frame } from "./frames.js";

/**
 * The payload codec contract pattern packages accept (`codec` options), so
 * they can carry typed values without depending on a serializer. `@zg/serialize`
 * provides implementations (bytes, text, JSON, protobuf).
 *
 * `decode` receives untrusted bytes: it must throw only `ZG_DECODE` errors,
 * never hang, and never allocate without bound.
 */
export interface Codec<T> {
  /** Names the encoding and schema, e.g. `"application/json"` or `"proto:zg.Clone.KeyValue"`. */
  readonly contentType: string;
  /** Encodes a value as one or more frames. */
  encode(value: T): Frame[];
  /** Decodes frames produced by `encode` (possibly by another version of the peer). */
  decode(frames: readonly Frame[]): T;
}
