import { ZgError } from "@zg/core/pure";

/**
 * One ZPL property (4/ZPL, rfc.zeromq.org/spec:4): a name, an untyped string
 * value (`""` when the line has no value, as in CZMQ `zconfig`) and the
 * properties indented 4 spaces below it, in file order.
 */
export interface ZplNode {
  /** The property name: letters, digits and `$ - _ @ . & + /`. */
  name: string;
  /** The value without its quotes; `""` for `name` or `name =`. */
  value: string;
  /** Child properties, in file order (duplicates kept). */
  children: ZplNode[];
  /** 1-based line of the name; present only with `positions: true`. */
  line?: number;
  /** 1-based column of the name; present only with `positions: true`. */
  column?: number;
}

/**
 * Which reading of ZPL the parser applies.
 *
 * - `"rfc"` (default): 4/ZPL as written. LF, CR and CR LF end lines; a value
 *   that opens a quote and never closes it is unquoted (the quote is kept);
 *   comment and blank lines may be indented any way; the file's first
 *   non-blank character must be `#` or a letter or digit; control characters
 *   other than tab are errors.
 * - `"zconfig"`: exactly what CZMQ 4.2 `zconfig_str_load` accepts, including
 *   its departures from the RFC: only LF ends a line (CR is trailing
 *   whitespace), an unterminated quote is an error, a comment line must be
 *   indented by a multiple of 4, names may not start or end with `/`, lines
 *   are cut at 1024 characters, `name = #x` keeps `#x` as the value.
 */
export type ZplDialect = "rfc" | "zconfig";

/** Options of {@link parseZpl}. */
export interface ZplParseOptions {
  /** @defaultValue "rfc" */
  dialect?: ZplDialect;
  /** Record `line`/`column` on every node (for schema errors). @defaultValue false */
  positions?: boolean;
}

/** Options of {@link writeZpl}. */
export interface ZplWriteOptions {
  /** Line ending written after every property. @defaultValue "\n" */
  lineEnding?: "\n" | "\r\n";
}

/**
 * The only error {@link parseZpl} throws: `code` `ZG_DECODE`, with the 1-based
 * `line` and `column` of the offending character and a short `reason`.
 */
export class ZplError extends ZgError<"ZG_DECODE"> {
  /** 1-based line number. */
  readonly line: number;
  /** 1-based column number. */
  readonly column: number;
  /** What is wrong, without the position. */
  readonly reason: string;

  constructor(line: number, column: number, reason: string, source?: string) {
    super(
      "ZG_DECODE",
      `${source === undefined ? "" : `${source}: `}line ${line}, column ${column}: ${reason}`,
      {
        details: { line, column, reason, ...(source === undefined ? {} : { source }) },
      },
    );
    this.line = line;
    this.column = column;
    this.reason = reason;
  }

  override get name(): string {
    return "ZplError";
  }
}

const NAME_CHAR = /[A-Za-z0-9$\-_@.&+/]/;
const ALNUM = /[A-Za-z0-9]/;

/** True when `name` is a valid ZPL property name (non-empty, name characters only). */
export function isZplName(name: string): boolean {
  return /^[A-Za-z0-9$\-_@.&+/]+$/.test(name);
}

/** Index of the first control character other than tab (U+0000–U+001F, U+007F), or -1. */
function controlAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return i;
  }
  return -1;
}

function describe(ch: string | undefined): string {
  if (ch === undefined) return "end of line";
  const code = ch.charCodeAt(0);
  if (code < 0x20 || code === 0x7f)
    return `control character 0x${code.toString(16).padStart(2, "0")}`;
  return `'${ch}'`;
}

/**
 * Parses ZPL text into its top-level properties. Never throws anything but
 * {@link ZplError}; the whole text is valid or nothing is returned
 * (zconfig's rule).
 *
 * @throws {@link ZplError} with the line and column of the first error.
 * @example
 * ```ts
 * const [main] = parseZpl("main\n    bind = tcp://*:5555\n");
 * main?.children[0]?.value; // "tcp://*:5555"
 * ```
 */
export function parseZpl(text: string, options: ZplParseOptions = {}): ZplNode[] {
  if (typeof text !== "string") throw new ZplError(1, 1, "input is not a string");
  return options.dialect === "zconfig"
    ? parseZconfig(text, options.positions === true)
    : parseRfc(text, options.positions === true);
}

/** Splits on LF, CR and CR LF (4/ZPL). */
function rfcLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

class TreeBuilder {
  readonly roots: ZplNode[] = [];
  readonly #path: ZplNode[] = [];
  constructor(private readonly positions: boolean) {}

  /** Depth the next property may have at most. */
  get maxLevel(): number {
    return this.#path.length;
  }

  add(level: number, name: string, value: string, line: number, column: number): void {
    const node: ZplNode = { name, value, children: [] };
    if (this.positions) {
      node.line = line;
      node.column = column;
    }
    const siblings = level === 0 ? this.roots : this.#path[level - 1]!.children;
    siblings.push(node);
    this.#path.length = level;
    this.#path.push(node);
  }
}

function isBlank(ch: string | undefined): boolean {
  return ch === " " || ch === "\t";
}

function parseRfc(text: string, positions: boolean): ZplNode[] {
  const lines = rfcLines(text);
  const tree = new TreeBuilder(positions);
  let seenContent = false;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    const lineNo = n + 1;
    const bad = controlAt(line);
    if (bad !== -1)
      throw new ZplError(lineNo, bad + 1, `${describe(line[bad])} is not allowed in ZPL`);
    let j = 0;
    while (isBlank(line[j])) j++;
    if (j === line.length) continue; // blank line
    if (line[j] === "#") {
      seenContent = true; // a comment line, at any indentation
      continue;
    }
    const tab = line.indexOf("\t");
    if (tab !== -1 && tab < j)
      throw new ZplError(lineNo, tab + 1, "indentation must be spaces, not tabs");
    if (!seenContent && !ALNUM.test(line[j]!))
      throw new ZplError(
        lineNo,
        j + 1,
        `the first non-blank character of a ZPL file must be '#' or a letter or digit, found ${describe(line[j])}`,
      );
    seenContent = true;
    if (j % 4 !== 0)
      throw new ZplError(lineNo, j + 1, `indentation of ${j} spaces is not a multiple of 4`);
    const level = j / 4;
    if (level > tree.maxLevel)
      throw new ZplError(
        lineNo,
        j + 1,
        tree.maxLevel === 0 && tree.roots.length === 0
          ? "the first property must not be indented"
          : `indented ${level - tree.maxLevel + 1} levels below its parent; a child is indented exactly 4 spaces more`,
      );
    let k = j;
    while (k < line.length && NAME_CHAR.test(line[k]!)) k++;
    if (k === j)
      throw new ZplError(lineNo, j + 1, `expected a property name, found ${describe(line[j])}`);
    const name = line.slice(j, k);
    let m = k;
    while (isBlank(line[m])) m++;
    let value = "";
    if (m < line.length && line[m] !== "#") {
      if (line[m] !== "=")
        throw new ZplError(
          lineNo,
          m + 1,
          `expected '=', a comment or the end of the line after the name, found ${describe(line[m])}`,
        );
      value = rfcValue(line, m + 1, lineNo);
    }
    tree.add(level, name, value, lineNo, j + 1);
  }
  return tree.roots;
}

function rfcValue(line: string, from: number, lineNo: number): string {
  let v = from;
  while (isBlank(line[v])) v++;
  if (v === line.length || line[v] === "#") return "";
  const q = line[v]!;
  if (q === '"' || q === "'") {
    const close = line.indexOf(q, v + 1);
    if (close !== -1) {
      let after = close + 1;
      while (isBlank(line[after])) after++;
      if (after < line.length && line[after] !== "#")
        throw new ZplError(
          lineNo,
          after + 1,
          `unexpected ${describe(line[after])} after the closing quote`,
        );
      return line.slice(v + 1, close);
    }
    // 4/ZPL: "A value that starts with a quote and does not end in a matching
    // quote is treated as unquoted."
  }
  const hash = line.indexOf("#", v);
  return line.slice(v, hash === -1 ? line.length : hash).replace(/[ \t]+$/, "");
}

/** C `isspace` in the C locale. */
function cSpace(ch: string | undefined): boolean {
  return ch === " " || (ch !== undefined && ch >= "\t" && ch <= "\r");
}

function parseZconfig(input: string, positions: boolean): ZplNode[] {
  const nul = input.indexOf("\0");
  const text = nul === -1 ? input : input.slice(0, nul); // C string
  const tree = new TreeBuilder(positions);
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    let line = lines[n]!.slice(0, 1024);
    let end = line.length;
    while (end > 0 && cSpace(line[end - 1])) end--;
    line = line.slice(0, end);
    let j = 0;
    while (line[j] === " ") j++;
    if (j % 4 !== 0) throw new ZplError(lineNo, j + 1, "indent 4 spaces at once");
    const level = j / 4;
    let k = j;
    while (k < line.length && NAME_CHAR.test(line[k]!)) k++;
    const name = line.slice(j, k);
    if (name.startsWith("/") || name.endsWith("/"))
      throw new ZplError(lineNo, j + 1, "'/' not valid at name start or end");
    if (name === "") {
      zconfigEoln(line, k, lineNo);
      continue;
    }
    const value = zconfigValue(line, k, lineNo);
    if (level > tree.maxLevel) throw new ZplError(lineNo, j + 1, "indentation error");
    tree.add(level, name, value, lineNo, j + 1);
  }
  return tree.roots;
}

function zconfigEoln(line: string, from: number, lineNo: number): void {
  let p = from;
  while (p < line.length && cSpace(line[p])) p++;
  if (p < line.length && line[p] !== "#")
    throw new ZplError(lineNo, p + 1, `invalid syntax '${line.slice(p)}'`);
}

function zconfigValue(line: string, from: number, lineNo: number): string {
  let p = from;
  while (cSpace(line[p])) p++;
  if (line[p] !== "=") {
    zconfigEoln(line, p, lineNo);
    return "";
  }
  p++;
  while (cSpace(line[p])) p++;
  const q = line[p];
  if (q === '"' || q === "'") {
    const close = line.indexOf(q, p + 1);
    if (close === -1) throw new ZplError(lineNo, p + 1, `missing ${q}`);
    zconfigEoln(line, close + 1, lineNo);
    return line.slice(p + 1, close);
  }
  const hash = line.indexOf("#", p);
  if (hash === -1) return line.slice(p);
  let c = hash;
  while (cSpace(line[c - 1])) c--;
  // zconfig writes the terminator before the value when the comment follows
  // the '=' and a space directly, so the value keeps the '#'.
  return c >= p ? line.slice(p, c) : line.slice(p);
}

/**
 * Writes properties as ZPL text (4 spaces per level, one property per line),
 * so that `parseZpl(writeZpl(nodes))` equals `nodes`. Values are written bare
 * when that reads back unchanged, else in double quotes, else in single
 * quotes; `line`/`column` are ignored. A file whose first name does not
 * start with a letter or digit begins with an empty `#` comment line.
 *
 * @throws `ZG_INVALID_ARGUMENT` for a name that is not a ZPL name, or a value
 * ZPL cannot hold (a line break or control character; leading or trailing
 * whitespace or `#` together with both quote characters).
 * @example
 * ```ts
 * writeZpl([{ name: "a", value: "x y", children: [] }]); // "a = x y\n"
 * ```
 */
export function writeZpl(nodes: readonly ZplNode[], options: ZplWriteOptions = {}): string {
  const eol = options.lineEnding ?? "\n";
  const out: string[] = [];
  const stack: { node: ZplNode; level: number; path: string }[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) stack.push({ node: nodes[i]!, level: 0, path: "" });
  // 4/ZPL: a file starts with '#' or a letter or digit.
  if (nodes.length > 0 && !ALNUM.test(String(nodes[0]!.name).charAt(0))) out.push(`#${eol}`);
  while (stack.length > 0) {
    const { node, level, path } = stack.pop()!;
    const where = `${path}/${String(node.name)}`;
    if (typeof node.name !== "string" || !isZplName(node.name))
      throw new ZgError("ZG_INVALID_ARGUMENT", `${where}: not a ZPL name`, {
        details: { path: where },
      });
    out.push(`${" ".repeat(level * 4)}${node.name}${encodeValue(node.value, where)}${eol}`);
    for (let i = node.children.length - 1; i >= 0; i--)
      stack.push({ node: node.children[i]!, level: level + 1, path: where });
  }
  return out.join("");
}

function encodeValue(value: string, where: string): string {
  if (typeof value !== "string")
    throw new ZgError("ZG_INVALID_ARGUMENT", `${where}: value must be a string`, {
      details: { path: where },
    });
  if (value === "") return "";
  if (controlAt(value) !== -1)
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      `${where}: a ZPL value cannot hold line breaks or control characters`,
      {
        details: { path: where },
      },
    );
  const first = value[0]!;
  const edges = isBlank(first) || isBlank(value[value.length - 1]);
  const hash = value.includes("#");
  const quoted = first === '"' || first === "'";
  if (!edges && !hash && !quoted) return ` = ${value}`;
  if (!value.includes('"')) return ` = "${value}"`;
  if (!value.includes("'")) return ` = '${value}'`;
  // Both quotes: bare is still exact when the opening quote never closes (RFC rule).
  if (!edges && !hash && value.indexOf(first, 1) === -1) return ` = ${value}`;
  throw new ZgError(
    "ZG_INVALID_ARGUMENT",
    `${where}: a value with both quote characters cannot also start with a quote, hold '#' or leading/trailing whitespace`,
    { details: { path: where } },
  );
}

/**
 * The first property at `path` (names from the top level down), as
 * `zconfig_locate` does with a slash-separated path; duplicates: the first.
 *
 * @example
 * ```ts
 * findZpl(parseZpl(text), "main", "frontend", "bind")?.value;
 * ```
 */
export function findZpl(nodes: readonly ZplNode[], ...path: string[]): ZplNode | undefined {
  let level: readonly ZplNode[] = nodes;
  let found: ZplNode | undefined;
  for (const name of path) {
    found = level.find((n) => n.name === name);
    if (found === undefined) return undefined;
    level = found.children;
  }
  return found;
}
