/**
 * @zg/harmony: the reliable pipeline of the Guide author's notes ("Reliable
 * Pipeline (Harmony Pattern)"), chapter 7's credit-based flow control counted
 * in bytes, and file transfer on top of it.
 *
 * @packageDocumentation
 */
export {
  DEFAULT_BATCH_TIMEOUT,
  DEFAULT_BATCH_TTL,
  DEFAULT_MAX_BATCHES,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MISSING_AFTER,
  DEFAULT_PIPELINE_HEARTBEAT_INTERVAL,
  DEFAULT_PIPELINE_LIVENESS,
  DEFAULT_PIPELINE_MAX_MESSAGE_SIZE,
  DEFAULT_RESEND_TIMEOUT,
  DEFAULT_WORKER_CREDIT,
  TASK_OVERHEAD,
} from "./constants.js";
export {
  CreditReceiver,
  CreditSender,
  DEFAULT_CREDIT_SLICE,
  DEFAULT_CREDIT_WINDOW,
  type CreditReceiverOptions,
  type CreditVerdict,
} from "./credit-window.js";
export {
  ClientCore,
  type Batch,
  type ClientAction,
  type ClientCoreOptions,
  type HarmonyClientEvents,
  type HarmonyClientStats,
  type ResendReason,
  type SubmitOptions,
} from "./client-core.js";
export {
  CollectorCore,
  type CollectorAction,
  type CollectorCoreOptions,
  type HarmonyCollectorEvents,
  type HarmonyCollectorStats,
} from "./collector-core.js";
export { HarmonyClient, type HarmonyClientOptions } from "./client.js";
export { HarmonyCollector, type HarmonyCollectorOptions } from "./collector.js";
export {
  HarmonyWorker,
  type HarmonyWorkerEvents,
  type HarmonyWorkerOptions,
  type HarmonyWorkerStats,
  type TaskHandler,
  type TaskInfo,
} from "./worker.js";
export {
  decodePipeline,
  encodePipeline,
  isPipelineHeader,
  MAX_MISSING_PER_MESSAGE,
  MAX_TASKS_PER_MESSAGE,
  PIPELINE_HEADER,
  PipelineCommand,
  type PipelineMessage,
} from "./protocol/pipeline.js";
export {
  DEFAULT_SERVER_CLIENT_BUFFER,
  DEFAULT_SERVER_SEND_HWM,
  FileServer,
  MAX_FILE_CHUNK,
  type FileServerEvents,
  type FileServerOptions,
  type FileServerStats,
} from "./file-server.js";
export {
  DEFAULT_FILE_ATTEMPTS,
  DEFAULT_FILE_CHUNK,
  DEFAULT_FILE_CREDIT,
  DEFAULT_FILE_TIMEOUT,
  FileClient,
  type FetchOptions,
  type FetchProgress,
  type FetchResult,
  type FileClientEvents,
  type FileClientOptions,
  type FileClientStats,
} from "./file-client.js";
export {
  decodeFile,
  encodeFile,
  FILE_HEADER,
  FileCommand,
  type FileMessage,
  type FileStatus,
} from "./protocol/file.js";
