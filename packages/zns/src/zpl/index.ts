/**
 * `@zg/zns/zpl`: the 4/ZPL property language (rfc.zeromq.org/spec:4), parser
 * and writer, with no zeromq dependency.
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
} from "./zpl.js";
