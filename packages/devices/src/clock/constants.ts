/**
 * Default clock resolutions, 100 ms, 1 s and 1 min: issue 18's example set
 * (seed 004 "timer service": ticks at 1/10, 1/100 … of a second; the Guide's
 * notes name no values).
 */
export const DEFAULT_CLOCK_RESOLUTIONS: readonly number[] = Object.freeze([100, 1000, 60_000]);

/**
 * Finest resolution a {@link ClockDevice} accepts, 10 ms: the notes' "1/100"
 * tick. Finer periods are below what a JavaScript timer holds.
 */
export const MIN_CLOCK_PERIOD = 10;

/** Coarsest resolution, 24 h (project limit). */
export const MAX_CLOCK_PERIOD = 86_400_000;

/**
 * Ticks a {@link ClockClient} buffers per `ticks()` iterator before it drops
 * the oldest, 1000 (libzmq's default receive HWM). Dropped ticks are reported
 * as missed on the next tick delivered, never silently skipped.
 */
export const DEFAULT_TICK_BUFFER = 1000;
