import { ProtocolError } from "@zg/core/pure";

/** Log levels, least severe first (the notes' I/W/E filter, plus debug). */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The one-letter level used in topics: D, I, W, E. */
export function levelLetter(level: LogLevel): string {
  return level === "debug" ? "D" : level === "info" ? "I" : level === "warn" ? "W" : "E";
}

/** The levels at or above `min`. */
export function levelsFrom(min: LogLevel): LogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(min));
}

/** Maps pino's numeric or named levels onto {@link LogLevel} (trace → debug, fatal → error). */
export function toLogLevel(level: unknown): LogLevel {
  if (typeof level === "number") {
    return level >= 50 ? "error" : level >= 40 ? "warn" : level >= 30 ? "info" : "debug";
  }
  if (level === "fatal") return "error";
  if (level === "trace") return "debug";
  return (LOG_LEVELS as readonly unknown[]).includes(level) ? (level as LogLevel) : "info";
}

/** A structured log record as a publisher sends it. Times in ms. */
export interface LogRecord {
  /** The publisher's random id (16 hex digits), new per process start. */
  src: string;
  /** The publisher's sequence number, from 1, no gaps. */
  seq: number;
  level: LogLevel;
  /** Wall clock, ms since the epoch. */
  time: number;
  /** The publisher's monotonic clock (`performance.now()`), ms. */
  mono: number;
  app: string;
  host: string;
  pid: number;
  msg: string;
  /** Extra structured fields. */
  fields?: Record<string, unknown>;
}

/** A record as the broker stores and serves it: plus its broker sequence number. */
export interface StoredLogRecord extends LogRecord {
  /** The broker's sequence number, from 1 over all publishers, across restarts. */
  bseq: number;
}

const SRC = /^[0-9a-f]{16}$/;

/**
 * Validates a decoded record (from the network or a file).
 *
 * @throws {@link ProtocolError} when it is not a record.
 */
export function checkRecord(o: unknown): LogRecord {
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new ProtocolError("log record: not an object");
  }
  const r = o as Record<string, unknown>;
  if (
    typeof r["src"] !== "string" ||
    !SRC.test(r["src"]) ||
    !Number.isSafeInteger(r["seq"]) ||
    (r["seq"] as number) < 1 ||
    !(LOG_LEVELS as readonly unknown[]).includes(r["level"]) ||
    typeof r["time"] !== "number" ||
    !Number.isFinite(r["time"]) ||
    typeof r["mono"] !== "number" ||
    typeof r["app"] !== "string" ||
    r["app"].length === 0 ||
    r["app"].length > 128 ||
    r["app"].includes("/") ||
    typeof r["host"] !== "string" ||
    !Number.isSafeInteger(r["pid"]) ||
    typeof r["msg"] !== "string" ||
    (r["fields"] !== undefined && (typeof r["fields"] !== "object" || r["fields"] === null))
  ) {
    throw new ProtocolError("log record: missing or malformed field");
  }
  return r as unknown as LogRecord;
}

/** Parses a JSON record. @throws {@link ProtocolError} */
export function parseRecord(text: string): LogRecord {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    throw new ProtocolError("log record: not JSON");
  }
  return checkRecord(o);
}

/**
 * The broker's acceptance rule, pure. A publisher sends records in order and
 * resends from its oldest unacknowledged one (`floor`) when acks stop; records
 * below `floor` that the broker never saw were dropped by the publisher's
 * full buffer. With `last` the highest seq already stored for this publisher:
 *
 * - `seq === last + 1`: the next one: store;
 * - `floor > last + 1 && seq === floor`: store, and `floor − last − 1` records
 *   are known to be lost upstream (counted, never silently);
 * - `seq <= last`: a duplicate (a resend): do not store, but acknowledge;
 * - anything else: out of order (an earlier one was lost in transit): drop;
 *   the publisher's resend fills the gap.
 */
export function acceptRecord(
  last: number,
  seq: number,
  floor: number,
): "store" | "duplicate" | "out-of-order" | { gap: number } {
  if (seq <= last) return "duplicate";
  if (seq === last + 1) return "store";
  if (floor > last + 1 && seq === floor) return { gap: floor - last - 1 };
  return "out-of-order";
}

/** Log wire header frame: `ZGLOG01` (signature + version, protocols.md §17.1). */
export const LOG_SIGNATURE = "ZGLOG01";

/** The PUB topic of a record: `ZGLOG01/<L>/<app>/` (prefix filtering by level, then app). */
export function logTopic(level: LogLevel, app: string): string {
  return `${LOG_SIGNATURE}/${levelLetter(level)}/${app}/`;
}
