/**
 * @zg/pirate: the Guide's request-reply reliability patterns (chapters 3–4).
 *
 * @packageDocumentation
 */

// --- part 1: load balancing, async client/server, Lazy / Simple / Paranoid Pirate, Freelance ---

// --- part 2: Majordomo (7/MDP, 8/MMI, 18/MDP), asynchronous Majordomo, Titanic (9/TSP) ---
export {
  AsyncMajordomoClient,
  DEFAULT_MDP_MAX_IN_FLIGHT,
  type AsyncMajordomoClientOptions,
  type AsyncMajordomoClientStats,
  type AsyncMajordomoRequestOptions,
} from "./majordomo/async-client.js";
export type { MajordomoBrokerEvents, MajordomoBrokerStats, MajordomoServiceStats } from "./majordomo/broker-core.js";
export { MajordomoBroker, type MajordomoBrokerOptions } from "./majordomo/broker.js";
export {
  brokerError,
  MajordomoClient,
  type MajordomoClientOptions,
  type MajordomoClientStats,
  type MajordomoRequestOptions,
} from "./majordomo/client.js";
export {
  DEFAULT_MDP_CLIENT_ATTEMPTS,
  DEFAULT_MDP_CLIENT_TIMEOUT,
  DEFAULT_MDP_HEARTBEAT_INTERVAL,
  DEFAULT_MDP_HEARTBEAT_LIVENESS,
  DEFAULT_MDP_MAX_QUEUED,
  DEFAULT_MDP_MAX_SERVICES,
  DEFAULT_MDP_RECONNECT_DELAY,
  DEFAULT_MDP_REQUEST_EXPIRY,
  DEFAULT_MDP_REQUEUE_LIMIT,
  DEFAULT_MDP_SERVICE_TTL,
} from "./majordomo/constants.js";
export {
  brokerErrorBody,
  CORRELATION_PREFIX,
  decodeBrokerInbound,
  decodeClientInbound,
  decodeCorrelation,
  decodeWorkerInbound,
  encodeClientReply,
  encodeClientRequest,
  encodeCorrelation,
  encodeReady,
  encodeWorkerReply,
  encodeWorkerRequest,
  encodeWorkerSignal,
  MDP_ERROR_MARKER,
  MDPC01,
  MDPC02,
  MDPC02_COMMANDS,
  MDPW01,
  MDPW01_COMMANDS,
  MDPW02,
  MDPW02_COMMANDS,
  MMI_PREFIX,
  parseBrokerError,
  type BrokerErrorStatus,
  type BrokerInbound,
  type ClientInbound,
  type MdpVersion,
  type WorkerCommand,
  type WorkerInbound,
} from "./majordomo/protocol.js";
export {
  MajordomoWorker,
  type MajordomoHandler,
  type MajordomoRequestContext,
  type MajordomoWorkerEvents,
  type MajordomoWorkerOptions,
  type MajordomoWorkerStats,
} from "./majordomo/worker.js";
