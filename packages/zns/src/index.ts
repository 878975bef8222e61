/**
 * @zg/zns: the ZeroMQ name service (Guide ch. 4 "Freelance", the notes' "A
 * ZeroMQ Name Service", ch. 8 discovery) and 4/ZPL.
 *
 * @packageDocumentation
 */
export {
  findZpl,
  isZplName,
  parseZpl,
  writeZpl,
  ZplError,
  type ZplDialect,
  type ZplNode,
  type ZplParseOptions,
  type ZplWriteOptions,
} from "./zpl/index.js";
export {
  isLogicalName,
  MAX_ENDPOINTS_PER_LIST,
  MAX_NAME_LENGTH,
  NAMES_FILE_VERSION,
  NamesFileError,
  parseNamesFile,
  resolveEntry,
  tableFromJson,
  tableToJson,
  type EndpointRule,
  type NameEntry,
  type NameOverride,
  type NamesTable,
  type ParseNamesOptions,
  type ResolvedEndpoints,
} from "./names/names-file.js";
export { decodeFeed, encodeFeed, FEED_SIGNATURE, type FeedMessage } from "./feed/protocol.js";
export type { NamesFeed, NamesFeedPublisher, NamesFeedSubscriber } from "./feed/feed.js";
export {
  DEFAULT_FEED_MAX_MESSAGE_SIZE,
  DEFAULT_SYNC_INTERVAL,
  routerFeed,
  RouterFeedPublisher,
  RouterFeedSubscriber,
  type RouterFeedEvents,
  type RouterFeedOptions,
  type RouterFeedPublisherStats,
  type RouterFeedSubscriberStats,
} from "./feed/router-feed.js";
export {
  CLONE_FEED_SUBTREE,
  cloneFeed as Experimental_cloneFeed,
  type CloneFeedOptions,
} from "./feed/clone-feed.js";
export { DEFAULT_WATCH_INTERVAL } from "./internal/watch-file.js";
export {
  ZnsServer,
  type ZnsServerEvents,
  type ZnsServerOptions,
  type ZnsServerStats,
} from "./server/zns-server.js";
export {
  decodeAnswer,
  decodeLookup,
  encodeAnswer,
  encodeLookup,
  LOOKUP_SIGNATURE,
  type AnswerSource,
  type LookupErrorCode,
  type Resolution,
} from "./agent/protocol.js";
export {
  agentEndpoint,
  DEFAULT_LOOKUP_MAX_MESSAGE_SIZE,
  DEFAULT_NAME_TTL,
  DEFAULT_SERVER_TIMEOUT,
  defaultRuntimeDir,
  ZnsAgent,
  type ZnsAgentEvents,
  type ZnsAgentOptions,
  type ZnsAgentStats,
} from "./agent/zns-agent.js";
export { mapEndpoint, type HostLookup } from "./client/dns.js";
export {
  bindByName,
  closeDefaultClient,
  connectByName,
  DEFAULT_CACHE_ENTRIES,
  DEFAULT_FOLLOW_INTERVAL,
  DEFAULT_RESOLVE_TIMEOUT,
  resolve,
  ZnsClient,
  type ConnectByNameOptions,
  type NameConnection,
  type ResolveOptions,
  type ResolveResult,
  type ZnsClientEvents,
  type ZnsClientOptions,
  type ZnsClientStats,
} from "./client/zns-client.js";
export {
  decodeZreBeacon,
  encodeZreBeacon,
  UDPPING_BEACON,
  ZRE_BEACON_SIZE,
  ZRE_BEACON_VERSION,
  type ZreBeacon,
} from "./discovery/protocol.js";
export {
  Beacon,
  DEFAULT_BEACON_INTERVAL,
  DEFAULT_BEACON_LIVENESS,
  DEFAULT_BEACON_PORT,
  DEFAULT_BROADCAST_ADDRESS,
  UDPPING_PORT,
  type BeaconEvents,
  type BeaconFormat,
  type BeaconOptions,
  type BeaconPeer,
  type BeaconStats,
} from "./discovery/beacon.js";
