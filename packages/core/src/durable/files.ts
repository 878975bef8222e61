// File primitives shared by zg's durable stores (Titanic's request log, Clone's update log).
import { mkdir, open, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * When a durable store calls fsync (`fdatasync`):
 *
 * - `"always"`: before a write is acknowledged (concurrent writes may share
 *   one fsync: group commit). Survives process crashes and power loss.
 * - `"interval"`: the write reaches the OS before the acknowledgement and
 *   fsync runs every interval. Survives process crashes (kill -9); a power
 *   loss can lose the last interval.
 * - `"never"`: the OS decides. Survives process crashes only.
 */
export type FsyncPolicy = "always" | "interval" | "never";

/** True for one of the {@link FsyncPolicy} values. */
export function isFsyncPolicy(value: unknown): value is FsyncPolicy {
  return value === "always" || value === "interval" || value === "never";
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

/** A {@link LogSource} over an open file of `size` bytes. */
export function fileSource(fh: FileHandle, size: number): LogSource {
  return {
    size,
    async readAt(position, length) {
      const n = Math.max(0, Math.min(length, size - position));
      const buf = Buffer.allocUnsafe(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await fh.read(buf, got, n - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === n ? buf : buf.subarray(0, got);
    },
    async readInto(buf, position) {
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got;
    },
  };
}

/** Writes all of `buf` (looping on short writes) at the file's end (append mode) or at `position`. */
export async function writeAll(fh: FileHandle, buf: Buffer, position?: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(
      buf,
      off,
      buf.length - off,
      position === undefined ? null : position + off,
    );
    if (bytesWritten <= 0) throw new Error(`write returned ${bytesWritten}`);
    off += bytesWritten;
  }
}

/** fsyncs a directory (after a rename or create in it). */
export async function syncDir(directory: string): Promise<void> {
  const dir = await open(directory, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * `mkdir -p` that reports the real cause: Node's recursive mkdir says ENOENT
 * for a missing directory on a read-only filesystem; this retries the first
 * missing component on its own, which fails with EROFS (or EACCES …).
 */
export async function makeDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    let missing = directory;
    for (;;) {
      const parent = dirname(missing);
      if (parent === missing) throw error;
      try {
        await stat(parent);
        break;
      } catch {
        missing = parent;
      }
    }
    await mkdir(missing); // throws the real error (EROFS, EACCES, ENOTDIR …)
    throw error;
  }
}
