// Checksummed record framing and its resynchronising reader, shared by zg's
// append-only logs: `[u32 payload length][u32 crc32(payload)][payload]`,
// big-endian. Pure functions over a random-access byte source (LogSource), so
// they are unit-tested without a disk; the payload's own structure is the
// caller's (a RecordFormat).
import { crc32 } from "node:zlib";
import type { LogSource } from "./files.js";

/** Bytes before a record's payload: `[u32 payload length][u32 crc32(payload)]`. */
export const RECORD_HEADER = 8;
/** Bytes read at once while scanning. */
const CHUNK = 1 << 20;
/** Bytes read at once while checking the CRC of a large record (fewer, larger reads: much faster). */
const CRC_CHUNK = 16 << 20;

/**
 * Frames a payload as one record: `[u32 length][u32 crc32][payload]`.
 * `payload` may be given with its 8 header bytes reserved at the front
 * (`reserved: true`), which saves a copy.
 */
export function frameRecord(payload: Buffer, { reserved = false } = {}): Buffer {
  if (reserved) {
    const body = payload.subarray(RECORD_HEADER);
    payload.writeUInt32BE(body.length, 0);
    payload.writeUInt32BE(crc32(body), 4);
    return payload;
  }
  const rec = Buffer.allocUnsafe(RECORD_HEADER + payload.length);
  rec.writeUInt32BE(payload.length, 0);
  rec.writeUInt32BE(crc32(payload), 4);
  payload.copy(rec, RECORD_HEADER);
  return rec;
}

/** The payload of a whole record (header included), or undefined when length or CRC do not match. */
export function recordPayload(rec: Buffer, minPayload = 0): Buffer | undefined {
  if (rec.length < RECORD_HEADER + minPayload) return undefined;
  const size = rec.readUInt32BE(0);
  if (size !== rec.length - RECORD_HEADER) return undefined;
  const payload = rec.subarray(RECORD_HEADER);
  if (crc32(payload) !== rec.readUInt32BE(4)) return undefined;
  return payload;
}

/** How a log's payloads are recognised, for {@link scanRecords}. */
export interface RecordFormat<R> {
  /** Smallest payload, bytes. */
  readonly minPayload: number;
  /**
   * Cheap tests on the first `minPayload` bytes of a payload of `length`
   * bytes (kind byte, counts): filters resync candidates before the full check.
   */
  plausible(head: Buffer, length: number): boolean;
  /**
   * The payload's structure at `[start, start + length)` of the log, read
   * through `read` (cached): what `onRecord` gets, or undefined when it is
   * not a record. Called before the CRC is checked.
   */
  inspect(
    read: (position: number, length: number) => Promise<Buffer>,
    start: number,
    length: number,
    head: Buffer,
  ): Promise<R | undefined>;
}

/** A damaged range that {@link scanRecords} skipped: `[from, to)`, followed by a valid record at `to`. */
export interface DamagedRange {
  from: number;
  to: number;
}

/** The result of {@link scanRecords}. */
export interface ScanResult {
  /** End of the last valid record: bytes after it are a torn tail. */
  validEnd: number;
  /** Ranges of damaged bytes between valid records (mid-file corruption). */
  damaged: DamagedRange[];
}

/** Caches one window of the source, so that many small reads cost one big read. */
class Window {
  /** A reused buffer for CRC checks of large records. */
  scratch: Buffer | undefined;
  #at = 0;
  #buf: Buffer = Buffer.alloc(0);
  constructor(readonly source: LogSource) {}
  async get(position: number, length: number): Promise<Buffer> {
    if (position >= this.#at && position + length <= this.#at + this.#buf.length) {
      return this.#buf.subarray(position - this.#at, position - this.#at + length);
    }
    if (length > CHUNK) return this.source.readAt(position, length);
    this.#buf = await this.source.readAt(position, Math.max(CHUNK, length));
    this.#at = position;
    return this.#buf.subarray(0, Math.min(length, this.#buf.length));
  }
}

/**
 * Checks the record at `at` without holding its body: the format walks the
 * structure and the CRC is computed chunk by chunk. Returns what the format
 * found with the record's offset and size, or undefined.
 */
async function checkRecord<R>(
  w: Window,
  format: RecordFormat<R>,
  at: number,
  limit: number,
): Promise<{ record: R; size: number } | undefined> {
  const size = w.source.size;
  const min = format.minPayload;
  if (at + RECORD_HEADER + min > size) return undefined;
  const head = await w.get(at, RECORD_HEADER + min);
  if (head.length < RECORD_HEADER + min) return undefined;
  const len = head.readUInt32BE(0);
  if (len < min || len > limit || at + RECORD_HEADER + len > size) return undefined;
  const payloadHead = head.subarray(RECORD_HEADER);
  if (!format.plausible(payloadHead, len)) return undefined;
  const start = at + RECORD_HEADER;
  const end = start + len;
  const record = await format.inspect((p, n) => w.get(p, n), start, len, payloadHead);
  if (record === undefined) return undefined;
  // CRC over the payload, chunk by chunk (large records through one reused buffer).
  let crc = 0;
  const source = w.source;
  if (len > CHUNK && source.readInto !== undefined) {
    const scratch = (w.scratch ??= Buffer.allocUnsafe(CRC_CHUNK));
    for (let q = start; q < end; q += CRC_CHUNK) {
      const n = Math.min(CRC_CHUNK, end - q);
      const got = await source.readInto(n === CRC_CHUNK ? scratch : scratch.subarray(0, n), q);
      if (got !== n) return undefined;
      crc = crc32(n === CRC_CHUNK ? scratch : scratch.subarray(0, n), crc);
    }
  } else {
    for (let q = start; q < end; q += CRC_CHUNK) {
      crc = crc32(await w.get(q, Math.min(CRC_CHUNK, end - q)), crc);
    }
  }
  if (crc !== head.readUInt32BE(4)) return undefined;
  return { record, size: RECORD_HEADER + len };
}

/** The first offset ≥ `from` where a valid record starts, or undefined. */
async function resync<R>(
  w: Window,
  format: RecordFormat<R>,
  from: number,
  limit: number,
): Promise<number | undefined> {
  const size = w.source.size;
  const need = RECORD_HEADER + format.minPayload;
  for (let q = from; q + need <= size;) {
    const chunk = await w.get(q, Math.min(CHUNK, size - q));
    const last = chunk.length - need;
    for (let i = 0; i <= last; i++) {
      // Cheap tests first: plausible length, then the format's own.
      const len = chunk.readUInt32BE(i);
      if (len < format.minPayload || len > limit || q + i + RECORD_HEADER + len > size) continue;
      if (!format.plausible(chunk.subarray(i + RECORD_HEADER, i + need), len)) continue;
      if ((await checkRecord(w, format, q + i, limit)) !== undefined) return q + i;
    }
    if (last < 0) break;
    q += last + 1;
  }
  return undefined;
}

/**
 * Reads a log from the start, streaming (memory bounded by one chunk, not by
 * the log), and calls `onRecord` for every valid record in order, with its
 * offset and size (header included). A bad record is not the end: the reader
 * resynchronises on the next offset where a whole valid record (plausible
 * length ≤ `resyncLimit`, a payload the format accepts, matching CRC) starts,
 * and reports the bytes in between as damaged. Bad bytes with no valid record
 * after them are the torn tail.
 *
 * @param resyncLimit - largest record length believed while resynchronising
 *   (a record read in sequence may be larger).
 */
export async function scanRecords<R>(
  source: LogSource,
  format: RecordFormat<R>,
  onRecord: (record: R, at: number, size: number) => void,
  resyncLimit: number,
): Promise<ScanResult> {
  const w = new Window(source);
  const damaged: DamagedRange[] = [];
  let at = 0;
  let limit = resyncLimit;
  while (at < source.size) {
    const rec = await checkRecord(w, format, at, 0xffffffff);
    if (rec !== undefined) {
      onRecord(rec.record, at, rec.size);
      if (rec.size > limit) limit = rec.size;
      at += rec.size;
      continue;
    }
    const next = await resync(w, format, at + 1, limit);
    if (next === undefined) break;
    damaged.push({ from: at, to: next });
    at = next;
  }
  return { validEnd: at, damaged };
}
