/**
 * The error codes zg raises. Kept deliberately small (czmq's README argues that
 * a plethora of codes makes both library and application buggier).
 *
 * - `ZG_INVALID_ARGUMENT`: a caller passed a bad option or argument (thrown synchronously).
 * - `ZG_TIMEOUT`: an operation did not complete in time.
 * - `ZG_ABORTED`: the caller's `AbortSignal` fired.
 * - `ZG_CLOSED`: the component or socket is closed.
 * - `ZG_PROTOCOL`: a peer sent something the protocol does not allow.
 * - `ZG_OVERFLOW`: a bounded queue is full and the overflow policy rejected the item.
 * - `ZG_UNREACHABLE`: no peer can take the message (all gone or none connected).
 * - `ZG_RETRIES_EXHAUSTED`: every attempt of a retrying operation failed.
 * - `ZG_STATE`: the call is not valid in the component's current state.
 * - `ZG_SOCKET`: an unexpected zeromq.js failure; the original is the `cause`.
 * - `ZG_DECODE`: bytes could not be decoded into a value (codecs).
 * - `ZG_VERSION`: two peers share no protocol or schema version.
 * - `ZG_STORAGE`: a durable store failed.
 */
export type ZgErrorCode =
  | "ZG_INVALID_ARGUMENT"
  | "ZG_TIMEOUT"
  | "ZG_ABORTED"
  | "ZG_CLOSED"
  | "ZG_PROTOCOL"
  | "ZG_OVERFLOW"
  | "ZG_UNREACHABLE"
  | "ZG_RETRIES_EXHAUSTED"
  | "ZG_STATE"
  | "ZG_SOCKET"
  | "ZG_DECODE"
  | "ZG_VERSION"
  | "ZG_STORAGE";

const BRAND = Symbol.for("zg.error");

/** Options accepted by {@link ZgError}. */
export interface ZgErrorOptions<D extends Record<string, unknown> = Record<string, unknown>> {
  /** The underlying error, kept as the standard `cause`. */
  cause?: unknown;
  /** Structured context (endpoint, attempts, frame index, …) for logs and handlers. */
  details?: D;
}

/**
 * The one base error of every zg package: a literal {@link ZgErrorCode}, an
 * optional `cause` and structured `details`.
 *
 * Independently versioned packages may load two copies of `@zg/core`, so
 * `instanceof` is unreliable across them: use {@link ZgError.isInstance} or
 * {@link isZgError}, which check a `Symbol.for` brand.
 *
 * @example
 * ```ts
 * try { await client.request(body); }
 * catch (e) { if (isZgError(e, "ZG_RETRIES_EXHAUSTED")) logger.error("gave up", e.details); }
 * ```
 */
export class ZgError<C extends ZgErrorCode = ZgErrorCode> extends Error {
  /** The literal error code to branch on. */
  readonly code: C;
  /** Structured context for the failure. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: C, message: string, options: ZgErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }

  override get name(): string {
    return "ZgError";
  }

  /** True when `value` is a zg error from any copy of `@zg/core`. */
  static isInstance(value: unknown): value is ZgError {
    return (
      typeof value === "object" &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true
    );
  }
}

/**
 * True when `value` is a zg error, optionally with the given code.
 *
 * @example `if (isZgError(err, "ZG_TIMEOUT")) retry();`
 */
export function isZgError<C extends ZgErrorCode>(value: unknown, code?: C): value is ZgError<C> {
  return ZgError.isInstance(value) && (code === undefined || value.code === code);
}

/**
 * Raised (and caught inside loops) when a peer's message breaks the protocol.
 * Loops turn it into a counter, a log line and a drop or protocol reply; it
 * never escapes a socket loop.
 */
export class ProtocolError extends ZgError<"ZG_PROTOCOL"> {
  constructor(message: string, options: ZgErrorOptions = {}) {
    super("ZG_PROTOCOL", message, options);
  }

  override get name(): string {
    return "ProtocolError";
  }
}

/**
 * Throws `ZG_INVALID_ARGUMENT` unless `condition` holds. Used by constructors
 * to validate options synchronously.
 *
 * @throws {@link ZgError} with code `ZG_INVALID_ARGUMENT`.
 */
export function assertArgument(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ZgError("ZG_INVALID_ARGUMENT", message);
}

/**
 * Validates a duration option (milliseconds): a finite number within bounds.
 *
 * @returns `value`, or `fallback` when `value` is undefined.
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` naming the option.
 */
export function durationOption(
  name: string,
  value: number | undefined,
  fallback: number,
  { min = 0, max = 86_400_000 }: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  assertArgument(
    typeof value === "number" && Number.isFinite(value) && value >= min && value <= max,
    `${name} must be a number of milliseconds between ${min} and ${max}, got ${String(value)}`,
  );
  return value;
}

/**
 * Validates an integer option within bounds.
 *
 * @returns `value`, or `fallback` when `value` is undefined.
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` naming the option.
 */
export function integerOption(
  name: string,
  value: number | undefined,
  fallback: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  assertArgument(
    Number.isSafeInteger(value) && value >= min && value <= max,
    `${name} must be an integer between ${min} and ${max}, got ${String(value)}`,
  );
  return value;
}

/** Wraps a zeromq.js failure as `ZG_SOCKET`, keeping its `code`/`errno` in details. */
export function socketError(message: string, cause: unknown): ZgError<"ZG_SOCKET"> {
  const c = cause as { code?: unknown; errno?: unknown } | null;
  return new ZgError("ZG_SOCKET", message, {
    cause,
    details: { code: c?.code, errno: c?.errno },
  });
}
