import type { Logger } from "./logger.js";

/**
 * An event map: event name → payload type. zg names events `noun:verb`
 * (`worker:expired`, `peer:joined`), see docs/events.md. There is never a bare
 * `error` event (Node throws on unhandled ones).
 */
export type EventMap = { [type: string]: unknown };

/** A listener for event `K` of map `E`. */
export type Listener<E extends EventMap, K extends keyof E> = (event: E[K]) => void;

/**
 * A small typed event emitter. Listeners run synchronously; a listener that
 * throws is logged and skipped, never allowed to break the component's loop.
 *
 * @example
 * ```ts
 * const off = queue.on("worker:expired", (e) => logger.warn("worker expired", { identity: e.identity }));
 * off(); // unsubscribe
 * ```
 */
export class TypedEmitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<(event: never) => void>>();
  /** Where listener exceptions are reported; subclasses set their logger here. */
  protected listenerErrorLogger: Logger | undefined;

  /** Subscribes to `type`. @returns a function that unsubscribes. */
  on<K extends keyof E & string>(type: K, listener: Listener<E, K>): () => void {
    let set = this.#listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener);
    return () => this.off(type, listener);
  }

  /** Subscribes to the next `type` event only. @returns a function that unsubscribes. */
  once<K extends keyof E & string>(type: K, listener: Listener<E, K>): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** Unsubscribes `listener` from `type`. */
  off<K extends keyof E & string>(type: K, listener: Listener<E, K>): void {
    this.#listeners.get(type)?.delete(listener);
  }

  /** Resolves with the next `type` event (for tests and scripts). */
  next<K extends keyof E & string>(type: K, signal?: AbortSignal): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      const off = this.once(type, (e) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(e);
      });
      const onAbort = (): void => {
        off();
        reject(signal?.reason as Error);
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Number of listeners for `type`. */
  listenerCount(type: keyof E & string): number {
    return this.#listeners.get(type)?.size ?? 0;
  }

  /** Delivers an event to its listeners. */
  protected emit<K extends keyof E & string>(type: K, event: E[K]): void {
    const set = this.#listeners.get(type);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E, K>)(event);
      } catch (error) {
        this.listenerErrorLogger?.error("event listener threw", {
          event: type,
          error: String(error),
        });
      }
    }
  }

  /** Drops every listener. */
  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
