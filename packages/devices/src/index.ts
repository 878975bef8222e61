/**
 * @zg/devices: the ZeroMQ Guide's reusable devices: a clock / timer service
 * ({@link ClockDevice}, {@link ClockClient}) and a message-flow tracing proxy
 * ({@link TraceProxy}).
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
export {
  DEFAULT_CAPTURE_BUFFER,
  DEFAULT_DUMP_FRAME_BYTES,
  DEFAULT_TRACE_MAX_PEERS,
  DEFAULT_TRACE_PEER_IDLE,
} from "./trace/constants.js";
export {
  formatDump,
  parseJsonLine,
  toJsonLine,
  type TraceDirection,
  type TraceRecord,
} from "./trace/record.js";
export { CaptureSink, type CaptureSinkStats } from "./trace/capture.js";
export {
  TraceProxy,
  type TraceMode,
  type TraceProxyOptions,
  type TraceProxyStats,
} from "./trace/trace-proxy.js";
export {
  BUS_HEADER_SIZE,
  decodeBus,
  encodeBus,
  maxBusPayload,
  UDP_MAX_DATAGRAM,
  type BusMessage,
} from "./multicast/wire.js";
export {
  MulticastBus,
  type BusDelivery,
  type MulticastBusEvents,
  type MulticastBusOptions,
  type MulticastBusStats,
} from "./multicast/multicast-bus.js";
