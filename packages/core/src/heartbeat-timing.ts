import { assertArgument, durationOption, integerOption } from "./errors.js";

/**
 * Default heartbeat interval, 1000 ms: Guide ch. 4 Paranoid Pirate
 * (`ppqueue`/`ppworker` `HEARTBEAT_INTERVAL`).
 */
export const DEFAULT_HEARTBEAT_INTERVAL = 1000;

/**
 * Default liveness, 3 missed intervals: Guide ch. 4 (`HEARTBEAT_LIVENESS`;
 * "3–5 is reasonable").
 */
export const DEFAULT_HEARTBEAT_LIVENESS = 3;

/** Smallest heartbeat interval, 10 ms (the Guide's range is 10 ms to 30 s). */
export const MIN_HEARTBEAT_INTERVAL = 10;

/** Largest heartbeat interval, 1 hour; larger announcements are clamped. */
export const MAX_HEARTBEAT_INTERVAL = 3_600_000;

/** Largest liveness (missed intervals before a peer is dead), 1000. */
export const MAX_HEARTBEAT_LIVENESS = 1000;

/**
 * Validates a heartbeat interval option: a number of ms within
 * [{@link MIN_HEARTBEAT_INTERVAL}, {@link MAX_HEARTBEAT_INTERVAL}].
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` naming `name`.
 */
export function heartbeatIntervalOption(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  return durationOption(name, value, fallback, {
    min: MIN_HEARTBEAT_INTERVAL,
    max: MAX_HEARTBEAT_INTERVAL,
  });
}

/**
 * Validates a liveness option: an integer within [1, {@link MAX_HEARTBEAT_LIVENESS}].
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` naming `name`.
 */
export function livenessOption(name: string, value: number | undefined, fallback: number): number {
  return integerOption(name, value, fallback, { min: 1, max: MAX_HEARTBEAT_LIVENESS });
}

/**
 * Validates a `silentAfter` option (intervals of silence before a peer is
 * reported silent): a number within [1, `liveness`]. @defaultValue 1
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT`.
 */
export function silentAfterOption(value: number | undefined, liveness: number): number {
  const silentAfter = value ?? 1;
  assertArgument(
    typeof silentAfter === "number" && silentAfter >= 1 && silentAfter <= liveness,
    `silentAfter must be a number between 1 and liveness (${liveness}), got ${String(silentAfter)}`,
  );
  return silentAfter;
}
