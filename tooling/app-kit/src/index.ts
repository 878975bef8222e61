/**
 * @zg/app-kit (private): the frame every zg app shares. An app is a folder
 * with a `config.ts` (its options) and a `main.ts` that calls
 * {@link runApp} with {@link defineApp}: options from flags and
 * `ZG_<APP>_<OPTION>` variables, `--help`, JSON logs with a `ready` line,
 * graceful SIGINT/SIGTERM, one-line startup errors, `--metrics`.
 *
 * @packageDocumentation
 */
export {
  CLOSE_TIMEOUT,
  connectableEndpoint,
  defineApp,
  runApp,
  type AddOptions,
  type AppComponent,
  type AppContext,
  type AppDefinition,
  type AppStarted,
  type RunAppIo,
} from "./app.js";
export { AppError, explainStartupError, type AppErrorOptions } from "./errors.js";
export { createAppLogger, toZgLogger, type PinoLogger } from "./logging.js";
export {
  DEFAULT_LABEL_HINTS,
  flattenStats,
  metricName,
  MetricsServer,
  statsToJson,
  type LabelHints,
  type StatsSample,
  type StatsSource,
} from "./metrics.js";
export {
  COMMON_OPTIONS,
  envName,
  flagName,
  formatHelp,
  howToSet,
  parseDuration,
  parseOptions,
  type OptionSpec,
  type OptionSpecs,
  type OptionType,
  type OptionValues,
  type ParsedOptions,
} from "./options.js";
export { isHostPort, listenOn } from "./listen.js";
export {
  DEFAULT_MDP_GATEWAY_SERVICE_CACHE,
  MAX_MDP_GATEWAY_CACHED_SERVICES,
  MdpGateway,
  mdpFailure,
  ServiceCache,
  type MdpFailureCode,
  type MdpGatewayOptions,
  type MdpOutcome,
} from "./mdp-gateway.js";
