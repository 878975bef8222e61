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
