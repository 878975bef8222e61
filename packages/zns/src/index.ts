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
