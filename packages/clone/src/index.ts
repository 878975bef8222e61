/**
 * @zg/clone: the Clone pattern of "ZeroMQ – The Guide" (ch. 5, "Reliable
 * Pub-Sub (Clone Pattern)"; 12/CHP): a key-value map shared by a server
 * (snapshot + sequenced updates, TTL, subtrees, bounds) and its clients, with
 * a Binary Star HA pair (model 6).
 *
 * @packageDocumentation
 */
export {
  DEFAULT_CLONE_MAX_MESSAGE_SIZE,
  DEFAULT_DEDUP_WINDOW,
  DEFAULT_FLUSH_INTERVAL,
  DEFAULT_HUGZ_INTERVAL,
  DEFAULT_MAX_BUFFERED,
  DEFAULT_MAX_KEY_SIZE,
  DEFAULT_MAX_KEYS,
  DEFAULT_MAX_PENDING,
  DEFAULT_MAX_VALUE_SIZE,
  DEFAULT_PENDING_TTL,
  DEFAULT_PUBLISHER_HWM,
  DEFAULT_RESEND_INTERVAL,
  DEFAULT_SERVER_TTL,
  DEFAULT_SET_TIMEOUT,
  DEFAULT_SNAPSHOT_REQUESTS,
  DEFAULT_SUBSCRIBE_WAIT,
} from "./constants.js";
export { cloneEndpoints, type CloneAddress, type CloneEndpoints } from "./endpoints.js";
export {
  decodeIcanhaz,
  decodeKey,
  decodeKvMsg,
  encodeIcanhaz,
  encodeKvMsg,
  hugz,
  HUGZ,
  ICANHAZ,
  KTHXBAI,
  kthxbai,
  KVMSG_UUID_SIZE,
  KvMsgDecodeError,
  MAX_KVMSG_KEY_SIZE,
  MAX_KVMSG_PROPERTIES,
  newUuid,
  ttlOf,
  type KvMsg,
  type KvMsgDecodeReason,
} from "./protocol/kvmsg.js";
export {
  CloneServerCore,
  type CloneServerCoreOptions,
  type CloneServerCoreStats,
  type ReceiveResult,
  type RefusalReason,
  type ReplicateResult,
} from "./server-core.js";
export {
  CloneClientCore,
  type CloneClientCoreEvent,
  type CloneClientCoreOptions,
  type CloneClientPort,
  type CloneClientState,
  type FailoverReason,
  type SlowPolicy,
} from "./client-core.js";
export {
  CloneServer,
  DEFAULT_SNAPSHOT_TIMEOUT,
  type ClonePairOptions,
  type CloneServerEndpoints,
  type CloneServerEvents,
  type CloneServerOptions,
  type CloneServerStats,
} from "./server.js";
export {
  CloneClient,
  type CloneChange,
  type CloneClientEvents,
  type CloneClientOptions,
  type CloneClientStats,
  type CloneSetOptions,
} from "./client.js";
export {
  CloneStore,
  DEFAULT_CLONE_COMPACT_MIN_BYTES,
  DEFAULT_CLONE_FSYNC_INTERVAL,
  type CloneStoreOptions,
  type CloneStoreStats,
  type StoredEntry,
} from "./store.js";
export {
  DEFAULT_LVC_MAX_TOPICS,
  LastValueCache,
  type LastValueCacheEvents,
  type LastValueCacheOptions,
  type LastValueCacheStats,
} from "./last-value-cache.js";
