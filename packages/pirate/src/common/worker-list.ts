import { identityKey, type Frame } from "@zg/core";

/**
 * The idle workers of a load-balancing broker in least-recently-used order:
 * {@link ready} appends (or moves) a worker to the tail, {@link next} takes the
 * head, which is the worker that has been idle longest. Keyed by routing id.
 * O(1) per operation (a `Map` keeps insertion order).
 *
 * @internal
 */
export class WorkerList {
  readonly #idle = new Map<string, Frame>();

  /** Number of idle workers. */
  get size(): number {
    return this.#idle.size;
  }

  /** True when the worker with routing-id key `key` is idle. */
  has(key: string): boolean {
    return this.#idle.has(key);
  }

  /** Marks a worker idle, at the tail of the LRU order. */
  ready(id: Frame, key = identityKey(id)): void {
    this.#idle.delete(key);
    this.#idle.set(key, id);
  }

  /** Takes the least recently used idle worker, or `undefined`. */
  next(): { key: string; id: Frame } | undefined {
    const first = this.#idle.entries().next();
    if (first.done) return undefined;
    const [key, id] = first.value;
    this.#idle.delete(key);
    return { key, id };
  }

  /** Forgets a worker (expired or gone). */
  delete(key: string): boolean {
    return this.#idle.delete(key);
  }

  /** Idle worker keys, LRU first. */
  keys(): IterableIterator<string> {
    return this.#idle.keys();
  }

  /** Forgets every worker. */
  clear(): void {
    this.#idle.clear();
  }
}
