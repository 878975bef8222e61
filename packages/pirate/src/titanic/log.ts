// Titanic's log record codec and its resynchronising reader: pure functions
// over a random-access byte source, so they are unit-tested without a disk.
import { crc32 } from "node:zlib";
import { assertArgument, type Frame } from "@zg/core";

/** Record kinds of the Titanic log. */
export const RecordKind = { Request: 1, Reply: 2, Close: 3 } as const;
/** One of {@link RecordKind}. */
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** Bytes before a record's payload: `[u32 payload length][u32 crc32(payload)]`. */
export const RECORD_HEADER = 8;
/** Smallest payload: kind (1) + UUID (16) + frame count (4). */
export const MIN_PAYLOAD = 21;
/** Bytes read at once while scanning. */
const CHUNK = 1 << 20;
/** Bytes read at once while checking the CRC of a large record (fewer, larger reads: much faster). */
const CRC_CHUNK = 16 << 20;

/** 32 hex digits → 16 bytes. */
function uuidBytes(uuid: string): Buffer {
  assertArgument(/^[0-9a-fA-F]{32}$/.test(uuid), `not a 32-hex UUID: ${uuid}`);
  return Buffer.from(uuid, "hex");
}

/**
 * Encodes one record: `[u32 length][u32 crc32][kind][uuid 16 B][u32 frame
 * count]([u32 len][bytes])…`, big-endian; the CRC covers the payload.
 */
export function encodeRecord(kind: RecordKind, uuid: string, frames: readonly Frame[]): Buffer {
  let size = MIN_PAYLOAD;
  for (const f of frames) size += 4 + f.length;
  const rec = Buffer.allocUnsafe(RECORD_HEADER + size);
  let o = RECORD_HEADER;
  rec[o++] = kind;
  uuidBytes(uuid).copy(rec, o);
  o += 16;
  rec.writeUInt32BE(frames.length, o);
  o += 4;
  for (const f of frames) {
    rec.writeUInt32BE(f.length, o);
    o += 4;
    f.copy(rec, o);
    o += f.length;
  }
  rec.writeUInt32BE(size, 0);
  rec.writeUInt32BE(crc32(rec.subarray(RECORD_HEADER)), 4);
  return rec;
}

/** A decoded record (whole frames). */
export interface DecodedRecord {
  kind: RecordKind;
  /** Lower-case hex UUID. */
  key: string;
  frames: Frame[];
}

/** Decodes a whole record (header included) that {@link encodeRecord} wrote; undefined if it is not one. */
export function decodeRecord(rec: Buffer): DecodedRecord | undefined {
  if (rec.length < RECORD_HEADER + MIN_PAYLOAD) return undefined;
  const size = rec.readUInt32BE(0);
  if (size !== rec.length - RECORD_HEADER) return undefined;
  const payload = rec.subarray(RECORD_HEADER);
  if (crc32(payload) !== rec.readUInt32BE(4)) return undefined;
  const kind = payload[0] as RecordKind;
  if (kind !== RecordKind.Request && kind !== RecordKind.Reply && kind !== RecordKind.Close)
    return undefined;
  const count = payload.readUInt32BE(17);
  const frames: Frame[] = [];
  let p = MIN_PAYLOAD;
  for (let i = 0; i < count; i++) {
    if (p + 4 > payload.length) return undefined;
    const len = payload.readUInt32BE(p);
    p += 4;
    if (p + len > payload.length) return undefined;
    frames.push(Buffer.from(payload.subarray(p, p + len)));
    p += len;
  }
  if (p !== payload.length) return undefined;
  return { kind, key: payload.subarray(1, 17).toString("hex"), frames };
}

/** Random access to the bytes of a log. */
export interface LogSource {
  /** Bytes in the log. */
  readonly size: number;
  /** `length` bytes at `position` (fewer only at the end). */
  readAt(position: number, length: number): Promise<Buffer>;
  /** Reads into `buf` (from its start) at `position`; resolves with the bytes read. Optional: saves an allocation per large read. */
  readInto?(buf: Buffer, position: number): Promise<number>;
}

/** A {@link LogSource} over a Buffer (tests). */
export function bufferSource(data: Buffer): LogSource {
  return {
    size: data.length,
    readAt: (position, length) =>
      Promise.resolve(data.subarray(position, Math.min(data.length, position + length))),
  };
}

/** What {@link scanLog} found in one valid record, without its body frames. */
export interface ScannedRecord {
  kind: RecordKind;
  key: string;
  /** Offset of the record (its header) in the log. */
  at: number;
  /** Record length, header included. */
  size: number;
  /** The first frame as UTF-8 (a REQUEST's service name), or "". */
  first: string;
}

/** A damaged range that {@link scanLog} skipped: `[from, to)`, followed by a valid record at `to`. */
export interface DamagedRange {
  from: number;
  to: number;
}

/** The result of {@link scanLog}. */
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
 * Checks the record at `at` without holding its body: the frame structure is
 * walked and the CRC computed chunk by chunk. Returns the record or undefined.
 */
async function checkRecord(
  w: Window,
  at: number,
  limit: number,
): Promise<ScannedRecord | undefined> {
  const size = w.source.size;
  if (at + RECORD_HEADER + MIN_PAYLOAD > size) return undefined;
  const head = await w.get(at, RECORD_HEADER + MIN_PAYLOAD);
  if (head.length < RECORD_HEADER + MIN_PAYLOAD) return undefined;
  const len = head.readUInt32BE(0);
  if (len < MIN_PAYLOAD || len > limit || at + RECORD_HEADER + len > size) return undefined;
  const kind = head[RECORD_HEADER] as RecordKind;
  if (kind !== RecordKind.Request && kind !== RecordKind.Reply && kind !== RecordKind.Close)
    return undefined;
  const count = head.readUInt32BE(RECORD_HEADER + 17);
  if (count > (len - MIN_PAYLOAD) / 4) return undefined;
  // Frame structure: the frames fill the payload exactly.
  const start = at + RECORD_HEADER;
  const end = start + len;
  let p = start + MIN_PAYLOAD;
  let first = "";
  for (let i = 0; i < count; i++) {
    if (p + 4 > end) return undefined;
    const fl = (await w.get(p, 4)).readUInt32BE(0);
    p += 4;
    if (p + fl > end) return undefined;
    if (i === 0 && kind === RecordKind.Request) first = (await w.get(p, fl)).toString("utf8");
    p += fl;
  }
  if (p !== end) return undefined;
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
  return {
    kind,
    key: head.subarray(RECORD_HEADER + 1, RECORD_HEADER + 17).toString("hex"),
    at,
    size: RECORD_HEADER + len,
    first,
  };
}

/** The first offset ≥ `from` where a valid record starts, or undefined. */
async function resync(w: Window, from: number, limit: number): Promise<number | undefined> {
  const size = w.source.size;
  const need = RECORD_HEADER + MIN_PAYLOAD;
  for (let q = from; q + need <= size;) {
    const chunk = await w.get(q, Math.min(CHUNK, size - q));
    const last = chunk.length - need;
    for (let i = 0; i <= last; i++) {
      // Cheap tests first: plausible length, known kind, plausible frame count.
      const len = chunk.readUInt32BE(i);
      if (len < MIN_PAYLOAD || len > limit || q + i + RECORD_HEADER + len > size) continue;
      const kind = chunk[i + RECORD_HEADER];
      if (kind !== RecordKind.Request && kind !== RecordKind.Reply && kind !== RecordKind.Close)
        continue;
      if (chunk.readUInt32BE(i + RECORD_HEADER + 17) > (len - MIN_PAYLOAD) / 4) continue;
      if ((await checkRecord(w, q + i, limit)) !== undefined) return q + i;
    }
    if (last < 0) break;
    q += last + 1;
  }
  return undefined;
}

/**
 * Reads a log from the start, streaming (memory bounded by one chunk, not by
 * the log), and calls `onRecord` for every valid record in order. A bad record
 * is not the end: the reader resynchronises on the next offset where a whole
 * valid record (plausible length ≤ `resyncLimit`, known kind, frames that fill
 * the payload, matching CRC) starts, and reports the bytes in between as
 * damaged. Bad bytes with no valid record after them are the torn tail.
 *
 * @param resyncLimit - largest record length believed while resynchronising
 *   (a record read in sequence may be larger).
 */
export async function scanLog(
  source: LogSource,
  onRecord: (record: ScannedRecord) => void,
  resyncLimit: number,
): Promise<ScanResult> {
  const w = new Window(source);
  const damaged: DamagedRange[] = [];
  let at = 0;
  let limit = resyncLimit;
  while (at < source.size) {
    const rec = await checkRecord(w, at, 0xffffffff);
    if (rec !== undefined) {
      onRecord(rec);
      if (rec.size > limit) limit = rec.size;
      at += rec.size;
      continue;
    }
    const next = await resync(w, at + 1, limit);
    if (next === undefined) break;
    damaged.push({ from: at, to: next });
    at = next;
  }
  return { validEnd: at, damaged };
}
