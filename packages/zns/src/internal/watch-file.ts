import { readFile, stat } from "node:fs/promises";

/** Poll interval of watched names files, 250 ms (project choice: a change reaches agents well within 1 s). */
export const DEFAULT_WATCH_INTERVAL = 250;

/**
 * Polls `path` every `interval` ms and calls `onText` with its content when
 * its size, mtime or inode changed (editors that rename a new file over the
 * old one included); `onError` when it cannot be read. Polling, not
 * `fs.watch`, because it behaves the same on every file system. Returns the
 * stop function. @internal
 */
export function watchFile(
  path: string,
  interval: number,
  onText: (text: string) => void,
  onError: (error: Error) => void,
  initial?: { size: number; mtimeMs: number; ino: number },
): () => void {
  let last = initial === undefined ? "" : `${initial.size}/${initial.mtimeMs}/${initial.ino}`;
  let busy = false;
  let stopped = false;
  let failing = false;
  const tick = async (): Promise<void> => {
    if (busy || stopped) return;
    busy = true;
    try {
      const s = await stat(path);
      const key = `${s.size}/${s.mtimeMs}/${s.ino}`;
      if (key !== last) {
        const text = await readFile(path, "utf8");
        last = key;
        failing = false;
        if (!stopped) onText(text);
      }
    } catch (e) {
      if (!failing && !stopped) onError(e as Error);
      failing = true;
      last = "";
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), interval);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Reads a file with its change key, for {@link watchFile}'s `initial`. @internal */
export async function readWithStat(
  path: string,
): Promise<{ text: string; stat: { size: number; mtimeMs: number; ino: number } }> {
  const s = await stat(path);
  const text = await readFile(path, "utf8");
  return { text, stat: { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino } };
}
