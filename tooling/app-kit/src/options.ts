import { parseArgs } from "node:util";
import { endpointProblem } from "@zg/core";
import { AppError } from "./errors.js";

/**
 * How an option's text is parsed:
 * - `string`: as is;
 * - `endpoints`: ZeroMQ endpoints, comma-separated or a repeated flag (`string[]`);
 * - `integer`: a non-negative integer;
 * - `duration`: milliseconds, written `2500`, `2500ms`, `2.5s` or `1m`;
 * - `boolean`: a bare flag, or `true/false/1/0/yes/no` in the environment;
 * - `address`: `host:port` (port 0 = any free port);
 * - `path`: a file-system path (see {@link AppContext.ensureDirectory}).
 */
export type OptionType =
  "string" | "endpoints" | "integer" | "duration" | "boolean" | "address" | "path";

/** The declaration of one app option. */
export interface OptionSpec {
  /** How the text is parsed. */
  readonly type: OptionType;
  /** One line for `--help`. */
  readonly description: string;
  /** The value when neither flag nor environment variable is given; none = unset. */
  readonly default?: string | number | boolean | readonly string[];
  /** Allowed values (for `string`). */
  readonly choices?: readonly string[];
  /** Smallest accepted value (for `integer`/`duration`). @defaultValue 0 */
  readonly min?: number;
}

/** Option declarations keyed by camelCase name; the flag is the kebab-case form. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type BaseValue<T extends OptionType> = T extends "endpoints"
  ? string[]
  : T extends "integer" | "duration"
    ? number
    : T extends "boolean"
      ? boolean
      : string;

/** The parsed values of `S`: options without a default may be `undefined`. */
export type OptionValues<S extends OptionSpecs> = {
  readonly [K in keyof S]: S[K] extends { default: unknown }
    ? BaseValue<S[K]["type"]>
    : BaseValue<S[K]["type"]> | undefined;
};

/** The options every app has, added by the kit. */
export const COMMON_OPTIONS = {
  metrics: {
    type: "address",
    description:
      "serve stats() as Prometheus text at http://<host:port>/metrics (and JSON at /stats); off when unset",
  },
  logLevel: {
    type: "string",
    default: "info",
    choices: ["trace", "debug", "info", "warn", "error", "silent"],
    description: "least severe log level written to stdout",
  },
  drainTimeout: {
    type: "duration",
    default: 1000,
    description: "on SIGINT/SIGTERM/SIGHUP, ms to let in-flight work finish before closing",
  },
  logBroker: {
    type: "endpoints",
    description:
      "also send every log line to a zg-log-broker at these endpoints (stdout is written as before; never blocks)",
  },
} as const satisfies OptionSpecs;

/** `heartbeatInterval` → `heartbeat-interval`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `majordomo-broker`, `heartbeatInterval` → `ZG_MAJORDOMO_BROKER_HEARTBEAT_INTERVAL`. */
export function envName(app: string, key: string): string {
  const snake = (s: string): string => flagName(s).replace(/-/g, "_").toUpperCase();
  return `ZG_${snake(app)}_${snake(key)}`;
}

/** How to set option `key` of `app`, for error lines: `--endpoint (or ZG_…_ENDPOINT)`. */
export function howToSet(app: string, key: string): string {
  return `--${flagName(key)} (or ${envName(app, key)})`;
}

/** Parses a duration in ms: `2500`, `2500ms`, `2.5s`, `1m`. Returns NaN when malformed. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const unit = m[2] ?? "ms";
  return Math.round(unit === "ms" ? n : unit === "s" ? n * 1000 : n * 60_000);
}

/** Converts one option's text (from a flag or the environment) to its value. */
function convert(
  app: string,
  key: string,
  spec: OptionSpec,
  raw: string | readonly string[] | boolean,
  source: string,
): unknown {
  const bad = (why: string): AppError => new AppError(`${source}: ${why}`, { option: key, app });
  switch (spec.type) {
    case "boolean": {
      if (typeof raw === "boolean") return raw;
      const t = String(raw).trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(t)) return true;
      if (["0", "false", "no", "off", ""].includes(t)) return false;
      throw bad(`expected true or false, got "${String(raw)}"`);
    }
    case "endpoints": {
      const list = (typeof raw === "string" ? [raw] : (raw as readonly string[]))
        .flatMap((s) => s.split(","))
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      if (list.length === 0) throw bad("needs at least one endpoint");
      for (const e of list) {
        const problem = endpointProblem(e);
        if (problem !== undefined) throw bad(problem);
      }
      return list;
    }
    case "integer": {
      const t = String(raw).trim();
      if (/^-\d/.test(t)) throw bad(`must not be negative, got ${t}`);
      const n = /^\d+$/.test(t) ? Number(t) : Number.NaN;
      if (!Number.isSafeInteger(n)) throw bad(`expected a non-negative integer, got "${t}"`);
      if (n < (spec.min ?? 0)) throw bad(`must be at least ${spec.min ?? 0}, got ${n}`);
      return n;
    }
    case "duration": {
      if (/^\s*-\d/.test(String(raw)))
        throw bad(`must not be negative, got ${String(raw).trim()} (durations are ms, 0 or more)`);
      const n = parseDuration(String(raw));
      if (Number.isNaN(n))
        throw bad(`expected a duration in ms (e.g. 2500, 2500ms, 2.5s), got "${String(raw)}"`);
      if (n < (spec.min ?? 0)) throw bad(`must be at least ${spec.min ?? 0} ms, got ${n}`);
      return n;
    }
    case "address": {
      const t = String(raw).trim();
      const m = /^(.+):(\d{1,5})$/.exec(t);
      const port = m ? Number(m[2]) : Number.NaN;
      if (!m || port > 65_535) throw bad(`expected host:port (e.g. 127.0.0.1:9100), got "${t}"`);
      return t;
    }
    case "string":
    case "path": {
      const t = String(raw);
      if (spec.choices && !spec.choices.includes(t))
        throw bad(`expected one of ${spec.choices.join(", ")}, got "${t}"`);
      if (spec.type === "path" && t.trim() === "") throw bad("must not be empty");
      return t;
    }
  }
}

/** The result of {@link parseOptions}. */
export type ParsedOptions<S extends OptionSpecs> =
  { readonly help: true } | { readonly help: false; readonly values: OptionValues<S> };

/**
 * Reads `specs` from command-line flags (first) and `ZG_<APP>_<OPTION>`
 * environment variables (second), falling back to the defaults.
 *
 * @throws {@link AppError} naming the option for an unknown flag or a malformed value.
 */
export function parseOptions<S extends OptionSpecs>(
  app: string,
  specs: S,
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParsedOptions<S> {
  const config: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {
    help: { type: "boolean" },
  };
  for (const [key, spec] of Object.entries(specs)) {
    config[flagName(key)] =
      spec.type === "boolean"
        ? { type: "boolean" }
        : spec.type === "endpoints"
          ? { type: "string", multiple: true }
          : { type: "string" };
  }
  // `--flag -5` is "argument is ambiguous" to parseArgs: judge the value as the flag's own.
  for (let i = 0; i + 1 < argv.length; i++) {
    const key = Object.keys(specs).find((k) => `--${flagName(k)}` === argv[i]);
    const spec = key === undefined ? undefined : specs[key];
    const next = argv[i + 1] as string;
    if (key !== undefined && spec !== undefined && spec.type !== "boolean" && /^-\d/.test(next))
      convert(app, key, spec, next, `--${flagName(key)}`);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: false });
  } catch (error) {
    const message = ((error as Error).message.split("\n")[0] ?? "bad arguments").replace(
      /\. To specify.*$/,
      "",
    );
    const flag = /'--([a-z0-9-]+)/.exec(message)?.[1];
    const key = Object.keys(specs).find((k) => flagName(k) === flag);
    if (key !== undefined)
      throw new AppError(`--${flag}: ${message} (write --${flag}=<value>)`, { app, option: key });
    throw new AppError(`${message}; see --help`, { app, usage: true });
  }
  if (parsed.values["help"] === true) return { help: true };
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const flag = parsed.values[flagName(key)];
    const fromEnv = env[envName(app, key)];
    if (flag !== undefined) {
      values[key] = convert(
        app,
        key,
        spec,
        flag as string | string[] | boolean,
        `--${flagName(key)}`,
      );
    } else if (fromEnv !== undefined) {
      values[key] = convert(app, key, spec, fromEnv, envName(app, key));
    } else if (spec.default !== undefined) {
      values[key] = Array.isArray(spec.default) ? [...(spec.default as string[])] : spec.default;
    } else {
      values[key] = undefined;
    }
  }
  return { help: false, values: values as OptionValues<S> };
}

function formatDefault(spec: OptionSpec): string {
  if (spec.default === undefined) return "unset";
  if (Array.isArray(spec.default)) return (spec.default as string[]).join(",");
  if (spec.type === "duration") return `${String(spec.default)} ms`;
  return String(spec.default);
}

const PLACEHOLDER: Record<OptionType, string> = {
  string: "<text>",
  endpoints: "<endpoints>",
  integer: "<n>",
  duration: "<ms>",
  boolean: "",
  address: "<host:port>",
  path: "<dir>",
};

/** The `--help` text: every option with its default and environment variable. */
export function formatHelp(
  app: {
    readonly name: string;
    readonly bin: string;
    readonly description: string;
    readonly guide: string;
  },
  specs: OptionSpecs,
): string {
  const lines = [
    `${app.bin}: ${app.description}`,
    `Re-expresses the ZeroMQ Guide's ${app.guide}.`,
    "",
    `Usage: ${app.bin} [options]`,
    "",
    "Every option can also be set with the environment variable shown; a flag wins over the environment.",
    "",
    "Options:",
  ];
  for (const [key, spec] of Object.entries(specs)) {
    const head = `  --${flagName(key)}${PLACEHOLDER[spec.type] ? ` ${PLACEHOLDER[spec.type]}` : ""}`;
    lines.push(head, `      ${spec.description}`);
    const choices = spec.choices ? `   choices: ${spec.choices.join(", ")}` : "";
    lines.push(`      default: ${formatDefault(spec)}   env: ${envName(app.name, key)}${choices}`);
  }
  lines.push("  --help", "      print this help and exit", "");
  lines.push(
    'Logs are JSON lines on stdout; the first line with "event":"ready" lists every bound endpoint.',
  );
  lines.push("SIGINT/SIGTERM/SIGHUP drain and close (exit 0); a second signal exits at once.");
  return lines.join("\n");
}
