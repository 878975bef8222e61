import { Writable } from "node:stream";
import type { LogPublisher } from "./log-publisher.js";

/** pino's own keys, not copied into a record's `fields`. */
const PINO_KEYS = new Set(["level", "time", "msg", "pid", "hostname", "app", "v"]);

/**
 * A pino destination (for `pino.multistream`, next to stdout) that sends every
 * log line to a {@link LogPublisher}: level (pino number or label), message
 * and the other fields become a structured record. Never blocks the logger
 * (the publisher buffers, drop-oldest) and never throws: a line that is not
 * pino JSON is counted in {@link LogStreamWritable.badLines} and skipped.
 *
 * @example
 * ```ts
 * const log = pino(pino.multistream([{ stream: process.stdout }, { stream: createLogStream(publisher) }]));
 * ```
 */
export function createLogStream(publisher: LogPublisher): LogStreamWritable {
  return new LogStreamWritable(publisher);
}

/** The stream {@link createLogStream} returns. */
export class LogStreamWritable extends Writable {
  readonly #publisher: LogPublisher;
  #partial = "";
  /** Lines that were not JSON objects. */
  badLines = 0;

  constructor(publisher: LogPublisher) {
    super({ decodeStrings: false });
    this.#publisher = publisher;
  }

  override _write(
    chunk: unknown,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    const text = this.#partial + String(chunk);
    const lines = text.split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) if (line !== "") this.#line(line);
    callback();
  }

  #line(line: string): void {
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      this.badLines++;
      return;
    }
    if (typeof o !== "object" || o === null || Array.isArray(o)) {
      this.badLines++;
      return;
    }
    const r = o as Record<string, unknown>;
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (!PINO_KEYS.has(k)) fields[k] = v;
    const raw = r["level"];
    const level = typeof raw === "number" || typeof raw === "string" ? raw : "info";
    this.#publisher.log(level, typeof r["msg"] === "string" ? r["msg"] : "", fields);
  }
}
