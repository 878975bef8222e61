import { endpointProblem, ZgError } from "@zg/core/pure";
import { parseZpl, ZplError, type ZplNode } from "../zpl/zpl.js";

/** Names file format version this package reads and writes, 1. */
export const NAMES_FILE_VERSION = 1;
/**
 * Longest logical name, 200 characters: a name is a key of the Clone feed
 * (`zns/names/<name>`), and 12/CHP keys are at most 255 bytes.
 */
export const MAX_NAME_LENGTH = 200;
/** Most endpoints in one `connect` or `bind` list, 64. */
export const MAX_ENDPOINTS_PER_LIST = 64;

/** Endpoints a rule sets; a list left out is inherited from a less specific rule. */
export interface EndpointRule {
  /** Endpoints clients connect to, in priority order. */
  connect?: readonly string[];
  /** Endpoints servers bind. */
  bind?: readonly string[];
  /** How long clients may cache the answer, ms. */
  ttl?: number;
}

/** An override of a name for one environment, one host, or both. */
export interface NameOverride extends EndpointRule {
  /** The environment this rule applies to ("test", "production", …). */
  env?: string;
  /** The host name this rule applies to (`os.hostname()` of the resolving agent). */
  host?: string;
}

/** One logical name of a names file: its base endpoints and its overrides. */
export interface NameEntry {
  /** The logical name. */
  readonly name: string;
  /** Endpoints for every environment and host without a more specific rule. */
  readonly base: EndpointRule;
  /** Environment / host rules; the most specific one wins per list. */
  readonly overrides: readonly NameOverride[];
}

/** A names table: every logical name of a names file. */
export interface NamesTable {
  /** Format version ({@link NAMES_FILE_VERSION}). */
  readonly version: number;
  /** The default environment of lookups that name none. */
  readonly defaultEnv?: string;
  /** Entries by logical name. */
  readonly names: ReadonlyMap<string, NameEntry>;
}

/** What a name resolves to for one environment and host. */
export interface ResolvedEndpoints {
  /** Endpoints to connect to, in priority order (may be empty). */
  connect: string[];
  /** Endpoints to bind (may be empty). */
  bind: string[];
  /** Cache lifetime in ms, when the file sets one. */
  ttl?: number;
}

/**
 * A names file that is valid ZPL but not a valid names file: `code`
 * `ZG_DECODE`, the 1-based `line`/`column` of the offending property and its
 * `path` (`/name/broker/env`).
 */
export class NamesFileError extends ZgError<"ZG_DECODE"> {
  /** 1-based line, 0 when the problem is not on one line. */
  readonly line: number;
  /** 1-based column, 0 when the problem is not on one line. */
  readonly column: number;
  /** The property path, slash-separated. */
  readonly path: string;

  constructor(node: ZplNode | undefined, path: string, reason: string, source?: string) {
    const line = node?.line ?? 0;
    const column = node?.column ?? 0;
    const where = `${source === undefined ? "" : `${source}: `}${line > 0 ? `line ${line}, column ${column}: ` : ""}`;
    super("ZG_DECODE", `${where}${path}: ${reason}`, {
      details: { line, column, path, reason, ...(source === undefined ? {} : { source }) },
    });
    this.line = line;
    this.column = column;
    this.path = path;
  }

  override get name(): string {
    return "NamesFileError";
  }
}

/** Options of {@link parseNamesFile}. */
export interface ParseNamesOptions {
  /** A file name for error messages. */
  source?: string;
}

/** True when `name` is a valid logical name: a ZPL name, at most {@link MAX_NAME_LENGTH} characters. */
export function isLogicalName(name: unknown): name is string {
  return (
    typeof name === "string" &&
    name.length > 0 &&
    name.length <= MAX_NAME_LENGTH &&
    /^[A-Za-z0-9$\-_@.&+/]+$/.test(name)
  );
}

/**
 * Reads a names file (ZPL):
 *
 * ```
 * zns
 *     version = 1
 *     default-env = production
 * name
 *     broker
 *         connect = tcp://broker-a:5555
 *         connect = tcp://broker-b:5555
 *         bind = tcp://*:5555
 *         ttl = 2000
 *         env = test
 *             connect = tcp://127.0.0.1:5555
 *             host = build-01
 *                 connect = tcp://lo:5555
 *         host = build-01
 *             bind = tcp://lo:5555
 * ```
 *
 * @throws {@link ZplError} when the text is not ZPL; {@link NamesFileError}
 * (both `ZG_DECODE`, with line and column) when it is not a names file.
 */
export function parseNamesFile(text: string, options: ParseNamesOptions = {}): NamesTable {
  const src = options.source;
  let nodes: ZplNode[];
  try {
    nodes = parseZpl(text, { positions: true });
  } catch (e) {
    if (e instanceof ZplError && src !== undefined)
      throw new ZplError(e.line, e.column, e.reason, src);
    throw e;
  }
  const fail = (node: ZplNode | undefined, path: string, reason: string): never => {
    throw new NamesFileError(node, path, reason, src);
  };
  let version = NAMES_FILE_VERSION;
  let defaultEnv: string | undefined;
  const names = new Map<string, NameEntry>();
  for (const top of nodes) {
    if (top.name === "zns") {
      for (const p of top.children) {
        const path = `/zns/${p.name}`;
        if (p.children.length > 0)
          fail(p.children[0], `${path}/${p.children[0]!.name}`, "unexpected property");
        if (p.name === "version") {
          if (p.value !== String(NAMES_FILE_VERSION))
            fail(
              p,
              path,
              `unsupported names file version "${p.value}" (this reader knows ${NAMES_FILE_VERSION})`,
            );
          version = NAMES_FILE_VERSION;
        } else if (p.name === "default-env") {
          if (!isLogicalName(p.value)) fail(p, path, "default-env needs an environment name");
          defaultEnv = p.value;
        } else fail(p, path, `unknown property (expected version or default-env)`);
      }
    } else if (top.name === "name") {
      if (top.value !== "") fail(top, "/name", "the name section takes no value");
      for (const n of top.children) {
        const path = `/name/${n.name}`;
        if (n.name.length > MAX_NAME_LENGTH)
          fail(n, path, `logical name longer than ${MAX_NAME_LENGTH} characters`);
        if (n.value !== "")
          fail(n, path, "a logical name takes no value; put connect/bind below it");
        if (names.has(n.name)) fail(n, path, "defined twice");
        names.set(n.name, readEntry(n, path, fail));
      }
    } else fail(top, `/${top.name}`, "unknown section (expected zns or name)");
  }
  return defaultEnv === undefined ? { version, names } : { version, defaultEnv, names };
}

type Fail = (node: ZplNode | undefined, path: string, reason: string) => never;

function readEntry(node: ZplNode, path: string, fail: Fail): NameEntry {
  const base: EndpointRule = {};
  const overrides: NameOverride[] = [];
  readRule(node, path, base, fail, (child, childPath) => {
    if (child.name === "env") {
      if (!isLogicalName(child.value))
        fail(child, childPath, "env needs an environment name: env = test");
      const rule: NameOverride = { env: child.value };
      const hosts: NameOverride[] = [];
      readRule(child, `${childPath}=${child.value}`, rule, fail, (g, gPath) => {
        if (g.name !== "host") return false;
        hosts.push(readHost(g, gPath, fail, child.value));
        return true;
      });
      overrides.push(rule, ...hosts);
      return true;
    }
    if (child.name === "host") {
      overrides.push(readHost(child, childPath, fail));
      return true;
    }
    return false;
  });
  const all = [base, ...overrides];
  if (!all.some((r) => (r.connect?.length ?? 0) + (r.bind?.length ?? 0) > 0))
    fail(node, path, "a name needs at least one connect or bind endpoint");
  return { name: node.name, base, overrides };
}

function readHost(node: ZplNode, path: string, fail: Fail, env?: string): NameOverride {
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(node.value) || node.value.length > 253)
    fail(node, path, "host needs a host name: host = build-01");
  const rule: NameOverride = env === undefined ? { host: node.value } : { env, host: node.value };
  readRule(node, `${path}=${node.value}`, rule, fail, () => false);
  return rule;
}

function readRule(
  node: ZplNode,
  path: string,
  rule: EndpointRule,
  fail: Fail,
  nested: (child: ZplNode, path: string) => boolean,
): void {
  const connect: string[] = [];
  const bind: string[] = [];
  for (const child of node.children) {
    const childPath = `${path}/${child.name}`;
    if (child.name === "connect" || child.name === "bind") {
      if (child.children.length > 0)
        fail(child.children[0], childPath, "an endpoint takes no children");
      const problem = endpointProblem(child.value);
      if (problem !== undefined) fail(child, childPath, problem);
      const list = child.name === "connect" ? connect : bind;
      if (list.length >= MAX_ENDPOINTS_PER_LIST)
        fail(child, childPath, `more than ${MAX_ENDPOINTS_PER_LIST} endpoints`);
      list.push(child.value);
    } else if (child.name === "ttl") {
      if (!/^\d{1,9}$/.test(child.value))
        fail(child, childPath, `ttl must be milliseconds (0..999999999), got "${child.value}"`);
      if (rule.ttl !== undefined) fail(child, childPath, "ttl set twice");
      rule.ttl = Number(child.value);
    } else if (!nested(child, childPath)) {
      fail(child, childPath, "unknown property (expected connect, bind, ttl, env or host)");
    }
  }
  if (connect.length > 0) rule.connect = connect;
  if (bind.length > 0) rule.bind = bind;
}

/**
 * What `entry` resolves to for `env` and `host`: per list (connect, bind, ttl)
 * the most specific rule that sets it, env + host, then env, then host, then
 * the base.
 *
 * @example
 * ```ts
 * resolveEntry(table.names.get("broker")!, { env: "test", host: os.hostname() }).connect;
 * ```
 */
export function resolveEntry(
  entry: NameEntry,
  where: { env?: string | undefined; host?: string | undefined },
): ResolvedEndpoints {
  const { env, host } = where;
  const rank = (r: NameOverride): number => {
    const envOk = r.env === undefined || r.env === env;
    const hostOk = r.host === undefined || r.host === host;
    if (!envOk || !hostOk) return -1;
    return (r.env !== undefined ? 2 : 0) + (r.host !== undefined ? 1 : 0);
  };
  const rules = [...entry.overrides]
    .map((r) => ({ r, k: rank(r) }))
    .filter((x) => x.k >= 0)
    .sort((a, b) => b.k - a.k)
    .map((x) => x.r as EndpointRule);
  rules.push(entry.base);
  const pick = <K extends keyof EndpointRule>(key: K): EndpointRule[K] | undefined =>
    rules.find((r) => r[key] !== undefined)?.[key];
  const ttl = pick("ttl");
  const out: ResolvedEndpoints = {
    connect: [...(pick("connect") ?? [])],
    bind: [...(pick("bind") ?? [])],
  };
  if (ttl !== undefined) out.ttl = ttl;
  return out;
}

/** The JSON form of a table, for the feed (names in a stable order). */
export function tableToJson(table: NamesTable): string {
  const names = [...table.names.values()].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  const canon = (r: NameOverride): NameOverride => {
    const out: NameOverride = {};
    if (r.env !== undefined) out.env = r.env;
    if (r.host !== undefined) out.host = r.host;
    if (r.connect !== undefined) out.connect = r.connect;
    if (r.bind !== undefined) out.bind = r.bind;
    if (r.ttl !== undefined) out.ttl = r.ttl;
    return out;
  };
  return JSON.stringify({
    version: table.version,
    defaultEnv: table.defaultEnv,
    names: names.map((e) => ({
      name: e.name,
      base: canon(e.base),
      overrides: e.overrides.map(canon),
    })),
  });
}

/**
 * Reads the JSON form written by {@link tableToJson} (from the network: every
 * field is checked).
 *
 * @throws {@link ZgError} `ZG_DECODE` when the JSON is not a names table.
 */
export function tableFromJson(json: string): NamesTable {
  const bad = (why: string): never => {
    throw new ZgError("ZG_DECODE", `names table: ${why}`);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new ZgError("ZG_DECODE", "names table: not JSON", { cause: e });
  }
  if (typeof raw !== "object" || raw === null) return bad("not an object");
  const o = raw as Record<string, unknown>;
  if (o["version"] !== NAMES_FILE_VERSION) bad(`unsupported version ${String(o["version"])}`);
  const defaultEnv = o["defaultEnv"];
  if (defaultEnv !== undefined && !isLogicalName(defaultEnv)) bad("bad defaultEnv");
  if (!Array.isArray(o["names"])) return bad("names is not a list");
  const names = new Map<string, NameEntry>();
  const rule = (v: unknown, what: string): NameOverride => {
    if (typeof v !== "object" || v === null) return bad(`${what} is not an object`);
    const r = v as Record<string, unknown>;
    const out: NameOverride = {};
    for (const key of ["connect", "bind"] as const) {
      const list = r[key];
      if (list === undefined) continue;
      if (
        !Array.isArray(list) ||
        list.length > MAX_ENDPOINTS_PER_LIST ||
        list.some((e) => endpointProblem(e) !== undefined)
      )
        bad(`${what}.${key} is not a list of endpoints`);
      out[key] = [...(list as string[])];
    }
    if (r["ttl"] !== undefined) {
      if (typeof r["ttl"] !== "number" || !Number.isInteger(r["ttl"]) || r["ttl"] < 0)
        bad(`${what}.ttl is not a duration`);
      out.ttl = r["ttl"] as number;
    }
    if (r["env"] !== undefined) {
      if (!isLogicalName(r["env"])) bad(`${what}.env is not a name`);
      out.env = r["env"] as string;
    }
    if (r["host"] !== undefined) {
      if (typeof r["host"] !== "string" || r["host"].length === 0 || r["host"].length > 253)
        bad(`${what}.host is not a host name`);
      out.host = r["host"] as string;
    }
    return out;
  };
  for (const e of o["names"] as unknown[]) {
    if (typeof e !== "object" || e === null) return bad("an entry is not an object");
    const entry = e as Record<string, unknown>;
    const name = entry["name"];
    if (!isLogicalName(name)) return bad("an entry has no valid name");
    if (!Array.isArray(entry["overrides"])) return bad(`${name}.overrides is not a list`);
    const base: EndpointRule = rule(entry["base"], `${name}.base`);
    names.set(name, {
      name,
      base,
      overrides: (entry["overrides"] as unknown[]).map((x, i) =>
        rule(x, `${name}.overrides[${i}]`),
      ),
    });
  }
  return defaultEnv === undefined
    ? { version: NAMES_FILE_VERSION, names }
    : { version: NAMES_FILE_VERSION, defaultEnv: defaultEnv as string, names };
}
