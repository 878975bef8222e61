import { assertArgument, type Codec, type Frame } from "@zg/core/pure";
import { DecodeError } from "./errors.js";

/**
 * First bytes of a typed-envelope header frame: "ZGE" plus the envelope
 * format version "1" (protocols.md §17.1: a version-tagged header frame, MDP style).
 */
export const ENVELOPE_SIGNATURE = "ZGE1";

/** Content type of a {@link TypedEnvelope}. */
export const ENVELOPE_CONTENT_TYPE = "application/vnd.zg.envelope.v1";

/** Longest accepted type name, in bytes. */
export const MAX_TYPE_NAME = 128;

/** Highest accepted schema version. */
export const MAX_SCHEMA_VERSION = 65_535;

const TYPE_NAME = /^[A-Za-z0-9_.\-/]{1,128}$/;
const HEADER = /^ZGE1 ([A-Za-z0-9_.\-/]{1,128}) ([1-9][0-9]{0,4})$/;
const MAX_HEADER = ENVELOPE_SIGNATURE.length + 1 + MAX_TYPE_NAME + 1 + 5;

/**
 * The codecs a {@link TypedEnvelope} knows: for each type name, one codec per
 * schema version.
 *
 * @example
 * ```ts
 * const schemas = { "echo.Request": { 1: requestV1, 2: requestV2 } } satisfies EnvelopeSchemas;
 * ```
 */
export type EnvelopeSchemas = Readonly<Record<string, Readonly<Record<number, Codec<unknown>>>>>;

/** The value type of a codec. */
export type CodecValue<C> = C extends Codec<infer T> ? T : never;

/**
 * A decoded (or to-be-encoded) envelope message: a discriminated union over
 * every `(type, version)` pair of `S`, so `switch (m.type)` and
 * `if (m.version === 2)` narrow `m.value`.
 */
export type EnvelopeMessage<S extends EnvelopeSchemas> = {
  [K in keyof S & string]: {
    [V in keyof S[K] & number]: {
      readonly type: K;
      readonly version: V;
      readonly value: CodecValue<S[K][V]>;
    };
  }[keyof S[K] & number];
}[keyof S & string];

/** Options of {@link TypedEnvelope}. */
export interface TypedEnvelopeOptions {
  /**
   * Accept messages without a header frame and decode them as this
   * `(type, version)`: for talking to peers that predate the envelope. A
   * headerless message whose first frame happens to start with `"ZGE1 "` is
   * read as a header, so only use this where payloads cannot start that way.
   * Without it a missing header is a `DecodeError` `header`.
   */
  headerless?: { type: string; version: number };
}

/** A parsed header frame. */
export interface EnvelopeHeader {
  /** The schema (message type) name. */
  type: string;
  /** The schema version, 1..65535. */
  version: number;
}

/**
 * Encodes a header frame: ASCII `ZGE1 <type> <version>`.
 *
 * @throws `ZG_INVALID_ARGUMENT` for a bad type name or version.
 */
export function encodeEnvelopeHeader(type: string, version: number): Frame {
  if (!TYPE_NAME.test(type))
    assertArgument(
      false,
      `envelope type must match ${String(TYPE_NAME)}, got ${JSON.stringify(type)}`,
    );
  if (!(Number.isInteger(version) && version >= 1 && version <= MAX_SCHEMA_VERSION)) {
    assertArgument(
      false,
      `envelope version must be an integer 1..${MAX_SCHEMA_VERSION}, got ${String(version)}`,
    );
  }
  return Buffer.from(`${ENVELOPE_SIGNATURE} ${type} ${version}`, "latin1");
}

/**
 * Parses a header frame, or returns `undefined` when the frame does not start
 * with the signature (a headerless message).
 *
 * @throws {@link DecodeError} `header` when it starts with the signature but is malformed.
 */
export function decodeEnvelopeHeader(frame: Frame | undefined): EnvelopeHeader | undefined {
  if (!(frame instanceof Uint8Array) || frame.length < ENVELOPE_SIGNATURE.length + 1)
    return undefined;
  if (latin1(frame, ENVELOPE_SIGNATURE.length + 1) !== `${ENVELOPE_SIGNATURE} `) return undefined;
  if (frame.length > MAX_HEADER)
    throw new DecodeError("header", `envelope header is ${frame.length} bytes, over ${MAX_HEADER}`);
  const match = HEADER.exec(latin1(frame, frame.length));
  if (match === null) throw new DecodeError("header", "malformed envelope header");
  const version = Number(match[2]);
  if (version > MAX_SCHEMA_VERSION)
    throw new DecodeError("header", `envelope version ${version} over ${MAX_SCHEMA_VERSION}`);
  return { type: match[1] as string, version };
}

function latin1(frame: Uint8Array, end: number): string {
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString("latin1", 0, end);
}

/**
 * A typed envelope: `[header][payload frames…]`, where the header frame names
 * the schema and version (`ZGE1 <type> <version>`) and the payload is encoded
 * by that version's codec. A receiver dispatches on the header and rejects a
 * type or version it does not know with a typed {@link DecodeError}
 * (`unknown-type` / `unknown-version`, naming what it knows) instead of
 * feeding the bytes to the wrong decoder.
 *
 * It is itself a `Codec`, so pattern packages can carry it as their payload codec.
 *
 * @example
 * ```ts
 * const envelope = new TypedEnvelope({ "echo.Request": { 1: requestV1, 2: requestV2 } });
 * const frames = envelope.encode({ type: "echo.Request", version: 2, value });
 * const m = envelope.decode(frames);
 * if (m.version === 2) handleV2(m.value);
 * ```
 */
export class TypedEnvelope<S extends EnvelopeSchemas> implements Codec<EnvelopeMessage<S>> {
  /** {@link ENVELOPE_CONTENT_TYPE}. */
  readonly contentType = ENVELOPE_CONTENT_TYPE;
  // Maps, not the schema object: a hostile type name such as "__proto__" or
  // "constructor" must never resolve through Object.prototype.
  readonly #codecs = new Map<string, Map<number, Codec<unknown>>>();
  // Header frames are built once per (type, version) and shared (frames are never written to).
  readonly #headers = new Map<string, Map<number, Frame>>();
  readonly #headerless: EnvelopeHeader | undefined;

  constructor(schemas: S, options: TypedEnvelopeOptions = {}) {
    for (const type of Object.keys(schemas)) {
      assertArgument(
        TYPE_NAME.test(type),
        `envelope type must match ${String(TYPE_NAME)}, got ${JSON.stringify(type)}`,
      );
      const versions = new Map<number, Codec<unknown>>();
      const byVersion = schemas[type] as Readonly<Record<number, Codec<unknown>>>;
      for (const key of Object.keys(byVersion)) {
        const version = Number(key);
        assertArgument(
          Number.isInteger(version) && version >= 1 && version <= MAX_SCHEMA_VERSION,
          `${type}: version must be an integer 1..${MAX_SCHEMA_VERSION}, got ${key}`,
        );
        const codec = byVersion[version];
        assertArgument(
          codec !== undefined && typeof codec.decode === "function",
          `${type} v${version}: not a codec`,
        );
        versions.set(version, codec);
      }
      assertArgument(versions.size > 0, `${type}: no versions`);
      this.#codecs.set(type, versions);
      this.#headers.set(
        type,
        new Map([...versions.keys()].map((v) => [v, encodeEnvelopeHeader(type, v)])),
      );
    }
    if (options.headerless !== undefined) {
      const { type, version } = options.headerless;
      assertArgument(
        this.#codecs.get(type)?.has(version) === true,
        `headerless: ${type} v${version} is not in the schemas`,
      );
      this.#headerless = { type, version };
    }
  }

  /** The versions known for `type`, ascending (empty when the type is unknown). */
  versions(type: string): number[] {
    return [...(this.#codecs.get(type)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The type names known, in declaration order. */
  types(): string[] {
    return [...this.#codecs.keys()];
  }

  /**
   * Encodes `[header][payload…]`.
   *
   * @throws `ZG_INVALID_ARGUMENT` for an unknown type/version or a value the codec refuses.
   */
  encode(message: EnvelopeMessage<S>): Frame[] {
    const m = message as { type: string; version: number; value: unknown };
    const codec = this.#codecs.get(m.type)?.get(m.version);
    const header = this.#headers.get(m.type)?.get(m.version);
    if (codec === undefined || header === undefined)
      assertArgument(false, `no codec for ${m.type} v${m.version}`);
    const payload = codec.encode(m.value);
    return payload.length === 1 ? [header, payload[0] as Frame] : [header, ...payload];
  }

  /**
   * Reads the header, picks the codec and decodes the payload.
   *
   * @throws {@link DecodeError} `header`, `unknown-type`, `unknown-version`, or whatever the payload codec raises.
   */
  decode(frames: readonly Frame[]): EnvelopeMessage<S> {
    const header = decodeEnvelopeHeader(frames[0]);
    let payload: readonly Frame[];
    let type: string;
    let version: number;
    if (header === undefined) {
      if (this.#headerless === undefined)
        throw new DecodeError("header", "message has no envelope header", {
          details: { contentType: ENVELOPE_CONTENT_TYPE },
        });
      ({ type, version } = this.#headerless);
      payload = frames;
    } else {
      ({ type, version } = header);
      payload = frames.slice(1);
    }
    const versions = this.#codecs.get(type);
    if (versions === undefined) {
      throw new DecodeError(
        "unknown-type",
        `unknown envelope type ${JSON.stringify(type)} (known: ${this.types().join(", ")})`,
        {
          details: { type, version, known: this.types() },
        },
      );
    }
    const codec = versions.get(version);
    if (codec === undefined) {
      throw new DecodeError(
        "unknown-version",
        `${type}: unknown version ${version} (known: ${this.versions(type).join(", ")})`,
        {
          details: { type, version, known: this.versions(type) },
        },
      );
    }
    return { type, version, value: codec.decode(payload) } as EnvelopeMessage<S>;
  }
}
