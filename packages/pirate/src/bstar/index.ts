/**
 * `@zg/pirate/bstar`: Binary Star (Guide ch. 4, "High-Availability Pair")
 * on its own. Importing this entry point loads only Binary Star (and
 * @zg/core), none of the other patterns of `@zg/pirate`.
 *
 * @packageDocumentation
 */
export {
  BinaryStar,
  BSTAR_MAX_STATE_MESSAGE,
  type BinaryStarEndpoints,
  type BinaryStarEvents,
  type BinaryStarFrontendOptions,
  type BinaryStarOptions,
  type BinaryStarStats,
} from "./binary-star.js";
export {
  BinaryStarClient,
  DEFAULT_BSTAR_CLIENT_TIMEOUT,
  DEFAULT_BSTAR_SETTLE_DELAY,
  type BinaryStarClientEvents,
  type BinaryStarClientOptions,
  type BinaryStarClientStats,
  type BinaryStarRequestOptions,
} from "./client.js";
export {
  BinaryStarFsm,
  BSTAR_STATE_CODES,
  decodeBinaryStarState,
  DEFAULT_BSTAR_HEARTBEAT,
  encodeBinaryStarState,
  peerEvent,
  type BinaryStarEvent,
  type BinaryStarFsmOptions,
  type BinaryStarRole,
  type BinaryStarSplit,
  type BinaryStarState,
  type BinaryStarStep,
} from "./fsm.js";
export {
  BinaryStarWitness,
  decodeWitnessView,
  encodeWitnessView,
  type BinaryStarWitnessEvents,
  type BinaryStarWitnessOptions,
  type BinaryStarWitnessStats,
  type WitnessView,
} from "./witness.js";
