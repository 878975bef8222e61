import { ZgError } from "@zg/core/pure";
import { MAX_CLOCK_PERIOD, MIN_CLOCK_PERIOD } from "./constants.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a resolution: a number of milliseconds or a string such as
 * `"100ms"`, `"1s"`, `"2.5s"`, `"1m"`, `"1h"` (a bare number string is ms).
 *
 * @returns the period in whole milliseconds
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for anything else, or a period
 * outside [{@link MIN_CLOCK_PERIOD}, {@link MAX_CLOCK_PERIOD}] or not a whole ms.
 */
export function parseResolution(value: number | string): number {
  let ms: number;
  if (typeof value === "number") ms = value;
  else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(String(value));
    if (m === null) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `not a clock resolution: ${JSON.stringify(value)} (use e.g. 100ms, 1s, 1m)`,
      );
    }
    ms = Number(m[1]) * (UNITS[m[2] ?? "ms"] ?? 1);
  }
  if (!Number.isInteger(ms) || ms < MIN_CLOCK_PERIOD || ms > MAX_CLOCK_PERIOD) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      `clock resolution must be a whole number of ms between ${MIN_CLOCK_PERIOD} and ${MAX_CLOCK_PERIOD}, got ${String(value)}`,
    );
  }
  return ms;
}

/**
 * The canonical name of a period, used in the topic: the largest unit that
 * divides it (`100` → `"100ms"`, `1000` → `"1s"`, `90000` → `"90s"`, `60000` → `"1m"`).
 */
export function resolutionName(period: number): string {
  if (period % 3_600_000 === 0) return `${period / 3_600_000}h`;
  if (period % 60_000 === 0) return `${period / 60_000}m`;
  if (period % 1000 === 0) return `${period / 1000}s`;
  return `${period}ms`;
}
