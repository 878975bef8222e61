/**
 * @zg/core: the shared building blocks of zg. No pattern logic lives here.
 *
 * Everything in `@zg/core/pure` (the zeromq-free half: errors, frames,
 * envelopes, clocks, expiry, back-off, events, codecs, loggers) plus the
 * parts that use sockets: the component lifecycle, the socket loop and the
 * socket helpers.
 *
 * @packageDocumentation
 */
// The zeromq-free half, listed explicitly in pure.ts.
export * from "./pure.js";
export {
  type BoundEndpoints,
  Component,
  type ComponentOptions,
  type ComponentEvents,
  type ComponentState,
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_DRAIN_TIMEOUT,
  type DrainOptions,
  type DrainResult,
  type Supervised,
  type Releasable,
} from "./component.js";
export {
  ReconnectingLink,
  type LinkHeartbeatSettings,
  type LinkLostReason,
  type ReconnectingLinkEvents,
  type ReconnectingLinkOptions,
  type ReconnectingLinkStats,
} from "./reconnecting-link.js";
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
  DEFAULT_LINGER,
  endpointsOption,
  lingerOption,
  type BaseSocketOptions,
  type LingerOptions,
  type DealerSocketOptions,
  type RouterSocketOptions,
} from "./sockets.js";
export { assertLibzmq, MIN_LIBZMQ_VERSION } from "./runtime.js";
// Durable stores' primitives (Titanic, Clone): checksummed records, resync reader, lock, files.
export {
  bufferSource,
  fileSource,
  isFsyncPolicy,
  makeDirectory,
  syncDir,
  writeAll,
  type FsyncPolicy,
  type LogSource,
} from "./durable/files.js";
export { releaseLock, takeLock, type LockOptions } from "./durable/lock.js";
export {
  frameRecord,
  RECORD_HEADER,
  recordPayload,
  scanRecords,
  type DamagedRange,
  type RecordFormat,
  type ScanResult,
} from "./durable/records.js";
