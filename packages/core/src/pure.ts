/**
 * `@zg/core/pure`: the part of @zg/core that does not load zeromq (errors,
 * frames and their encodings, envelopes, the `Codec` contract, async helpers,
 * clocks, back-off, expiry tables, events, latency windows, loggers). Pure
 * packages such as `@zg/serialize` import from here so that loading them never
 * loads the native zeromq addon. The same exports are also available from
 * `@zg/core`.
 *
 * @packageDocumentation
 */
export { abortError, AsyncQueue, deferred, sleep, type Deferred } from "./async.js";
export {
  Backoff,
  DEFAULT_BACKOFF_INITIAL,
  DEFAULT_BACKOFF_MAX,
  type BackoffOptions,
} from "./backoff.js";
export { ManualClock, systemClock, type Clock, type TimerHandle } from "./clock.js";
export type { Codec } from "./codec.js";
export {
  formatIdentity,
  identityFromKey,
  identityKey,
  splitEnvelope,
  unwrap,
  wrap,
  wrapEnvelope,
  type Envelope,
} from "./envelope.js";
export {
  endpointProblem,
  ENDPOINT_TRANSPORTS,
  parseEndpoint,
  validateEndpoint,
  type EndpointTransport,
  type ParsedEndpoint,
} from "./endpoint.js";
export {
  assertArgument,
  durationOption,
  integerOption,
  isZgError,
  ProtocolError,
  socketError,
  ZgError,
  type ZgErrorCode,
  type ZgErrorOptions,
} from "./errors.js";
export {
  TypedEmitter,
  type ClosedEventMap,
  type EventMap,
  type EventName,
  type Listener,
} from "./events.js";
export { DeadlineWheel, type WheelSlot } from "./deadline-wheel.js";
export {
  DEFAULT_EXPIRY_GRANULARITY,
  ExpiryTable,
  type ExpiryEntry,
  type ExpiryTableOptions,
} from "./expiry-table.js";
export {
  decodeCommand,
  decodeDecimal,
  decodeInt64BE,
  decodeProperties,
  decodeUint64BE,
  EMPTY_FRAME,
  encodeCommand,
  encodeDecimal,
  encodeProperties,
  encodeUint64BE,
  FrameReader,
  frameAt,
  framesEqual,
  isEmptyFrame,
  messageSize,
  toFrame,
  toMessage,
  type Frame,
  type FrameLike,
  type Message,
} from "./frames.js";
export {
  DEFAULT_HEARTBEAT_INTERVAL,
  DEFAULT_HEARTBEAT_LIVENESS,
  heartbeatIntervalOption,
  livenessOption,
  MAX_HEARTBEAT_INTERVAL,
  MAX_HEARTBEAT_LIVENESS,
  MIN_HEARTBEAT_INTERVAL,
  silentAfterOption,
} from "./heartbeat-timing.js";
export { LinkHeartbeat, type LinkHeartbeatOptions } from "./link-heartbeat.js";
export { LatencyWindow, quantile, type LatencySummary } from "./latency.js";
export {
  PendingRequests,
  type PendingFailure,
  type PendingRequestOptions,
  type PendingRequestsOptions,
  type PendingRequestsStats,
} from "./pending-requests.js";
export { childLogger, silentLogger, type LogFields, type Logger } from "./logger.js";
