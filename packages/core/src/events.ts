import type { Logger } from "./logger.js";

/**
 * An event map: event name → payload type, declared as an interface or a type
 * literal with one property per event. zg names events `noun:verb`
 * (`worker:expired`, `peer:joined`), see docs/events.md. There is never a bare
 * `error` event (Node throws on unhandled ones).
 *
 * Maps are closed: on a map with a string index signature
 * (`[type: string]: unknown`) no {@link TypedEmitter} method compiles (see
 * {@link EventName}) and `Component` rejects it at the declaration (see
 * {@link ClosedEventMap}), so a misspelled event name does not compile.
 */
export type EventMap = object;

/**
 * `E` itself when it is a closed event map, otherwise a type no map satisfies,
 * whose name says why. Used as the F-bound of `Component`'s event map.
 */
export type ClosedEventMap<E> = string extends keyof E
  ? { "event maps must be closed: remove the string index signature": never }
  : EventMap;

/**
 * The event names of map `E`; `never` for a map with a string index
 * signature, so no call on such a map compiles.
 */
export type EventName<E> = string extends keyof E ? never : keyof E & string;

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
  on<K extends EventName<E>>(type: K, listener: Listener<E, K>): () => void {
    let set = this.#listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    set.add(listener);
    return () => this.off(type, listener);
  }

  /** Subscribes to the next `type` event only. @returns a function that unsubscribes. */
  once<K extends EventName<E>>(type: K, listener: Listener<E, K>): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** Unsubscribes `listener` from `type`. */
  off<K extends EventName<E>>(type: K, listener: Listener<E, K>): void {
    this.#listeners.get(type)?.delete(listener);
  }

  /** Resolves with the next `type` event (for tests and scripts). */
  next<K extends EventName<E>>(type: K, signal?: AbortSignal): Promise<E[K]> {
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
  listenerCount(type: EventName<E>): number {
    return this.#listeners.get(type)?.size ?? 0;
  }

  /** Delivers an event to its listeners. */
  protected emit<K extends EventName<E>>(type: K, event: E[K]): void {
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
