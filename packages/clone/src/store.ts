// The Clone server's optional persistence (beyond the Guide, which keeps
// everything in memory): an append-only, checksummed update log in segments
// plus snapshot compaction, on @zg/core's durable primitives (the ones
// Titanic's store uses).
import { open, readdir, rename, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import {
  decodeProperties,
  deferred,
  encodeProperties,
  durationOption,
  fileSource,
  frameRecord,
  integerOption,
  isFsyncPolicy,
  makeDirectory,
  releaseLock,
  scanRecords,
  silentLogger,
  syncDir,
  takeLock,
  writeAll,
  ZgError,
  type Deferred,
  type FsyncPolicy,
  type Logger,
  type RecordFormat,
} from "@zg/core";
import type { KvMsg } from "./protocol/kvmsg.js";

/** Default fsync period of the `"interval"` policy, ms (as Titanic's). Not in the Guide. */
export const DEFAULT_CLONE_FSYNC_INTERVAL = 100;
/** Log segment size, bytes, past which the store compacts (writes a snapshot, drops old segments). Not in the Guide. */
export const DEFAULT_CLONE_COMPACT_MIN_BYTES = 4_194_304;

/** Options of {@link CloneStore.open}. */
export interface CloneStoreOptions {
  /** fsync policy (as Titanic's). @defaultValue "always" */
  fsync?: FsyncPolicy;
  /** Period of the `"interval"` policy, ms. @defaultValue {@link DEFAULT_CLONE_FSYNC_INTERVAL} */
  fsyncInterval?: number;
  /** Segment size that triggers a compaction, bytes. @defaultValue {@link DEFAULT_CLONE_COMPACT_MIN_BYTES} */
  compactMinBytes?: number;
  /** Where damage is reported. Silent by default. */
  logger?: Logger;
}

/** One entry as restored from disk: the message and its wall-clock expiry (epoch ms), if any. */
export interface StoredEntry {
  message: KvMsg;
  expiresAt: number | undefined;
}

/** Counters of a {@link CloneStore}. */
export interface CloneStoreStats {
  /** Records appended since open. */
  appends: number;
  /** fsync calls since open. */
  fsyncs: number;
  /** Compactions since open. */
  compactions: number;
  /** Bytes in the current segment. */
  segmentBytes: number;
  /** Damaged bytes skipped at open. */
  damagedBytes: number;
}

const LOCK = "clone.lock";
const SNAPSHOT = "clone.snapshot";
const SEGMENT = /^clone-(\d{12})\.log$/;
const segmentName = (n: number): string => `clone-${String(n).padStart(12, "0")}.log`;

const KIND_ENTRY = 1;
const KIND_END = 2;
/** kind (1) + sequence (8) + expiry (8) + key length (2) + uuid length (1) + props length (4) + body length (4). */
const MIN_PAYLOAD = 28;

function encodeEntry(kind: number, message: KvMsg, expiresAt: number | undefined): Buffer {
  const key = Buffer.from(message.key, "utf8");
  const props = encodeProperties(message.properties);
  const size = MIN_PAYLOAD + key.length + message.uuid.length + props.length + message.body.length;
  const p = Buffer.allocUnsafe(8 + size);
  let o = 8;
  p[o++] = kind;
  p.writeBigUInt64BE(message.sequence, o);
  o += 8;
  p.writeBigUInt64BE(BigInt(Math.max(0, Math.round(expiresAt ?? 0))), o);
  o += 8;
  p.writeUInt16BE(key.length, o);
  o += 2;
  o += key.copy(p, o);
  p[o++] = message.uuid.length;
  o += message.uuid.copy(p, o);
  p.writeUInt32BE(props.length, o);
  o += 4;
  o += props.copy(p, o);
  p.writeUInt32BE(message.body.length, o);
  o += 4;
  message.body.copy(p, o);
  return frameRecord(p, { reserved: true });
}

function decodeEntry(p: Buffer): { kind: number; entry: StoredEntry } | undefined {
  let o = 0;
  const kind = p[o++];
  if (kind !== KIND_ENTRY && kind !== KIND_END) return undefined;
  const sequence = p.readBigUInt64BE(o);
  o += 8;
  const expiry = Number(p.readBigUInt64BE(o));
  o += 8;
  const keyLen = p.readUInt16BE(o);
  o += 2;
  if (o + keyLen + 1 > p.length) return undefined;
  const key = p.subarray(o, o + keyLen).toString("utf8");
  o += keyLen;
  const uuidLen = p[o++] ?? 0;
  if ((uuidLen !== 0 && uuidLen !== 16) || o + uuidLen + 4 > p.length) return undefined;
  const uuid = Buffer.from(p.subarray(o, o + uuidLen));
  o += uuidLen;
  const propLen = p.readUInt32BE(o);
  o += 4;
  if (o + propLen + 4 > p.length) return undefined;
  let properties: Map<string, string>;
  try {
    properties = decodeProperties(p.subarray(o, o + propLen));
  } catch {
    return undefined;
  }
  o += propLen;
  const bodyLen = p.readUInt32BE(o);
  o += 4;
  if (o + bodyLen !== p.length) return undefined;
  const body = Buffer.from(p.subarray(o, o + bodyLen));
  return {
    kind,
    entry: {
      message: { key, sequence, uuid, properties, body },
      expiresAt: expiry === 0 ? undefined : expiry,
    },
  };
}

const FORMAT: RecordFormat<{ kind: number; entry: StoredEntry }> = {
  minPayload: MIN_PAYLOAD,
  plausible: (head) => head[0] === KIND_ENTRY || head[0] === KIND_END,
  inspect: async (read, start, length) => decodeEntry(await read(start, length)),
};

/**
 * The Clone server's durable state in a data directory:
 *
 * - `clone-<n>.log` segments: every message the server applies (a client
 *   update it published, an expiry delete, an update copied from the active
 *   peer) is appended, as a checksummed record, **before** it is published;
 *   with the `"always"` policy it is also fsynced first (group commit).
 * - `clone.snapshot`: the whole map at a sequence S, written by
 *   {@link compact} (tmp file, fsync, rename, directory fsync), after which
 *   the segments it covers are deleted.
 * - `clone.lock`: the exclusive lock (`takeLock` of `@zg/core`).
 *
 * At open, the snapshot and then every segment are read (records up to S
 * skipped, a torn tail cut, damage skipped by resync and logged): the map
 * and the highest sequence ever appended come back, so a restarted server
 * never reissues a sequence number it published.
 */
export class CloneStore {
  readonly directory: string;
  readonly policy: FsyncPolicy;
  /** The entries restored at open (latest per key, deletes removed) and the highest sequence on disk. */
  readonly restored: { entries: StoredEntry[]; sequence: bigint };
  readonly #lock: string;
  readonly #logger: Logger;
  readonly #compactMin: number;
  #fh: FileHandle;
  #segment: number;
  #bytes = 0;
  /** Segments found at open (each restart leaves one): many of them also call for a compaction. */
  #oldSegments = 0;
  #batch: { buf: Buffer; done: Deferred<void> }[] = [];
  #flushing: Promise<void> | undefined;
  #compacting: Promise<void> | undefined;
  /** A segment switch in progress: appends taken after it wait for it. */
  #rotation: Promise<void> | undefined;
  /** The write in flight now. */
  #writing: Promise<void> | undefined;
  #dirty = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #stats = { appends: 0, fsyncs: 0, compactions: 0, damagedBytes: 0 };

  private constructor(
    directory: string,
    policy: FsyncPolicy,
    lock: string,
    fh: FileHandle,
    segment: number,
    logger: Logger,
    compactMin: number,
    restored: { entries: StoredEntry[]; sequence: bigint },
  ) {
    this.directory = directory;
    this.policy = policy;
    this.#lock = lock;
    this.#fh = fh;
    this.#segment = segment;
    this.#logger = logger;
    this.#compactMin = compactMin;
    this.restored = restored;
  }

  /**
   * Opens (creating if needed) the store in `directory`, takes its lock and
   * reads it back.
   *
   * @throws {@link ZgError} `ZG_STORAGE` when the directory cannot be used or
   * another process holds the lock; `ZG_INVALID_ARGUMENT` for a bad option.
   */
  static async open(directory: string, options: CloneStoreOptions = {}): Promise<CloneStore> {
    const policy = options.fsync ?? "always";
    if (!isFsyncPolicy(policy)) {
      throw new ZgError("ZG_INVALID_ARGUMENT", "fsync must be always, interval or never");
    }
    const interval = durationOption(
      "fsyncInterval",
      options.fsyncInterval,
      DEFAULT_CLONE_FSYNC_INTERVAL,
      { min: 1 },
    );
    const compactMin = integerOption(
      "compactMinBytes",
      options.compactMinBytes,
      DEFAULT_CLONE_COMPACT_MIN_BYTES,
      { min: 1024 },
    );
    const logger = options.logger ?? silentLogger;
    let lock: string | undefined;
    try {
      await makeDirectory(directory);
      lock = await takeLock(directory, { file: LOCK, owner: "Clone server" });
      await rm(join(directory, `${SNAPSHOT}.tmp`), { force: true });
      const map = new Map<string, StoredEntry>();
      let sequence = 0n;
      let damagedBytes = 0;
      const apply = (entry: StoredEntry, floor: bigint): void => {
        const m = entry.message;
        if (m.sequence > sequence) sequence = m.sequence;
        if (m.sequence <= floor) return;
        if (m.body.length === 0) map.delete(m.key);
        else map.set(m.key, entry);
      };
      const read = async (path: string, onRecord: (kind: number, e: StoredEntry) => void) => {
        let fh: FileHandle;
        try {
          fh = await open(path, "r+");
        } catch (error) {
          if ((error as { code?: string }).code === "ENOENT") return;
          throw error;
        }
        try {
          const size = (await fh.stat()).size;
          const { validEnd, damaged } = await scanRecords(
            fileSource(fh, size),
            FORMAT,
            (r) => onRecord(r.kind, r.entry),
            16 << 20,
          );
          for (const d of damaged) damagedBytes += d.to - d.from;
          if (damaged.length > 0)
            logger.error("Clone log: damaged records skipped", { path, damaged: damaged.length });
          if (validEnd < size) {
            await fh.truncate(validEnd);
            logger.warn("Clone log: cut off a torn tail", { path, bytes: size - validEnd });
          }
        } finally {
          await fh.close();
        }
      };
      // The snapshot: entries, then an end record carrying its sequence S.
      let floor = 0n;
      const snapshotEntries: StoredEntry[] = [];
      let snapshotComplete = false;
      await read(join(directory, SNAPSHOT), (kind, e) => {
        if (kind === KIND_END) {
          floor = e.message.sequence;
          snapshotComplete = true;
        } else snapshotEntries.push(e);
      });
      if (snapshotComplete) {
        for (const e of snapshotEntries) map.set(e.message.key, e);
        sequence = floor;
      }
      const segments = (await readdir(directory))
        .map((f) => SEGMENT.exec(f))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b);
      for (const n of segments) {
        await read(join(directory, segmentName(n)), (kind, e) => {
          if (kind === KIND_ENTRY) apply(e, floor);
        });
      }
      const segment = (segments.at(-1) ?? 0) + 1;
      const fh = await open(join(directory, segmentName(segment)), "a");
      await syncDir(directory);
      const store = new CloneStore(directory, policy, lock, fh, segment, logger, compactMin, {
        entries: [...map.values()],
        sequence,
      });
      store.#stats.damagedBytes = damagedBytes;
      store.#oldSegments = segments.length;
      if (policy === "interval") {
        store.#timer = setInterval(() => void store.#periodicSync(), interval);
        store.#timer.unref?.();
      }
      return store;
    } catch (error) {
      if (lock !== undefined) await releaseLock(lock).catch(() => undefined);
      if (error instanceof ZgError) throw error;
      throw new ZgError(
        "ZG_STORAGE",
        `cannot open Clone store in ${directory}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Counters. */
  stats(): CloneStoreStats {
    return { ...this.#stats, segmentBytes: this.#bytes };
  }

  /**
   * True when the current segment has grown past `compactMinBytes`, or more
   * than 8 segments from earlier runs are waiting (a server restarted often).
   */
  get wantsCompaction(): boolean {
    return (
      (this.#bytes >= this.#compactMin || this.#oldSegments > 8) && this.#compacting === undefined
    );
  }

  /**
   * Appends one applied message (with its wall-clock expiry). Resolves once
   * it is written (and fsynced under `"always"`); appends resolve in order.
   *
   * @throws {@link ZgError} `ZG_STORAGE` when the write fails (the caller
   * must not publish the message), `ZG_CLOSED` after close.
   */
  append(message: KvMsg, expiresAt: number | undefined): Promise<void> {
    if (this.#closed) return Promise.reject(new ZgError("ZG_CLOSED", "store closed"));
    const done = deferred<void>();
    this.#batch.push({ buf: encodeEntry(KIND_ENTRY, message, expiresAt), done });
    this.#stats.appends++;
    this.#flushing ??= this.#flush();
    return done.promise;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#batch.length > 0) {
        if (this.#rotation !== undefined) await this.#rotation.catch(() => undefined);
        const batch = this.#batch;
        this.#batch = [];
        const buf = batch.length === 1 ? batch[0]!.buf : Buffer.concat(batch.map((b) => b.buf));
        try {
          const fh = this.#fh;
          const always = this.policy === "always";
          this.#writing = (async () => {
            await writeAll(fh, buf);
            if (always) await fh.datasync();
          })();
          await this.#writing;
          this.#bytes += buf.length;
          if (always) this.#stats.fsyncs++;
          else this.#dirty = true;
          for (const b of batch) b.done.resolve();
        } catch (error) {
          const failure = new ZgError(
            "ZG_STORAGE",
            `Clone log write failed: ${(error as Error).message}`,
            { cause: error },
          );
          for (const b of batch) b.done.reject(failure);
        }
      }
    } finally {
      this.#flushing = undefined;
    }
  }

  async #periodicSync(): Promise<void> {
    if (!this.#dirty || this.#closed) return;
    this.#dirty = false;
    try {
      await this.#fh.datasync();
      this.#stats.fsyncs++;
    } catch (error) {
      this.#logger.error("Clone log fsync failed", { error: (error as Error).message });
    }
  }

  /**
   * Compaction: switches appends to a new segment now, and writes `take()`
   * (called synchronously, so it is the state as of the last append) as the
   * new snapshot; then deletes the segments it covers. A kill -9 at any
   * point leaves a snapshot and the segments after it.
   */
  compact(take: () => { entries: StoredEntry[]; sequence: bigint }): Promise<void> {
    if (this.#compacting !== undefined) return this.#compacting;
    const { entries, sequence } = take();
    const old = this.#fh;
    const oldSegment = this.#segment;
    const inFlight = this.#writing;
    // From now on appends (all after `sequence`) go to the next segment.
    this.#segment = oldSegment + 1;
    const rotation = (this.#rotation = (async () => {
      this.#fh = await open(join(this.directory, segmentName(this.#segment)), "a");
      this.#bytes = 0;
    })());
    this.#compacting = (async () => {
      await rotation;
      this.#rotation = undefined;
      await inFlight?.catch(() => undefined);
      try {
        await old.datasync();
      } finally {
        await old.close();
      }
      const tmp = join(this.directory, `${SNAPSHOT}.tmp`);
      const out = await open(tmp, "w");
      try {
        let chunk: Buffer[] = [];
        let size = 0;
        for (const e of entries) {
          const rec = encodeEntry(KIND_ENTRY, e.message, e.expiresAt);
          chunk.push(rec);
          size += rec.length;
          if (size > 1 << 20) {
            await writeAll(out, Buffer.concat(chunk));
            chunk = [];
            size = 0;
          }
        }
        chunk.push(
          encodeEntry(
            KIND_END,
            {
              key: "",
              sequence,
              uuid: Buffer.alloc(0),
              properties: new Map(),
              body: Buffer.alloc(0),
            },
            undefined,
          ),
        );
        await writeAll(out, Buffer.concat(chunk));
        await out.datasync();
      } finally {
        await out.close();
      }
      await rename(tmp, join(this.directory, SNAPSHOT));
      await syncDir(this.directory);
      for (const f of await readdir(this.directory)) {
        const m = SEGMENT.exec(f);
        if (m !== null && Number(m[1]) <= oldSegment)
          await rm(join(this.directory, f), { force: true });
      }
      this.#oldSegments = 0;
      this.#stats.compactions++;
    })().finally(() => {
      this.#compacting = undefined;
    });
    return this.#compacting;
  }

  /** Waits for writes and a running compaction, fsyncs, closes and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#compacting?.catch(() => undefined);
    while (this.#flushing !== undefined) await this.#flushing;
    try {
      if (this.#dirty) await this.#fh.datasync();
    } finally {
      await this.#fh.close();
      await releaseLock(this.#lock);
    }
  }
}
