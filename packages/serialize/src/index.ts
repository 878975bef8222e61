/**
 * @zg/serialize: typed payloads for zg. Codecs (raw bytes, UTF-8 text, safe
 * JSON, protobuf by reflection and from static generated code), a typed
 * envelope that names schema and version, and a version-negotiation handshake.
 *
 * @packageDocumentation
 */
export { BYTES_CONTENT_TYPE, bytesCodec } from "./bytes-codec.js";
export {
  decodeEnvelopeHeader,
  encodeEnvelopeHeader,
  ENVELOPE_CONTENT_TYPE,
  ENVELOPE_SIGNATURE,
  MAX_SCHEMA_VERSION,
  MAX_TYPE_NAME,
  TypedEnvelope,
  type CodecValue,
  type EnvelopeHeader,
  type EnvelopeMessage,
  type EnvelopeSchemas,
  type TypedEnvelopeOptions,
} from "./envelope.js";
export { DecodeError, VersionError, type DecodeFailure } from "./errors.js";
export {
  FORBIDDEN_JSON_KEYS,
  JSON_CONTENT_TYPE,
  jsonCodec,
  type JsonCodecOptions,
} from "./json-codec.js";
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, type CodecLimits } from "./limits.js";
export {
  chooseVersion,
  createVersionResponder,
  decodeNegotiation,
  DEFAULT_NEGOTIATION_TIMEOUT,
  encodeHello,
  encodeReject,
  encodeWelcome,
  isNegotiationMessage,
  MAX_OFFERED_VERSIONS,
  negotiateVersion,
  NEGOTIATION_HEADER,
  NEGOTIATION_HELLO,
  NEGOTIATION_REJECT,
  NEGOTIATION_WELCOME,
  normaliseVersions,
  type NegotiateOptions,
  type NegotiationMessage,
  type NegotiationOutcome,
  type NegotiationPort,
  type VersionResponder,
} from "./negotiation.js";
export {
  loadProtoRoot,
  loadProtoRootSync,
  protobufCodec,
  protobufContentType,
  staticProtobufCodec,
  type LongLike,
  type ProtobufCodecOptions,
  type ProtobufField,
  type ProtobufValue,
  type StaticMessageClass,
} from "./protobuf-codec.js";
export { TEXT_CONTENT_TYPE, textCodec } from "./text-codec.js";
