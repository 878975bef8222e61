import { isZgError } from "@zg/core";

/** Options of {@link AppError}. */
export interface AppErrorOptions {
  /** The app name (for the environment variable in the hint). */
  app?: string;
  /** The camelCase key of the option the operator should change. */
  option?: string;
  /** A usage error (bad flag): exit code 2 instead of 1. */
  usage?: boolean;
  /** The process exit code. @defaultValue 2 for usage errors and bad option values, 1 otherwise */
  exitCode?: number;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * A startup failure the operator can fix: printed as one line naming the
 * option to change, never with a stack trace.
 */
export class AppError extends Error {
  /** The camelCase key of the option to change, if one is to blame. */
  readonly option: string | undefined;
  /** The app name, if known when thrown. */
  readonly app: string | undefined;
  /** The process exit code: 2 for usage errors, 1 otherwise. */
  readonly exitCode: number;

  constructor(message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.option = options.option;
    this.app = options.app;
    this.exitCode =
      options.exitCode ?? (options.usage === true || options.option !== undefined ? 2 : 1);
  }

  override get name(): string {
    return "AppError";
  }
}

/**
 * Turns a startup failure into an {@link AppError} that names the option to
 * change: a bind failure names the option whose value holds the endpoint, a
 * component's `ZG_INVALID_ARGUMENT` the option whose name its message cites.
 */
export function explainStartupError(
  error: unknown,
  values: Readonly<Record<string, unknown>>,
): AppError {
  if (error instanceof AppError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isZgError(error, "ZG_SOCKET")) {
    const endpoint = error.details["endpoint"];
    const key = Object.keys(values).find((k) => {
      const v = values[k];
      return Array.isArray(v) ? v.includes(endpoint) : v === endpoint;
    });
    if (key !== undefined) {
      return new AppError(message, { option: key, exitCode: 1, cause: error });
    }
  }
  if (isZgError(error, "ZG_INVALID_ARGUMENT")) {
    const key = Object.keys(values)
      .sort((a, b) => b.length - a.length)
      .find((k) => new RegExp(`\\b${k}\\b`).test(message));
    return new AppError(
      message,
      key === undefined ? { usage: true, cause: error } : { option: key, cause: error },
    );
  }
  return new AppError(message, { cause: error });
}
