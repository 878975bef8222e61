import { open, rename, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import {
  assertArgument,
  deferred,
  durationOption,
  fileSource,
  integerOption,
  makeDirectory,
  releaseLock,
  silentLogger,
  syncDir,
  takeLock,
  writeAll,
  ZgError,
  type Deferred,
  type Frame,
  type FsyncPolicy,
  type Logger,
} from "@zg/core";
import { decodeRecord, encodeRecord, RecordKind, scanLog } from "./log.js";

/**
 * When the store calls fsync (`fdatasync`):
 *
 * - `"always"` (default): before a write is acknowledged. Concurrent writes
 *   share one fsync (group commit). Survives process crashes and power loss.
 * - `"interval"`: the write() reaches the OS before the acknowledgement and
 *   fsync runs every `fsyncInterval` ms. Survives process crashes (kill -9);
 *   a power loss can lose the last interval.
 * - `"never"`: the OS decides. Survives process crashes only.
 */
export type TitanicFsyncPolicy = FsyncPolicy;

/** Default fsync period of the `"interval"` policy, ms. Not in the Guide (its `titanic` never fsyncs). */
export const DEFAULT_TITANIC_FSYNC_INTERVAL = 100;
/**
 * Log size, bytes, below which the store never compacts. Not in the Guide
 * (its `titanic` keeps one file per request and never compacts).
 */
export const DEFAULT_TITANIC_COMPACT_MIN_BYTES = 1_048_576;
/**
 * Largest record length, bytes, believed while resynchronising after a
 * damaged record (records read in sequence may be larger). Not in the Guide.
 */
export const DEFAULT_TITANIC_RESYNC_LIMIT = 268_435_456;

/** Options of {@link TitanicStore}. */
export interface TitanicStoreOptions {
  /** fsync policy. @defaultValue "always" */
  fsync?: TitanicFsyncPolicy;
  /** Period of the `"interval"` policy, ms. @defaultValue {@link DEFAULT_TITANIC_FSYNC_INTERVAL} */
  fsyncInterval?: number;
  /**
   * Compact (in the background) once the log is larger than this and more than
   * half of it is dead. @defaultValue {@link DEFAULT_TITANIC_COMPACT_MIN_BYTES}
   */
  compactMinBytes?: number;
  /** See {@link DEFAULT_TITANIC_RESYNC_LIMIT}. @defaultValue {@link DEFAULT_TITANIC_RESYNC_LIMIT} */
  resyncLimit?: number;
  /** Where damage, quarantine and compaction failures are reported. Silent by default. */
  logger?: Logger;
}

/** One stored request, read back from the log. */
export interface TitanicEntry {
  service: string;
  request: Frame[];
  /** Present once the service has answered. */
  reply: Frame[] | undefined;
}

/** What the in-memory index knows about a stored request (bodies stay on disk). */
export interface TitanicEntryInfo {
  service: string;
  /** True once the service's reply is stored. */
  answered: boolean;
}

/** Counters of a {@link TitanicStore}. */
export interface TitanicStoreStats {
  /** Requests stored and not closed. */
  entries: number;
  /** Of which still waiting for a reply. */
  pending: number;
  /** Log size in bytes. */
  bytes: number;
  /** Bytes of live records (the rest is closed entries, reclaimed by compaction). */
  liveBytes: number;
  /** Records written since open. */
  writes: number;
  /** Writes that failed (disk full, I/O error) and were cut off again; never acknowledged. */
  writeFailures: number;
  /** fsync calls since open. */
  fsyncs: number;
  /** Bytes of a torn tail cut off at open. */
  discardedBytes: number;
  /** Damaged ranges skipped at open (mid-file corruption; each lost at least one record). */
  damagedRanges: number;
  /** Bytes in those ranges, copied to a `quarantine-*.bin` file in the directory. */
  damagedBytes: number;
  /** Compactions completed since open. */
  compactions: number;
}

const LOG = "titanic.log";
const COMPACT = "titanic.log.compact";
const LOCK = "titanic.lock";
const COPY_CHUNK = 1 << 20;

interface Slot {
  service: string;
  /** Offset and length of the REQUEST record. */
  req: [number, number];
  /** Offset and length of the REPLY record, once stored. */
  rep: [number, number] | undefined;
}

/** Takes `directory/titanic.lock` exclusively (see `takeLock` in `@zg/core`). */
function takeTitanicLock(directory: string): Promise<string> {
  return takeLock(directory, { file: LOCK, owner: "Titanic" });
}

/**
 * Titanic's durable store: one append-only log (`titanic.log`) of REQUEST,
 * REPLY and CLOSE records (see `log.ts`), an in-memory index of offsets
 * rebuilt at open by streaming the log (bodies stay on disk), and an
 * exclusive lock (`titanic.lock`) on the directory.
 *
 * - A write is acknowledged only once the whole record is written (short
 *   writes are continued) and, with the default `"always"` policy, fsynced. A
 *   failed write (disk full, EIO) is cut off the log at once and rejected; the
 *   next write tries again, so the store recovers when space returns.
 * - At open, a torn tail (crash mid-write) is cut off; damage in the middle is
 *   skipped by resynchronising on the next valid record, the damaged bytes are
 *   copied to `quarantine-*.bin`, an error is logged and counted, and the log
 *   is rewritten without them. Valid records after damage are kept.
 * - Compaction runs in the background when most of the log is dead: the live
 *   records are copied to `titanic.log.compact`, appends pause while the tail
 *   is copied, the copy is fsynced, renamed over the log and the directory
 *   fsynced; a kill -9 at any point leaves one valid log.
 *
 * @example
 * ```ts
 * const store = await TitanicStore.open("/var/lib/titanic");
 * await store.putRequest(uuid, "echo", [Buffer.from("hi")]);
 * await store.close();
 * ```
 */
export class TitanicStore {
  readonly directory: string;
  readonly policy: TitanicFsyncPolicy;
  readonly #slots = new Map<string, Slot>();
  /** Keys without a reply, in arrival order (kept so the dispatcher never scans answered entries). */
  readonly #pending = new Set<string>();
  readonly #logger: Logger;
  readonly #compactMin: number;
  readonly #lock: string;
  #fh: FileHandle;
  /** File handles replaced by a compaction, closed once their reads finish. */
  readonly #readers = new Map<FileHandle, number>();
  #bytes: number;
  #live = 0;
  #batch: { buf: Buffer; apply: (at: number) => void; done: Deferred<void> }[] = [];
  #flushing: Promise<void> | undefined;
  /** The batch being written now, if any. */
  #writing: Promise<void> | undefined;
  #compacting: Promise<void> | undefined;
  #dirty = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #stats = {
    writes: 0,
    writeFailures: 0,
    fsyncs: 0,
    discardedBytes: 0,
    damagedRanges: 0,
    damagedBytes: 0,
    compactions: 0,
  };

  private constructor(
    directory: string,
    fh: FileHandle,
    bytes: number,
    policy: TitanicFsyncPolicy,
    lock: string,
    logger: Logger,
    compactMin: number,
  ) {
    this.directory = directory;
    this.#fh = fh;
    this.#bytes = bytes;
    this.policy = policy;
    this.#lock = lock;
    this.#logger = logger;
    this.#compactMin = compactMin;
  }

  /**
   * Opens (creating if needed) the store in `directory`, takes its lock and
   * replays its log.
   *
   * @throws {@link ZgError} `ZG_STORAGE` when the directory or log cannot be
   *   used, or another process (or another store in this one) holds the lock;
   *   the message names the directory and the holder's pid.
   */
  static async open(directory: string, options: TitanicStoreOptions = {}): Promise<TitanicStore> {
    const policy = options.fsync ?? "always";
    assertArgument(
      policy === "always" || policy === "interval" || policy === "never",
      `fsync must be always, interval or never`,
    );
    const interval = durationOption(
      "fsyncInterval",
      options.fsyncInterval,
      DEFAULT_TITANIC_FSYNC_INTERVAL,
      { min: 1 },
    );
    const compactMin = integerOption(
      "compactMinBytes",
      options.compactMinBytes,
      DEFAULT_TITANIC_COMPACT_MIN_BYTES,
    );
    const resyncLimit = integerOption(
      "resyncLimit",
      options.resyncLimit,
      DEFAULT_TITANIC_RESYNC_LIMIT,
      { min: 64, max: 0xffffffff },
    );
    const logger = options.logger ?? silentLogger;
    let lock: string | undefined;
    let fh: FileHandle | undefined;
    try {
      await makeDirectory(directory);
      lock = await takeTitanicLock(directory);
      // A compaction a crash interrupted before its rename: the log is still whole.
      await rm(join(directory, COMPACT), { force: true });
      const path = join(directory, LOG);
      fh = await open(path, "a+");
      const size = (await fh.stat()).size;
      const slots = new Map<string, Slot>();
      const { validEnd, damaged } = await scanLog(
        fileSource(fh, size),
        (r) => {
          if (r.kind === RecordKind.Request) {
            slots.set(r.key, { service: r.first, req: [r.at, r.size], rep: undefined });
          } else if (r.kind === RecordKind.Reply) {
            const s = slots.get(r.key);
            if (s !== undefined && s.rep === undefined) s.rep = [r.at, r.size];
          } else {
            slots.delete(r.key);
          }
        },
        resyncLimit,
      );
      if (validEnd < size) {
        await fh.truncate(validEnd);
        if (policy !== "never") await fh.datasync();
        logger.warn("Titanic log: cut off a torn tail", {
          directory,
          bytes: size - validEnd,
        });
      }
      const store = new TitanicStore(directory, fh, validEnd, policy, lock, logger, compactMin);
      store.#stats.discardedBytes = size - validEnd;
      for (const [k, s] of slots) {
        store.#slots.set(k, s);
        store.#live += s.req[1] + (s.rep?.[1] ?? 0);
        if (s.rep === undefined) store.#pending.add(k);
      }
      if (damaged.length > 0) await store.#quarantine(damaged);
      if (policy === "interval") {
        store.#timer = setInterval(() => void store.#periodicSync(), interval);
        store.#timer.unref?.();
      }
      if (damaged.length > 0) store.#startCompaction(true);
      else store.#maybeCompact();
      return store;
    } catch (error) {
      await fh?.close().catch(() => undefined);
      if (lock !== undefined) await releaseLock(lock).catch(() => undefined);
      if (error instanceof ZgError) throw error;
      throw new ZgError(
        "ZG_STORAGE",
        `cannot open Titanic store in ${directory}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** What the index knows of `uuid` (either case), or `undefined` (unknown or closed). */
  info(uuid: string): TitanicEntryInfo | undefined {
    const s = this.#slots.get(uuid.toLowerCase());
    return s === undefined ? undefined : { service: s.service, answered: s.rep !== undefined };
  }

  /**
   * Reads the entry for `uuid` (either case) back from the log, or `undefined`
   * (unknown or closed).
   *
   * @throws {@link ZgError} `ZG_STORAGE` when the record cannot be read or fails its CRC.
   */
  async get(uuid: string): Promise<TitanicEntry | undefined> {
    return this.#read(uuid, true);
  }

  /**
   * Reads only the stored reply to `uuid` back from the log: `undefined` when
   * the request is unknown, closed or not answered yet.
   *
   * @throws {@link ZgError} `ZG_STORAGE` when the record cannot be read or fails its CRC.
   */
  async getReply(uuid: string): Promise<Frame[] | undefined> {
    return (await this.#read(uuid, false))?.reply;
  }

  async #read(uuid: string, withRequest: boolean): Promise<TitanicEntry | undefined> {
    const s = this.#slots.get(uuid.toLowerCase());
    if (s === undefined) return undefined;
    // File and offsets are taken together: a compaction may swap both while this reads.
    const { fh, req, rep } = { fh: this.#fh, req: s.req, rep: s.rep };
    this.#readers.set(fh, (this.#readers.get(fh) ?? 0) + 1);
    try {
      const request = withRequest ? (await this.#readRecord(fh, req)).frames.slice(1) : [];
      const reply = rep === undefined ? undefined : (await this.#readRecord(fh, rep)).frames;
      return { service: s.service, request, reply };
    } finally {
      const n = (this.#readers.get(fh) ?? 1) - 1;
      if (n > 0 || fh === this.#fh) this.#readers.set(fh, n);
      else {
        this.#readers.delete(fh);
        await fh.close().catch(() => undefined);
      }
    }
  }

  /** UUIDs still waiting for a reply, oldest first (a snapshot). */
  pending(): string[] {
    return [...this.#pending];
  }

  /** The same UUIDs as {@link pending}, live and without a copy (do not write to the store while iterating). */
  pendingKeys(): IterableIterator<string> {
    return this.#pending.keys();
  }

  /** Durably records a new request. Resolves once it is on disk per the fsync policy. */
  async putRequest(uuid: string, service: string, request: readonly Frame[]): Promise<void> {
    const key = uuid.toLowerCase();
    const rec = encodeRecord(RecordKind.Request, key, [Buffer.from(service), ...request]);
    await this.#append(rec, (at) => {
      this.#slots.set(key, { service, req: [at, rec.length], rep: undefined });
      this.#live += rec.length;
      this.#pending.add(key);
    });
  }

  /**
   * Durably records the reply to `uuid`.
   *
   * @returns false (nothing written) when the request is unknown, closed or already answered.
   */
  async putReply(uuid: string, reply: readonly Frame[]): Promise<boolean> {
    const key = uuid.toLowerCase();
    const s = this.#slots.get(key);
    if (s === undefined || s.rep !== undefined) return false;
    const rec = encodeRecord(RecordKind.Reply, key, reply);
    let stored = false;
    await this.#append(rec, (at) => {
      if (this.#slots.get(key) !== s || s.rep !== undefined) return; // closed or answered meanwhile
      s.rep = [at, rec.length];
      this.#live += rec.length;
      this.#pending.delete(key);
      stored = true;
    });
    this.#maybeCompact();
    return stored;
  }

  /** Durably forgets `uuid` (request and reply). Idempotent: unknown UUIDs write nothing. */
  async remove(uuid: string): Promise<void> {
    const key = uuid.toLowerCase();
    if (!this.#slots.has(key)) return;
    await this.#append(encodeRecord(RecordKind.Close, key, []), () => {
      const s = this.#slots.get(key);
      if (s === undefined) return;
      this.#slots.delete(key);
      this.#pending.delete(key);
      this.#live -= s.req[1] + (s.rep?.[1] ?? 0);
    });
    this.#maybeCompact();
  }

  /**
   * Compacts the log now (or waits for the running compaction): live records
   * are copied to a new file, which replaces the log atomically.
   */
  async compact(): Promise<void> {
    if (this.#closed) return;
    this.#startCompaction(true);
    await this.#compacting;
  }

  stats(): TitanicStoreStats {
    return {
      entries: this.#slots.size,
      pending: this.#pending.size,
      bytes: this.#bytes,
      liveBytes: this.#live,
      ...this.#stats,
    };
  }

  /** Waits for writes and a running compaction, flushes, closes the log and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#compacting;
    while (this.#flushing !== undefined) await this.#flushing;
    try {
      if (this.#dirty) await this.#fh.datasync();
    } finally {
      await this.#fh.close();
      for (const fh of this.#readers.keys()) if (fh !== this.#fh) await fh.close().catch(() => {});
      await releaseLock(this.#lock);
    }
  }

  async #readRecord(fh: FileHandle, [at, size]: [number, number]) {
    const buf = await fileSource(fh, at + size).readAt(at, size);
    const rec = buf.length === size ? decodeRecord(buf) : undefined;
    if (rec === undefined)
      throw new ZgError(
        "ZG_STORAGE",
        `Titanic log ${join(this.directory, LOG)}: the record at ${at} no longer reads back (disk damage since open)`,
      );
    return rec;
  }

  /** Copies damaged ranges to a quarantine file and logs them. */
  async #quarantine(damaged: { from: number; to: number }[]): Promise<void> {
    const bytes = damaged.reduce((n, d) => n + d.to - d.from, 0);
    this.#stats.damagedRanges += damaged.length;
    this.#stats.damagedBytes += bytes;
    const file = join(
      this.directory,
      `quarantine-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.bin`,
    );
    let saved = true;
    try {
      const out = await open(file, "wx");
      try {
        const src = fileSource(this.#fh, this.#bytes);
        for (const d of damaged) {
          for (let p = d.from; p < d.to; p += COPY_CHUNK)
            await writeAll(out, await src.readAt(p, Math.min(COPY_CHUNK, d.to - p)));
        }
        await out.sync();
      } finally {
        await out.close();
      }
    } catch {
      saved = false;
    }
    this.#logger.error(
      "Titanic log: skipped damaged records (mid-file corruption); the records after them are kept",
      {
        directory: this.directory,
        ranges: damaged.length,
        bytes,
        offsets: damaged.slice(0, 10).map((d) => d.from),
        quarantine: saved ? file : "(could not be written)",
      },
    );
  }

  /** Appends a record; `apply` updates the index synchronously once it is durable, then the promise resolves. */
  #append(buf: Buffer, apply: (at: number) => void): Promise<void> {
    if (this.#closed) return Promise.reject(new ZgError("ZG_CLOSED", "Titanic store is closed"));
    const done = deferred<void>();
    this.#batch.push({ buf, apply, done });
    this.#flushing ??= this.#flush();
    return done.promise;
  }

  async #flush(): Promise<void> {
    try {
      while (this.#batch.length > 0) {
        // A compaction's final phase holds the log: wait for it.
        if (this.#hold !== undefined) await this.#hold;
        const batch = this.#batch;
        this.#batch = [];
        const start = this.#bytes;
        const buf =
          batch.length === 1
            ? (batch[0] as { buf: Buffer }).buf
            : Buffer.concat(batch.map((b) => b.buf));
        const writing = deferred<void>();
        this.#writing = writing.promise;
        try {
          await writeAll(this.#fh, buf);
          if (this.policy === "always") {
            await this.#fh.datasync();
            this.#stats.fsyncs++;
          } else {
            this.#dirty = true;
          }
        } catch (error) {
          // Nothing of this batch is acknowledged; cut what reached the file so the
          // log ends on a whole record, and let the next write try again.
          this.#stats.writeFailures += batch.length;
          const failure = new ZgError(
            "ZG_STORAGE",
            `Titanic log write failed: ${(error as Error).message}`,
            { cause: error },
          );
          try {
            await this.#fh.truncate(start);
          } catch (cut) {
            // The partial record stays: the next open skips it as damage. Appends go after it,
            // so the index must know where the file really ends.
            this.#logger.error("Titanic log: cannot cut a failed write", { error: String(cut) });
            this.#bytes = await this.#fh.stat().then(
              (st) => st.size,
              () => start,
            );
          }
          this.#writing = undefined;
          writing.resolve();
          for (const b of batch) b.done.reject(failure);
          continue;
        }
        // Index and size change together, synchronously, before anyone hears of it.
        this.#bytes = start + buf.length;
        this.#stats.writes += batch.length;
        let at = start;
        for (const b of batch) {
          b.apply(at);
          at += b.buf.length;
        }
        this.#writing = undefined;
        writing.resolve();
        for (const b of batch) b.done.resolve();
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
    } catch {
      this.#dirty = true;
    }
  }

  /** While set, the writer waits (compaction's final phase). */
  #hold: Promise<void> | undefined;

  /** After a failed compaction (disk full …), the next waits until the log grew by compactMin. */
  #compactNotBefore = 0;

  #maybeCompact(): void {
    if (
      this.#bytes >= this.#compactMin &&
      this.#bytes >= this.#compactNotBefore &&
      this.#live * 2 < this.#bytes
    )
      this.#startCompaction();
  }

  #startCompaction(force = false): void {
    if (this.#compacting !== undefined || this.#closed) return;
    if (!force && (this.#bytes < this.#compactMin || this.#live * 2 >= this.#bytes)) return;
    this.#compacting = this.#compact()
      .catch((error: unknown) => {
        this.#compactNotBefore = this.#bytes + Math.max(this.#compactMin, 65_536);
        this.#logger.error("Titanic log: compaction failed; the log is unchanged", {
          directory: this.directory,
          error: String(error),
        });
      })
      .finally(() => {
        this.#compacting = undefined;
      });
  }

  async #compact(): Promise<void> {
    const path = join(this.directory, LOG);
    const tmp = join(this.directory, COMPACT);
    const old = this.#fh;
    const src = fileSource(old, Number.MAX_SAFE_INTEGER);
    const out = await open(tmp, "w");
    let renamed = false;
    try {
      // Phase 1, appends running: copy the records live now.
      const snapshot = this.#bytes;
      const moved = new Map<number, number>();
      let pos = 0;
      const copy = async (at: number, size: number): Promise<void> => {
        for (let p = 0; p < size; p += COPY_CHUNK) {
          const chunk = await src.readAt(at + p, Math.min(COPY_CHUNK, size - p));
          await writeAll(out, chunk, pos + p);
        }
        moved.set(at, pos);
        pos += size;
      };
      for (const s of [...this.#slots.values()]) {
        if (s.req[0] < snapshot) await copy(s.req[0], s.req[1]);
        if (s.rep !== undefined && s.rep[0] < snapshot) await copy(s.rep[0], s.rep[1]);
      }
      await out.datasync();
      // Phase 2, appends held: copy what was appended since the snapshot, fsync, rename.
      const hold = deferred<void>();
      this.#hold = hold.promise;
      try {
        await this.#writing;
        const end = this.#bytes;
        for (let p = snapshot; p < end; p += COPY_CHUNK) {
          const chunk = await src.readAt(p, Math.min(COPY_CHUNK, end - p));
          await writeAll(out, chunk, pos + p - snapshot);
        }
        const total = pos + end - snapshot;
        const remap = ([at, size]: [number, number]): [number, number] => {
          const to = at >= snapshot ? at - snapshot + pos : moved.get(at);
          if (to === undefined) throw new Error(`compaction lost track of the record at ${at}`);
          return [to, size];
        };
        // Every new offset is known before anything is replaced (a surprise aborts the compaction).
        const next = [...this.#slots.values()].map(
          (s) => [s, remap(s.req), s.rep === undefined ? undefined : remap(s.rep)] as const,
        );
        await out.datasync();
        await out.close();
        const fresh = await open(tmp, "a+");
        try {
          await rename(tmp, path);
          renamed = true;
          await syncDir(this.directory);
        } catch (error) {
          await fresh.close();
          throw error;
        }
        for (const [s, req, rep] of next) {
          s.req = req;
          s.rep = rep;
        }
        this.#fh = fresh;
        this.#bytes = total;
        this.#stats.compactions++;
        if ((this.#readers.get(old) ?? 0) === 0) {
          this.#readers.delete(old);
          await old.close();
        }
      } finally {
        this.#hold = undefined;
        hold.resolve();
      }
    } finally {
      if (!renamed) {
        await out.close().catch(() => undefined);
        await rm(tmp, { force: true }).catch(() => undefined);
      }
    }
  }
}
