import { mkdir, open, readFile, rename, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import {
  assertArgument,
  deferred,
  durationOption,
  ZgError,
  type Deferred,
  type Frame,
} from "@zg/core";

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
export type TitanicFsyncPolicy = "always" | "interval" | "never";

/** Default fsync period of the `"interval"` policy, ms. Not in the Guide (its `titanic` never fsyncs). */
export const DEFAULT_TITANIC_FSYNC_INTERVAL = 100;

/** Options of {@link TitanicStore}. */
export interface TitanicStoreOptions {
  /** fsync policy. @defaultValue "always" */
  fsync?: TitanicFsyncPolicy;
  /** Period of the `"interval"` policy, ms. @defaultValue {@link DEFAULT_TITANIC_FSYNC_INTERVAL} */
  fsyncInterval?: number;
}

/** One stored request. */
export interface TitanicEntry {
  service: string;
  request: Frame[];
  /** Present once the service has answered. */
  reply: Frame[] | undefined;
}

/** Counters of a {@link TitanicStore}. */
export interface TitanicStoreStats {
  /** Requests stored and not closed. */
  entries: number;
  /** Of which still waiting for a reply. */
  pending: number;
  /** Log size in bytes. */
  bytes: number;
  /** Records written since open. */
  writes: number;
  /** fsync calls since open. */
  fsyncs: number;
  /** Bytes of a torn or corrupt tail discarded at open. */
  discardedBytes: number;
}

const Kind = { Request: 1, Reply: 2, Close: 3 } as const;
type Kind = (typeof Kind)[keyof typeof Kind];

const LOG = "titanic.log";

function uuidBytes(uuid: string): Buffer {
  assertArgument(/^[0-9a-fA-F]{32}$/.test(uuid), `not a 32-hex UUID: ${uuid}`);
  return Buffer.from(uuid, "hex");
}

function encodeRecord(kind: Kind, uuid: string, frames: readonly Frame[]): Buffer {
  let size = 1 + 16 + 4;
  for (const f of frames) size += 4 + f.length;
  const rec = Buffer.allocUnsafe(8 + size);
  let o = 8;
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
  rec.writeUInt32BE(crc32(rec.subarray(8)), 4);
  return rec;
}

/**
 * Titanic's durable store: one append-only log (`titanic.log`) of REQUEST,
 * REPLY and CLOSE records, each `[u32 length][u32 crc32][kind][uuid 16 B]
 * [frame count][len + bytes]…`, and an in-memory index rebuilt at open (the
 * Guide's "suggested improvements": one data file, index in memory, fsync
 * policy). A torn or corrupt tail (crash mid-write) is cut off at open; a
 * write is acknowledged only after it reached the OS, and with the default
 * `"always"` policy only after fsync. The log is compacted at open when most
 * of it is dead (closed entries).
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
  readonly #entries = new Map<string, TitanicEntry>();
  /** Keys without a reply, in arrival order (kept so the dispatcher never scans answered entries). */
  readonly #pending = new Set<string>();
  readonly #fh: FileHandle;
  #bytes: number;
  #batch: { buf: Buffer; done: Deferred<void> }[] = [];
  #flushing = false;
  #dirty = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #failure: Error | undefined;
  readonly #stats = { writes: 0, fsyncs: 0, discardedBytes: 0 };

  private constructor(
    directory: string,
    fh: FileHandle,
    bytes: number,
    policy: TitanicFsyncPolicy,
  ) {
    this.directory = directory;
    this.#fh = fh;
    this.#bytes = bytes;
    this.policy = policy;
  }

  /**
   * Opens (creating if needed) the store in `directory` and replays its log.
   *
   * @throws {@link ZgError} `ZG_STORAGE` when the directory or log cannot be used.
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
    try {
      await mkdir(directory, { recursive: true });
      const path = join(directory, LOG);
      let data: Buffer;
      try {
        data = await readFile(path);
      } catch (error) {
        if ((error as { code?: string }).code !== "ENOENT") throw error;
        data = Buffer.alloc(0);
      }
      const entries = new Map<string, TitanicEntry>();
      const valid = replay(data, entries);
      let fh: FileHandle;
      let bytes: number;
      if (valid > 64 * 1024 && liveBytes(entries) * 2 < valid) {
        // Mostly dead (closed entries): rewrite the live entries into a fresh log.
        bytes = await rewrite(directory, entries);
        fh = await open(path, "a");
      } else {
        fh = await open(path, "a");
        if (valid < data.length) await fh.truncate(valid);
        bytes = valid;
      }
      const store = new TitanicStore(directory, fh, bytes, policy);
      store.#stats.discardedBytes = data.length - valid;
      for (const [k, v] of entries) {
        store.#entries.set(k, v);
        if (v.reply === undefined) store.#pending.add(k);
      }
      if (policy === "interval") {
        store.#timer = setInterval(() => void store.#periodicSync(), interval);
        store.#timer.unref?.();
      }
      return store;
    } catch (error) {
      if (error instanceof ZgError) throw error;
      throw new ZgError(
        "ZG_STORAGE",
        `cannot open Titanic store in ${directory}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** The entry for `uuid` (either case), or `undefined` (unknown or closed). */
  get(uuid: string): TitanicEntry | undefined {
    return this.#entries.get(uuid.toLowerCase());
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
    await this.#append(encodeRecord(Kind.Request, key, [Buffer.from(service), ...request]));
    this.#entries.set(key, { service, request: [...request], reply: undefined });
    this.#pending.add(key);
  }

  /**
   * Durably records the reply to `uuid`.
   *
   * @returns false (nothing written) when the request is unknown, closed or already answered.
   */
  async putReply(uuid: string, reply: readonly Frame[]): Promise<boolean> {
    const key = uuid.toLowerCase();
    const e = this.#entries.get(key);
    if (e === undefined || e.reply !== undefined) return false;
    await this.#append(encodeRecord(Kind.Reply, key, reply));
    e.reply = [...reply];
    this.#pending.delete(key);
    return true;
  }

  /** Durably forgets `uuid` (request and reply). Idempotent: unknown UUIDs write nothing. */
  async remove(uuid: string): Promise<void> {
    const key = uuid.toLowerCase();
    if (!this.#entries.has(key)) return;
    await this.#append(encodeRecord(Kind.Close, key, []));
    this.#entries.delete(key);
    this.#pending.delete(key);
  }

  stats(): TitanicStoreStats {
    return {
      entries: this.#entries.size,
      pending: this.#pending.size,
      bytes: this.#bytes,
      ...this.#stats,
    };
  }

  /** Flushes and closes the log. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    while (this.#flushing || this.#batch.length > 0) await new Promise((r) => setTimeout(r, 1));
    try {
      if (this.#dirty) await this.#fh.datasync();
    } finally {
      await this.#fh.close();
    }
  }

  #append(buf: Buffer): Promise<void> {
    if (this.#closed) return Promise.reject(new ZgError("ZG_CLOSED", "Titanic store is closed"));
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const done = deferred<void>();
    this.#batch.push({ buf, done });
    if (!this.#flushing) void this.#flush();
    return done.promise;
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#batch.length > 0) {
        const batch = this.#batch;
        this.#batch = [];
        try {
          const buf =
            batch.length === 1
              ? (batch[0] as { buf: Buffer }).buf
              : Buffer.concat(batch.map((b) => b.buf));
          await this.#fh.write(buf);
          this.#bytes += buf.length;
          this.#stats.writes += batch.length;
          if (this.policy === "always") {
            await this.#fh.datasync();
            this.#stats.fsyncs++;
          } else {
            this.#dirty = true;
          }
          for (const b of batch) b.done.resolve();
        } catch (error) {
          // A failed write leaves the log in an unknown state: refuse further writes.
          this.#failure = new ZgError(
            "ZG_STORAGE",
            `Titanic log write failed: ${(error as Error).message}`,
            { cause: error },
          );
          for (const b of [...batch, ...this.#batch]) b.done.reject(this.#failure);
          this.#batch = [];
        }
      }
    } finally {
      this.#flushing = false;
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
}

function liveBytes(entries: Map<string, TitanicEntry>): number {
  let n = 0;
  for (const e of entries.values()) {
    for (const f of e.request) n += f.length + 4;
    for (const f of e.reply ?? []) n += f.length + 4;
    n += 64;
  }
  return n;
}

/** Replays records into `entries`; returns the length of the valid prefix. */
function replay(data: Buffer, entries: Map<string, TitanicEntry>): number {
  let o = 0;
  while (o + 8 <= data.length) {
    const size = data.readUInt32BE(o);
    if (size < 21 || o + 8 + size > data.length) break;
    const payload = data.subarray(o + 8, o + 8 + size);
    if (crc32(payload) !== data.readUInt32BE(o + 4)) break;
    const kind = payload[0];
    const key = payload.subarray(1, 17).toString("hex");
    const count = payload.readUInt32BE(17);
    const frames: Frame[] = [];
    let p = 21;
    let ok = true;
    for (let i = 0; i < count; i++) {
      if (p + 4 > payload.length) {
        ok = false;
        break;
      }
      const len = payload.readUInt32BE(p);
      p += 4;
      if (p + len > payload.length) {
        ok = false;
        break;
      }
      frames.push(Buffer.from(payload.subarray(p, p + len)));
      p += len;
    }
    if (!ok) break;
    if (kind === Kind.Request) {
      const [service, ...request] = frames;
      if (service !== undefined)
        entries.set(key, { service: service.toString("utf8"), request, reply: undefined });
    } else if (kind === Kind.Reply) {
      const e = entries.get(key);
      if (e !== undefined && e.reply === undefined) e.reply = frames;
    } else if (kind === Kind.Close) {
      entries.delete(key);
    } else {
      break;
    }
    o += 8 + size;
  }
  return o;
}

/** Writes the live entries to a new log, fsyncs it and renames it over the old one. */
async function rewrite(directory: string, entries: Map<string, TitanicEntry>): Promise<number> {
  const tmp = join(directory, `${LOG}.tmp`);
  const parts: Buffer[] = [];
  for (const [k, e] of entries) {
    parts.push(encodeRecord(Kind.Request, k, [Buffer.from(e.service), ...e.request]));
    if (e.reply !== undefined) parts.push(encodeRecord(Kind.Reply, k, e.reply));
  }
  const buf = Buffer.concat(parts);
  const fh = await open(tmp, "w");
  try {
    await fh.write(buf);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(directory, LOG));
  const dir = await open(directory, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return buf.length;
}
