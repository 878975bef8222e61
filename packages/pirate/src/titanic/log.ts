// Titanic's log record codec and its resynchronising reader: pure functions
// over a random-access byte source, so they are unit-tested without a disk.
import {
  assertArgument,
  frameRecord,
  RECORD_HEADER,
  recordPayload,
  scanRecords,
  type Frame,
  type LogSource,
  type RecordFormat,
  type ScanResult,
} from "@zg/core";

/** Record kinds of the Titanic log. */
export const RecordKind = { Request: 1, Reply: 2, Close: 3 } as const;
/** One of {@link RecordKind}. */
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export { RECORD_HEADER };
/** Smallest payload: kind (1) + UUID (16) + frame count (4). */
export const MIN_PAYLOAD = 21;

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
  return frameRecord(rec, { reserved: true });
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
  const payload = recordPayload(rec, MIN_PAYLOAD);
  if (payload === undefined) return undefined;
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

export { bufferSource, type DamagedRange, type LogSource, type ScanResult } from "@zg/core";

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

const isKind = (kind: number | undefined): boolean =>
  kind === RecordKind.Request || kind === RecordKind.Reply || kind === RecordKind.Close;

/** The Titanic payload as a {@link RecordFormat}: kind, UUID, frames that fill the payload exactly. */
const TITANIC_FORMAT: RecordFormat<Omit<ScannedRecord, "at" | "size">> = {
  minPayload: MIN_PAYLOAD,
  plausible: (head, len) => isKind(head[0]) && head.readUInt32BE(17) <= (len - MIN_PAYLOAD) / 4,
  async inspect(read, start, len, head) {
    const kind = head[0] as RecordKind;
    const count = head.readUInt32BE(17);
    const end = start + len;
    let p = start + MIN_PAYLOAD;
    let first = "";
    for (let i = 0; i < count; i++) {
      if (p + 4 > end) return undefined;
      const fl = (await read(p, 4)).readUInt32BE(0);
      p += 4;
      if (p + fl > end) return undefined;
      if (i === 0 && kind === RecordKind.Request) first = (await read(p, fl)).toString("utf8");
      p += fl;
    }
    if (p !== end) return undefined;
    return { kind, key: head.subarray(1, 17).toString("hex"), first };
  },
};

/**
 * Reads a log from the start, streaming (memory bounded by one chunk, not by
 * the log), and calls `onRecord` for every valid record in order. A bad record
 * is not the end: the reader resynchronises on the next offset where a whole
 * valid record (plausible length ≤ `resyncLimit`, known kind, frames that fill
 * the payload, matching CRC) starts, and reports the bytes in between as
 * damaged. Bad bytes with no valid record after them are the torn tail.
 * (The framing and the reader are `@zg/core`'s `scanRecords`.)
 *
 * @param resyncLimit - largest record length believed while resynchronising
 *   (a record read in sequence may be larger).
 */
export function scanLog(
  source: LogSource,
  onRecord: (record: ScannedRecord) => void,
  resyncLimit: number,
): Promise<ScanResult> {
  return scanRecords(
    source,
    TITANIC_FORMAT,
    (r, at, size) => onRecord({ ...r, at, size }),
    resyncLimit,
  );
}
