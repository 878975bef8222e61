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
