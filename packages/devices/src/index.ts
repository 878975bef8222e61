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
export {
  DEFAULT_LOG_BUFFER,
  DEFAULT_LOG_FILE_BYTES,
  DEFAULT_LOG_MAX_FILES,
  DEFAULT_LOG_RESEND,
  DEFAULT_LOG_ROTATE_INTERVAL,
  DEFAULT_LOG_WINDOW,
} from "./log/constants.js";
export {
  acceptRecord,
  checkRecord,
  LOG_LEVELS,
  LOG_SIGNATURE,
  levelLetter,
  levelsFrom,
  logTopic,
  parseRecord,
  toLogLevel,
  type LogLevel,
  type LogRecord,
  type StoredLogRecord,
} from "./log/record.js";
export { listLogFiles, logFileName, readLogFile } from "./log/log-files.js";
export {
  LogPublisher,
  type LogPublisherOptions,
  type LogPublisherStats,
} from "./log/log-publisher.js";
export {
  LogBroker,
  type LogBrokerOptions,
  type LogBrokerEndpoints,
  type LogBrokerStats,
  type TailRequest,
} from "./log/log-broker.js";
export { LogTail, type LogTailOptions, type LogTailStats, type TailItem } from "./log/log-tail.js";
export { createLogStream, LogStreamWritable } from "./log/pino-stream.js";
