/**
 * @zg/devices: the ZeroMQ Guide's reusable devices: a clock / timer service
 * ({@link ClockDevice}, {@link ClockClient}).
 *
 * @packageDocumentation
 */
export {
  DEFAULT_CLOCK_RESOLUTIONS,
  DEFAULT_TICK_BUFFER,
  MAX_CLOCK_PERIOD,
  MIN_CLOCK_PERIOD,
} from "./clock/constants.js";
export { parseResolution, resolutionName } from "./clock/resolution.js";
export { TickSchedule, type TickDue } from "./clock/schedule.js";
export {
  CLOCK_SIGNATURE,
  clockTopic,
  decodeTick,
  encodeTick,
  TICK_BODY_SIZE,
  type TickMessage,
} from "./clock/wire.js";
export {
  ClockDevice,
  type ClockDeviceEvents,
  type ClockDeviceOptions,
  type ClockDeviceStats,
  type ClockResolutionStats,
} from "./clock/clock-device.js";
export {
  ClockClient,
  type ClockClientOptions,
  type ClockClientStats,
  type Tick,
  type TicksOptions,
} from "./clock/clock-client.js";
