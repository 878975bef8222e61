import { ZgError } from "./errors.js";

/** A promise with its resolve and reject exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/** Creates a {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The reason to reject with when `signal` aborted: a `ZG_ABORTED` error with the signal's reason as cause. */
export function abortError(signal: AbortSignal, what = "operation"): ZgError {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new ZgError("ZG_TIMEOUT", `${what} timed out`, { cause: reason });
  }
  return new ZgError("ZG_ABORTED", `${what} was aborted`, { cause: reason });
}

/**
 * Resolves after `ms` milliseconds; rejects with `ZG_ABORTED` if `signal` fires first.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal, "sleep"));
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortError(signal as AbortSignal, "sleep"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A single-consumer async queue: producers `push`, one consumer iterates with
 * `for await`. Ends on {@link end}; a second concurrent iterator is refused
 * with `ZG_STATE`; `break` out of the loop ends it cleanly.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  #waiter: Deferred<IteratorResult<T>> | undefined;
  #ended = false;
  #error: Error | undefined;
  #iterating = false;
  readonly #limit: number;

  /** @param limit - items buffered before {@link push} returns false and drops. */
  constructor(limit = Infinity) {
    this.#limit = limit;
  }

  /** Items buffered and not yet consumed. */
  get size(): number {
    return this.#items.length;
  }

  /** True after {@link end}. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Adds an item. @returns false (item dropped) when ended or full. */
  push(item: T): boolean {
    if (this.#ended) return false;
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w.resolve({ value: item, done: false });
      return true;
    }
    if (this.#items.length >= this.#limit) return false;
    this.#items.push(item);
    return true;
  }

  /** Ends the stream: the consumer sees buffered items, then the end (or `error`). */
  end(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w !== undefined) {
      if (error === undefined) w.resolve({ value: undefined, done: true });
      else w.reject(error);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new ZgError("ZG_STATE", "this stream already has a consumer");
    this.#iterating = true;
    return {
      next: () => {
        if (this.#items.length > 0)
          return Promise.resolve({ value: this.#items.shift() as T, done: false });
        if (this.#ended) {
          return this.#error === undefined
            ? Promise.resolve({ value: undefined, done: true })
            : Promise.reject(this.#error);
        }
        this.#waiter = deferred();
        return this.#waiter.promise;
      },
      return: () => {
        this.end();
        this.#items.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
