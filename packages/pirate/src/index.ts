/**
 * @zg/pirate: the Guide's request-reply reliability patterns (chapters 3–4).
 *
 * @packageDocumentation
 */

// Shared broker types and the overflow policy of the LRU brokers.
export {
  type BrokerEndpoints,
  type BrokerStats,
  DEFAULT_BIND_ENDPOINT,
} from "./common/broker-types.js";
export type { HandlerResult, RequestHandler } from "./common/handler.js";
export {
  DEFAULT_MAX_QUEUED,
  DEFAULT_OVERFLOW_POLICY,
  type OverflowPolicy,
} from "./common/request-queue.js";
// Load balancing (ch. 3).
export {
  DEFAULT_MAX_WORKERS,
  LoadBalancingBroker,
  READY_BYTE,
  READY_STRING,
  type LoadBalancingBrokerEvents,
  type LoadBalancingBrokerOptions,
  type LoadBalancingBrokerStats,
} from "./lb/load-balancing-broker.js";
export {
  AsyncServer,
  DEFAULT_CLIENT_EXPIRY,
  DEFAULT_MAX_CLIENTS,
  type AsyncRequestContext,
  type AsyncServerEvents,
  type AsyncServerOptions,
  type AsyncServerStats,
} from "./async/async-server.js";
export {
  AsyncClient,
  DEFAULT_ASYNC_CLIENT_BUFFER,
  type AsyncClientEvents,
  type AsyncClientOptions,
  type AsyncClientStats,
} from "./async/async-client.js";
export {
  DEFAULT_LAZY_PIRATE_ATTEMPTS,
  DEFAULT_LAZY_PIRATE_TIMEOUT,
  LazyPirateClient,
  type LazyPirateClientEvents,
  type LazyPirateClientOptions,
  type LazyPirateClientStats,
  type LazyPirateRequestOptions,
} from "./lazy/lazy-pirate-client.js";
export { SimplePirateQueue, type SimplePirateQueueOptions } from "./simple/simple-pirate-queue.js";
export {
  SimplePirateWorker,
  type SimplePirateWorkerEvents,
  type SimplePirateWorkerOptions,
  type SimplePirateWorkerStats,
} from "./simple/simple-pirate-worker.js";
export {
  decodePppQueueMessage,
  decodePppWorkerMessage,
  encodePppHeartbeat,
  encodePppReady,
  PPP_HEARTBEAT,
  PPP_READY,
  type PppQueueMessage,
  type PppWorkerMessage,
} from "./paranoid/protocol.js";
export {
  DEFAULT_PPP_EXPIRY_GRANULARITY,
  DEFAULT_PPP_HEARTBEAT_INTERVAL,
  DEFAULT_PPP_HEARTBEAT_LIVENESS,
  PirateQueue,
  type PirateQueueEvents,
  type PirateQueueOptions,
  type PirateQueueStats,
} from "./paranoid/pirate-queue.js";
export {
  DEFAULT_PPP_RECONNECT_DELAY,
  DEFAULT_PPP_RECONNECT_MAX_DELAY,
  PirateWorker,
  type PirateWorkerEvents,
  type PirateWorkerOptions,
  type PirateWorkerStats,
} from "./paranoid/pirate-worker.js";
export {
  FLP_PING,
  FLP_PONG,
  FreelanceServer,
  type FreelanceModel,
  type FreelanceServerEvents,
  type FreelanceServerOptions,
  type FreelanceServerStats,
} from "./freelance/freelance-server.js";
export {
  DEFAULT_FL1_ATTEMPTS,
  DEFAULT_FL1_TIMEOUT,
  DEFAULT_FL2_TIMEOUT,
  DEFAULT_FL3_CONNECT_PING,
  DEFAULT_FL3_PING_INTERVAL,
  DEFAULT_FL3_RESEND_INTERVAL,
  DEFAULT_FL3_SERVER_TTL,
  DEFAULT_FL3_TIMEOUT,
  FreelanceClient,
  type FreelanceClientEvents,
  type FreelanceClientOptions,
  type FreelanceClientStats,
  type FreelanceCommonOptions,
  type FreelanceRequestOptions,
} from "./freelance/freelance-client.js";
export { FreelanceFlpClient, type FreelanceFlpOptions } from "./freelance/flp-client.js";
export {
  FreelanceSequentialClient,
  type FreelanceSequentialOptions,
} from "./freelance/sequential-client.js";
export {
  FreelanceShotgunClient,
  type FreelanceShotgunOptions,
} from "./freelance/shotgun-client.js";

// Majordomo (7/MDP, 8/MMI, 18/MDP), asynchronous Majordomo, Titanic (9/TSP).
export {
  AsyncMajordomoClient,
  DEFAULT_MDP_MAX_IN_FLIGHT,
  type AsyncMajordomoClientOptions,
  type AsyncMajordomoClientStats,
  type AsyncMajordomoRequestOptions,
} from "./majordomo/async-client.js";
export type {
  MajordomoBrokerEvents,
  MajordomoBrokerStats,
  MajordomoServiceStats,
} from "./majordomo/broker-types.js";
export { MajordomoBroker, type MajordomoBrokerOptions } from "./majordomo/broker.js";
export {
  DEFAULT_MDP_FEDERATION_FORWARD_TIMEOUT,
  DEFAULT_MDP_FEDERATION_MAX_HOPS,
  DEFAULT_MDP_FEDERATION_PEER_LIVENESS,
  DEFAULT_MDP_FEDERATION_STATE_INTERVAL,
} from "./majordomo/federation/constants.js";
export type { MajordomoFederationOptions } from "./majordomo/federation/federation.js";
export { MDPF01 } from "./majordomo/federation/protocol.js";
export type { FederationPeerStats, FederationStats } from "./majordomo/federation/types.js";
export {
  brokerError,
  MajordomoClient,
  type MajordomoClientOptions,
  type MajordomoClientEvents,
  type MajordomoClientStats,
  type MajordomoRequestOptions,
} from "./majordomo/client.js";
export {
  DEFAULT_MDP_BACKLOG_BYTES,
  DEFAULT_MDP_CLIENT_ATTEMPTS,
  DEFAULT_MDP_CLIENT_TIMEOUT,
  DEFAULT_MDP_HEARTBEAT_INTERVAL,
  DEFAULT_MDP_HEARTBEAT_LIVENESS,
  DEFAULT_MDP_MAX_MESSAGE_SIZE,
  DEFAULT_MDP_MAX_PENDING_SERVICES,
  DEFAULT_MDP_MAX_QUEUED,
  DEFAULT_MDP_MAX_QUEUED_BYTES,
  DEFAULT_MDP_MAX_QUEUED_PER_CLIENT,
  DEFAULT_MDP_MAX_SERVICE_STATS,
  DEFAULT_MDP_MAX_SERVICES,
  DEFAULT_MDP_PEER_BACKLOG,
  DEFAULT_MDP_RECONNECT_DELAY,
  DEFAULT_MDP_REQUEST_EXPIRY,
  DEFAULT_MDP_REQUEST_TIMEOUT,
  DEFAULT_MDP_REQUEUE_LIMIT,
  DEFAULT_MDP_SEND_QUEUE_LIMIT,
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
export {
  DEFAULT_TITANIC_FIRST_POLL,
  DEFAULT_TITANIC_MAX_POLL,
  TitanicClient,
  type TitanicClientOptions,
  type TitanicReply,
} from "./titanic/client.js";
export {
  DEFAULT_TITANIC_COMPACT_MIN_BYTES,
  DEFAULT_TITANIC_FSYNC_INTERVAL,
  DEFAULT_TITANIC_RESYNC_LIMIT,
  TitanicStore,
  type TitanicEntry,
  type TitanicEntryInfo,
  type TitanicFsyncPolicy,
  type TitanicStoreOptions,
  type TitanicStoreStats,
} from "./titanic/store.js";
export {
  DEFAULT_TITANIC_DISPATCH_CONCURRENCY,
  DEFAULT_TITANIC_DISPATCH_INTERVAL,
  DEFAULT_TITANIC_DISPATCH_TIMEOUT,
  DEFAULT_TITANIC_MAX_BODY,
  Titanic,
  TSP_ERROR,
  TSP_OK,
  TSP_PENDING,
  TSP_UNKNOWN,
  type TitanicEvents,
  type TitanicOptions,
  type TitanicStats,
} from "./titanic/titanic.js";

// --- Binary Star (ch. 4 "High-Availability Pair"); also alone as "@zg/pirate/bstar" ---
export * from "./bstar/index.js";
