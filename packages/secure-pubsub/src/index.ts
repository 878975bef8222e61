/**
 * @zg/secure-pubsub: Ironhouse CURVE + ZAP that fails closed, and
 * authenticated, entitled pub-sub.
 *
 * @packageDocumentation
 */
export { isZ85Key, z85Decode, z85Encode } from "./z85.js";
export {
  formatCertificate,
  generateCertificate,
  loadCertificate,
  parseCertificate,
  publicCertificate,
  saveCertificate,
  signingKeyPair,
  type Certificate,
  type SigningKeyPair,
} from "./cert.js";
export { CertStore, DEFAULT_CERT_RELOAD_INTERVAL, type CertStoreChange } from "./cert-store.js";
export {
  decodeZapRequest,
  DEFAULT_ZAP_POLICY_TIMEOUT,
  encodeZapReply,
  ZAP_ENDPOINT,
  ZAP_VERSION,
  ZapHandler,
  zapHandlerOf,
  type ZapDecision,
  type ZapHandlerEvents,
  type ZapHandlerOptions,
  type ZapHandlerStats,
  type ZapPolicy,
  type ZapReply,
  type ZapRequest,
  type ZapStatus,
} from "./zap.js";
export {
  assertFailClosed,
  curveClientOptions,
  curvePublicKey,
  curveServerOptions,
  SecureServer,
  type CurveServerConfig,
  type CurveServerSocketOptions,
  type SecureServerEvents,
  type SecureServerOptions,
  type SecureServerStats,
  type ServerSocketClass,
} from "./secure-server.js";
export { runKeysCli } from "./cli.js";
export {
  DEFAULT_LOGIN_TIMEOUT,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_PENDING_LOGINS,
  DEFAULT_MAX_SUBSCRIPTIONS,
  DEFAULT_REFRESH_INTERVAL,
  DEFAULT_REFRESH_LIVENESS,
  DEFAULT_REQUEST_TIMEOUT,
} from "./pubsub/constants.js";
export {
  covers,
  matches,
  MAX_TOPIC_BYTES,
  parsePattern,
  parseTopic,
  type TopicPattern,
} from "./pubsub/topics.js";
export {
  issueToken,
  MAX_TOKEN_BYTES,
  MAX_TOKEN_PATTERNS,
  mayPublish,
  maySubscribe,
  RevocationList,
  TOKEN_MAGIC,
  verifyToken,
  type Revocations,
  type TokenCheck,
  type TokenClaims,
  type TokenRefusal,
  type VerifiedToken,
} from "./pubsub/token.js";
export {
  BrokerCommand,
  ClientCommand,
  decodeBroker,
  decodeClient,
  encodeBroker,
  encodeClient,
  loginTranscript,
  NONCE_BYTES,
  PUBSUB_MAGIC,
  type BrokerMessage,
  type ClientMessage,
  type StatusCode,
} from "./pubsub/wire.js";
export {
  BrokerCore,
  type BrokerCoreOptions,
  type BrokerEvents,
  type BrokerStats,
} from "./pubsub/broker-core.js";
export {
  SecurePubSubBroker,
  type SecurePubSubBrokerOptions,
  type SecurePubSubBrokerStats,
} from "./pubsub/broker.js";
export {
  SecurePubSubClient,
  type ClientEvents,
  type ClientStats,
  type Publication,
  type SecurePubSubClientOptions,
  type StatusReply,
} from "./pubsub/client.js";
export { REPLAY_WINDOW_SIZE, ReplayWindow } from "./e2e/replay-window.js";
export {
  BATCH_MAGIC,
  decodeBatchHeader,
  encodeBatchHeader,
  MAX_BATCH_MESSAGES,
  openBatch,
  sealBatch,
  type BatchHeader,
  type OpenContext,
  type OpenRefusal,
  type OpenResult,
  type SealInput,
} from "./e2e/envelope.js";
export {
  BUNDLE_MAGIC,
  DEFAULT_GRACE_WINDOW,
  KeyRing,
  unwrapGroupKey,
  wrapGroupKey,
  type GroupKey,
} from "./e2e/keys.js";
export {
  DEFAULT_EPOCH_HISTORY,
  DEFAULT_ROTATE_AFTER,
  DEFAULT_ROTATE_INTERVAL,
  KeyServiceCore,
  type KeyAnswer,
  type KeyServiceCoreOptions,
  type Rotation,
  type RotationReason,
} from "./e2e/key-service-core.js";
export {
  E2ESession,
  reportTranscript,
  type E2ESessionOptions,
  type E2ESessionStats,
} from "./e2e/session.js";
export {
  KEYS_MAGIC,
  KeyClient,
  KeyService,
  type KeyClientEvents,
  type KeyClientOptions,
  type KeyServiceEvents,
  type KeyServiceOptions,
} from "./e2e/key-service.js";
export {
  SecureTopicClient,
  type SecureTopicClientOptions,
  type SecureTopicEvents,
} from "./e2e/secure-topic-client.js";
