import { open, readdir, readFile, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { checkRecord, type StoredLogRecord } from "./record.js";

const NAME = /^zg-log-(\d{8})\.jsonl$/;

/** File name of log file number `n`. */
export function logFileName(n: number): string {
  return `zg-log-${String(n).padStart(8, "0")}.jsonl`;
}

/** The log files in `dir`, oldest first, as `{ n, path }`. */
export async function listLogFiles(dir: string): Promise<{ n: number; path: string }[]> {
  const names = await readdir(dir);
  return names
    .map((name) => ({ m: NAME.exec(name), name }))
    .filter((x): x is { m: RegExpExecArray; name: string } => x.m !== null)
    .map((x) => ({ n: Number(x.m[1]), path: join(dir, x.name) }))
    .sort((a, b) => a.n - b.n);
}

/**
 * Reads the stored records of one file. A torn last line (the broker was
 * killed mid-write) and any line that is not a stored record are skipped and counted.
 */
export async function readLogFile(
  path: string,
): Promise<{ records: StoredLogRecord[]; bad: number }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return { records: [], bad: 0 }; // removed by retention meanwhile
  }
  const records: StoredLogRecord[] = [];
  let bad = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      const o = JSON.parse(line) as { bseq?: unknown };
      const r = checkRecord(o) as StoredLogRecord;
      if (!Number.isSafeInteger(o.bseq)) throw new Error("no bseq");
      records.push(r);
    } catch {
      bad++;
    }
  }
  return { records, bad };
}

/** Options of {@link LogFiles}. */
export interface LogFilesOptions {
  dir: string;
  maxFileBytes: number;
  rotateInterval: number;
  maxFiles: number;
}

/**
 * The broker's files: appends batches to the current file, rotates by size
 * and age, deletes the oldest beyond `maxFiles`. Every start opens a new file,
 * so a torn line from a killed broker is never continued.
 */
export class LogFiles {
  readonly #o: LogFilesOptions;
  #fh: FileHandle | undefined;
  #n = 0;
  #size = 0;
  #openedAt = 0;
  rotations = 0;
  deleted = 0;

  constructor(options: LogFilesOptions) {
    this.#o = options;
  }

  async open(lastN: number): Promise<void> {
    this.#n = lastN;
    await this.#next();
  }

  async #next(): Promise<void> {
    await this.#fh?.close();
    this.#n++;
    this.#fh = await open(join(this.#o.dir, logFileName(this.#n)), "a");
    this.#size = 0;
    this.#openedAt = performance.now();
    const files = await listLogFiles(this.#o.dir);
    for (const f of files.slice(0, Math.max(0, files.length - this.#o.maxFiles))) {
      await rm(f.path, { force: true });
      this.deleted++;
    }
  }

  /** True when the current file is due for rotation by age. */
  get dueByAge(): boolean {
    return this.#size > 0 && performance.now() - this.#openedAt >= this.#o.rotateInterval;
  }

  /**
   * Appends whole lines (each ending in `\n`), rotating whenever the next line
   * would take the file past `maxFileBytes` (a single longer line gets a file
   * of its own) or the file is older than `rotateInterval`.
   */
  async append(lines: readonly string[]): Promise<void> {
    let chunk = "";
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (
        this.#size + chunkBytes > 0 &&
        (this.#size + chunkBytes + bytes > this.#o.maxFileBytes || this.dueByAge)
      ) {
        if (chunk !== "") await this.#fh?.write(chunk);
        this.#size += chunkBytes;
        chunk = "";
        chunkBytes = 0;
        await this.#next();
        this.rotations++;
      }
      chunk += line;
      chunkBytes += bytes;
    }
    if (chunk !== "") await this.#fh?.write(chunk);
    this.#size += chunkBytes;
  }

  /** Rotates now if the file is old enough (called by the broker's timer). */
  async rotateIfDue(): Promise<void> {
    if (this.dueByAge) {
      await this.#next();
      this.rotations++;
    }
  }

  async close(): Promise<void> {
    await this.#fh?.close();
    this.#fh = undefined;
  }
}
