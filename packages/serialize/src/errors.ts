import { isZgError, ZgError } from "@zg/core/pure";

/**
 * Why a decode failed, in {@link DecodeError.reason}:
 *
 * - `too-large`: the input exceeds the codec's `maxBytes` (checked before any decoding).
 * - `frames`: the message has the wrong number of frames for the codec.
 * - `malformed`: the bytes are not valid for the format (bad UTF-8, bad JSON, bad protobuf wire data).
 * - `too-deep`: JSON nesting exceeds `maxDepth`.
 * - `forbidden-key`: JSON carries `__proto__`, `constructor` or `prototype` and the policy is `"reject"`.
 * - `invalid`: the caller's `parse` validator rejected the decoded value.
 * - `header`: a typed-envelope header frame is missing or malformed.
 * - `unknown-type`: the envelope names a type the receiver has no codec for.
 * - `unknown-version`: the envelope names a known type in a version the receiver has no codec for.
 */
export type DecodeFailure =
  | "too-large"
  | "frames"
  | "malformed"
  | "too-deep"
  | "forbidden-key"
  | "invalid"
  | "header"
  | "unknown-type"
  | "unknown-version";

/**
 * The only error a codec's `decode` throws (`code: "ZG_DECODE"`): untrusted
 * bytes that could not become a value. `reason` says why; `details` carries
 * the codec's content type and limits. Any other failure inside a decoder
 * (protobufjs `RangeError`, `SyntaxError` from `JSON.parse`, a validator's own
 * error) is wrapped as the `cause`.
 *
 * @example
 * ```ts
 * try { codec.decode(frames); }
 * catch (e) { if (isZgError(e, "ZG_DECODE")) stats.dropped++; else throw e; }
 * ```
 */
export class DecodeError extends ZgError<"ZG_DECODE"> {
  /** Why decoding failed. */
  readonly reason: DecodeFailure;

  constructor(
    reason: DecodeFailure,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super("ZG_DECODE", message, { cause: options.cause, details: { reason, ...options.details } });
    this.reason = reason;
  }

  override get name(): string {
    return "DecodeError";
  }
}

/**
 * Raised by version negotiation (`code: "ZG_VERSION"`) when two peers share no
 * version of a protocol. It names both sets, so the log line alone says what
 * to upgrade.
 */
export class VersionError extends ZgError<"ZG_VERSION"> {
  /** The protocol (or schema) name being negotiated. */
  readonly protocol: string;
  /** The versions this side supports, ascending. */
  readonly local: readonly number[];
  /** The versions the peer supports, ascending (empty if the peer does not know the protocol). */
  readonly remote: readonly number[];

  constructor(
    protocol: string,
    local: readonly number[],
    remote: readonly number[],
    reason?: string,
  ) {
    super(
      "ZG_VERSION",
      `no common version of ${protocol}: local [${local.join(",")}], remote [${remote.join(",")}]${reason ? ` (${reason})` : ""}`,
      {
        details: {
          protocol,
          local: [...local],
          remote: [...remote],
          ...(reason ? { reason } : {}),
        },
      },
    );
    this.protocol = protocol;
    this.local = local;
    this.remote = remote;
  }

  override get name(): string {
    return "VersionError";
  }
}

/** Wraps anything a decoder threw as a {@link DecodeError} (a DecodeError passes through). */
export function asDecodeError(error: unknown, contentType: string): DecodeError {
  if (isZgError(error, "ZG_DECODE")) return error as DecodeError;
  const message = error instanceof Error ? error.message : String(error);
  return new DecodeError("malformed", `${contentType}: ${message}`, {
    cause: error,
    details: { contentType },
  });
}
