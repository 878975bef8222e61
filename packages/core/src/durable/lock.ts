// The exclusive lock file of a durable store's data directory (Titanic, Clone).
import { hostname } from "node:os";
import { link, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ZgError } from "../errors.js";
import { writeAll } from "./files.js";

/** Is `pid` a live process (kill(pid, 0): EPERM still means alive)? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** This boot's id (Linux), or "-". */
async function bootId(): Promise<string> {
  return (await readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "-")).trim() || "-";
}

/** A process's start time in clock ticks since boot (Linux `/proc/<pid>/stat` field 22), or "-". */
async function startTime(pid: number | "self"): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // The command name (field 2) is in parentheses and may hold spaces: count after the last ")".
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "-";
}

/** Lock files held by stores of this process (a previous process may have had our pid). */
const heldHere = new Set<string>();

function lockedError(directory: string, owner: string, pid: number, host: string): ZgError {
  const who = pid === process.pid ? `this process (pid ${pid})` : `pid ${pid}`;
  return new ZgError(
    "ZG_STORAGE",
    `${owner} data directory ${directory} is locked by ${who}${host === hostname() ? "" : ` on ${host}`}: another ${owner} is using it`,
    { details: { directory, pid, host } },
  );
}

/** Is the holder a lock file names still alive (same host)? */
async function holderAlive(path: string, fields: string[]): Promise<boolean> {
  const [pidText = "", , boot = "-", started = "-"] = fields;
  const pid = Number(pidText);
  if (boot !== "-" && boot !== (await bootId())) return false; // written before a reboot
  if (pid === process.pid) return heldHere.has(path); // an earlier process had our pid (containers)
  if (!alive(pid)) return false;
  // The pid may have been reused by an unrelated process since.
  return started === "-" || started === (await startTime(pid));
}

/** Options of {@link takeLock}. */
export interface LockOptions {
  /** The lock file's name in the directory, e.g. `titanic.lock`. */
  file: string;
  /** Who uses the directory, for the error message ("Titanic", "Clone server"). */
  owner: string;
}

/**
 * Takes `directory/<file>` exclusively and returns its path. The lock is
 * created complete (written to a temporary file, then hard-linked into place,
 * which fails if it exists) and names `pid host boot-id start-time`. A lock
 * is stale, and is taken over (by an atomic rename aside, so two starting
 * processes cannot both take it), when it is empty or garbled (power loss),
 * was written before this boot, or its pid is not alive, or is alive but
 * started at another time (reused), or is this process's pid without a store
 * of this process holding it. A lock written on another host is never taken
 * over.
 *
 * @throws {@link ZgError} `ZG_STORAGE` naming the directory and the holder's
 * pid when another live process (or another store in this one) holds it.
 */
export async function takeLock(directory: string, { file, owner }: LockOptions): Promise<string> {
  const path = join(directory, file);
  const mine = `${process.pid} ${hostname()} ${await bootId()} ${await startTime("self")}\n`;
  const temp = `${path}.${process.pid}.new`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const fh = await open(temp, "w");
    try {
      // No fsync: a lock emptied by a power loss reads as stale, which is what it is then.
      await writeAll(fh, Buffer.from(mine));
    } finally {
      await fh.close();
    }
    try {
      await link(temp, path);
      heldHere.add(path);
      return path;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    } finally {
      await rm(temp, { force: true });
    }
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") continue; // released meanwhile
      throw error;
    }
    const fields = text.trim().split(/\s+/);
    const pid = Number(fields[0]);
    const host = fields[1] ?? "";
    if (Number.isSafeInteger(pid) && pid > 0 && host !== "") {
      if (host !== hostname() || (await holderAlive(path, fields)))
        throw lockedError(directory, owner, pid, host);
    }
    // Stale: move it aside atomically, check that what we moved is what we judged, then retry.
    const aside = `${path}.stale-${process.pid}`;
    try {
      await rename(path, aside);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") continue;
      throw error;
    }
    const moved = await readFile(aside, "utf8").catch(() => "");
    if (moved !== text) {
      // Another process took the stale lock between our read and our rename: give it back.
      await link(aside, path).catch(() => undefined);
      await rm(aside, { force: true });
      continue;
    }
    await rm(aside, { force: true });
  }
  throw new ZgError("ZG_STORAGE", `cannot take the lock ${path}: it keeps changing`);
}

/** Releases a lock {@link takeLock} returned (removes the file). */
export async function releaseLock(path: string): Promise<void> {
  heldHere.delete(path);
  await rm(path, { force: true });
}
