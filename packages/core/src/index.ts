/**
 * @zg/core: the shared building blocks of zg. No pattern logic lives here.
 *
 * @packageDocumentation
 */
export { abortError, AsyncQueue, combineSignals, deferred, sleep, type Deferred } from "./async.js";
export {
  Backoff,
  DEFAULT_BACKOFF_INITIAL,
  DEFAULT_BACKOFF_MAX,
  type BackoffOptions,
} from "./backoff.js";
export { ManualClock, systemClock, type Clock, type TimerHandle } from "./clock.js";
export type { Codec } from "./codec.js";
export {
  Component,
  type ComponentOptions,
  type ComponentState,
  type Releasable,
} from "./component.js";
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
export { TypedEmitter, type EventMap, type Listener } from "./events.js";
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
export { LatencyWindow, quantile, type LatencySummary } from "./latency.js";
export { childLogger, silentLogger, type LogFields, type Logger } from "./logger.js";
export {
  DEFAULT_SEND_QUEUE_LIMIT,
  SocketLoop,
  type SendOutcome,
  type SocketLoopOptions,
  type SocketLoopStats,
} from "./socket-loop.js";
export {
  bindAll,
  connectAll,
  createDealer,
  createRouter,
  createSocket,
  endpointsOption,
  type BaseSocketOptions,
  type DealerSocketOptions,
  type RouterSocketOptions,
} from "./sockets.js";
export { assertLibzmq, MIN_LIBZMQ_VERSION } from "./runtime.js";
