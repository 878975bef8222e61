#!/usr/bin/env node
// zg-log: `zg-log tail [--level W] [--app NAME] [--since 10m] [--last N] [--json] [--no-follow] [--broker ENDPOINT]`.
import { parseArgs } from "node:util";
import {
  LOG_LEVELS,
  LogTail,
  type LogLevel,
  type StoredLogRecord,
  type TailRequest,
} from "@zg/devices";
import { DEFAULT_LOG_ENDPOINT } from "./config.js";

const USAGE = `Usage: zg-log tail [options]

Prints log records from a zg-log-broker: a replay first (--since / --last), then live.

Options:
  --broker <endpoint>   broker endpoint (default ${DEFAULT_LOG_ENDPOINT}, env ZG_LOG_BROKER)
  --level <D|I|W|E>     least severe level (debug, info, warn, error; default D)
  --app <name>          only this app
  --since <duration>    replay records from this long ago (e.g. 90s, 10m, 2h, 1d)
  --last <n>            replay the last n matching records
  --json                JSON lines (one stored record each) instead of text (text is coloured on a terminal)
  --no-follow           exit after the replay
  --help                this text
`;

const LETTERS: Record<string, LogLevel> = { D: "debug", I: "info", W: "warn", E: "error" };

function fail(message: string, code = 2): never {
  process.stderr.write(`zg-log: error: ${message}\n`);
  process.exit(code);
}

function duration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (m === null) fail(`--since: expected a duration such as 90s, 10m, 2h, 1d, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "ms"];
  return Number(m[1]) * unit;
}

const COLORS: Record<LogLevel, string> = {
  debug: "\x1b[90m",
  info: "",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};

function format(r: StoredLogRecord, color: boolean): string {
  const fields =
    r.fields !== undefined && Object.keys(r.fields).length > 0
      ? ` ${JSON.stringify(r.fields)}`
      : "";
  const text = `${new Date(r.time).toISOString()} ${r.level.toUpperCase().padEnd(5)} ${r.app}[${r.pid}]@${r.host} ${r.msg}${fields}`;
  return color && COLORS[r.level] !== "" ? `${COLORS[r.level]}${text}\x1b[0m` : text;
}

let parsed;
try {
  parsed = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    strict: true,
    options: {
      broker: { type: "string" },
      level: { type: "string" },
      app: { type: "string" },
      since: { type: "string" },
      last: { type: "string" },
      json: { type: "boolean" },
      "no-follow": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
} catch (error) {
  fail(
    `${((error as Error).message.split("\n")[0] ?? "bad arguments").replace(/\. To specify.*$/, "")}; see --help`,
  );
}
const { values, positionals } = parsed;
if (values.help === true) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (positionals[0] !== "tail" || positionals.length > 1)
  fail(`expected the command "tail"; see --help`);
const request: TailRequest = {};
if (values.level !== undefined) {
  const l =
    LETTERS[values.level.toUpperCase()] ??
    (LOG_LEVELS as readonly string[]).find((x) => x === values.level);
  if (l === undefined)
    fail(`--level: expected D, I, W, E (or debug, info, warn, error), got "${values.level}"`);
  request.level = l as LogLevel;
}
if (values.app !== undefined) request.app = values.app;
if (values.since !== undefined) request.since = Date.now() - duration(values.since);
if (values.last !== undefined) {
  if (!/^\d+$/.test(values.last)) fail(`--last: expected a whole number, got "${values.last}"`);
  request.last = Number(values.last);
}
if (values["no-follow"] === true) request.follow = false;
const broker = values.broker ?? process.env["ZG_LOG_BROKER"] ?? DEFAULT_LOG_ENDPOINT;
if (!/^(tcp|ipc|inproc):\/\/./.test(broker)) fail(`--broker: not a ZeroMQ endpoint: "${broker}"`);

const tail = new LogTail({ broker: broker, request });
await tail.start();
const color = values.json !== true && process.stdout.isTTY === true;
let heard = false;
const quiet =
  request.follow === false
    ? setTimeout(() => {
        if (!heard) fail(`no answer from a log broker at ${broker}`, 1);
      }, 5000)
    : undefined;
const stop = (): void => void tail.close();
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
for await (const { record } of tail.records()) {
  heard = true;
  process.stdout.write(
    `${values.json === true ? JSON.stringify(record) : format(record, color)}\n`,
  );
}
clearTimeout(quiet);
await tail.close();
