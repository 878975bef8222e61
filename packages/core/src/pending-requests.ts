import { abortError } from "./async.js";
import { systemClock, type Clock } from "./clock.js";
import { assertArgument, ZgError } from "./errors.js";
import { ExpiryTable } from "./expiry-table.js";

/** Options of one request in a {@link PendingRequests} table. Durations in ms. */
export interface PendingRequestOptions<C> {
  /** Reply timeout of each attempt, ms (≥ 1). */
  timeout: number;
  /**
   * Attempts in all, the first send included (`Infinity`: until `deadline`,
   * the signal, {@link PendingRequests.reject} or {@link PendingRequests.close}).
   * @defaultValue 1
   */
  attempts?: number;
  /**
   * Pause after a timed-out attempt before the next one is sent, ms (≥ 0):
   * `onRetry` runs when the attempt times out, `send` when the pause ends
   * (e.g. the Binary Star client's settle delay before it re-sends to the
   * other server). The request keeps waiting for a reply during the pause;
   * the signal, `deadline`, `reject` and `close` end it as at any time.
   * {@link PendingRequests.retry} ends a pause early, and sends its own retry
   * without one. @defaultValue 0 (re-send at once)
   */
  retryDelay?: number;
  /**
   * Overall budget from {@link PendingRequests.add}, ms: the request fails
   * when it passes, whatever attempts remain. @defaultValue none (attempts × timeout)
   */
  deadline?: number;
  /** Aborts this request: it rejects with `ZG_ABORTED` (or `ZG_TIMEOUT` for `AbortSignal.timeout`). */
  signal?: AbortSignal;
  /**
   * Sends attempt `attempt` (1-based): called once by `add()` and once per
   * retry. What it throws fails the request with that error.
   */
  send: (attempt: number) => void;
  /** Caller state kept with the request ({@link PendingRequests.context}). */
  context?: C;
}

/** Why a request in a {@link PendingRequests} table stopped waiting without a reply. */
export type PendingFailure = "timeout" | "aborted" | "rejected";

/** Options of {@link PendingRequests}. */
export interface PendingRequestsOptions<K, C> {
  /** Time source. @defaultValue {@link systemClock} */
  clock?: Clock;
  /** Timer granularity, ms (see {@link ExpiryTable}). @defaultValue 1 */
  granularity?: number;
  /** Names the operation in error messages. @defaultValue "request" */
  what?: string;
  /**
   * Called when a retry is due (attempt ≥ 2): just before it is sent, or,
   * with a `retryDelay`, when the previous attempt times out (before the pause).
   */
  onRetry?: (key: K, attempt: number, context: C) => void;
  /**
   * Builds the error a request rejects with when its last attempt (or its
   * deadline) timed out. @defaultValue `ZG_TIMEOUT` after one attempt,
   * `ZG_RETRIES_EXHAUSTED` after several (details: `attempts`, `timeout`)
   */
  timeoutError?: (key: K, attempts: number, context: C) => Error;
  /** Called once when a request stops waiting without a reply, before it rejects. */
  onFailure?: (key: K, reason: PendingFailure, context: C, error: Error) => void;
}

/** Counters of a {@link PendingRequests} table. */
export interface PendingRequestsStats {
  /** Requests added. */
  added: number;
  /** Requests resolved with a reply. */
  resolved: number;
  /** Attempts that timed out (each retried or, for the last, failed). */
  timeouts: number;
  /** Attempts re-sent (after a timeout or {@link PendingRequests.retry}; after its `retryDelay`, if any). */
  retries: number;
  /** Requests that failed because every attempt (or the deadline) timed out. */
  exhausted: number;
  /** Requests failed by their `AbortSignal`. */
  aborted: number;
  /** Requests failed by {@link PendingRequests.reject} or {@link PendingRequests.rejectAll}. */
  rejected: number;
  /** Requests waiting now. */
  inFlight: number;
}

interface Entry<T, C> {
  attempt: number;
  attempts: number;
  timeout: number;
  retryDelay: number;
  /** True during a `retryDelay` pause: `attempt` is the one about to be sent. */
  waiting: boolean;
  deadlineAt: number;
  context: C;
  send: (attempt: number) => void;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
  release: () => void;
}

/**
 * The table of requests waiting for a reply, written once for every client:
 * each entry races its reply against a per-attempt timeout (re-sending up to
 * `attempts` times, at once or after a `retryDelay` pause), an optional
 * overall deadline and an optional
 * `AbortSignal`, and settles exactly once. All timeouts share one
 * {@link ExpiryTable} on the injected {@link Clock}, so a table with 10 000
 * requests in flight costs one timer, and unit tests run on a `ManualClock`.
 *
 * The owner matches replies to keys (a sequence number, a correlation id)
 * and calls {@link resolve}; a reply for an unknown key returns false, which
 * the owner counts as stale.
 *
 * @typeParam K - the request key
 * @typeParam T - the reply type
 * @typeParam C - per-request caller state
 *
 * @example
 * ```ts
 * const pending = new PendingRequests<number, Message>();
 * const reply = pending.add(seq, { timeout: 2500, attempts: 3, send: () => loop.post(frames) });
 * // in the reader: if (!pending.resolve(seqOf(msg), bodyOf(msg))) stats.stale++;
 * ```
 */
export class PendingRequests<K, T, C = undefined> {
  readonly #clock: Clock;
  readonly #entries = new Map<K, Entry<T, C>>();
  readonly #timers: ExpiryTable<K>;
  readonly #what: string;
  readonly #onRetry: ((key: K, attempt: number, context: C) => void) | undefined;
  readonly #timeoutError: ((key: K, attempts: number, context: C) => Error) | undefined;
  readonly #onFailure:
    ((key: K, reason: PendingFailure, context: C, error: Error) => void) | undefined;
  #closed = false;
  readonly #stats = {
    added: 0,
    resolved: 0,
    timeouts: 0,
    retries: 0,
    exhausted: 0,
    aborted: 0,
    rejected: 0,
  };

  constructor(options: PendingRequestsOptions<K, C> = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#what = options.what ?? "request";
    this.#onRetry = options.onRetry;
    this.#timeoutError = options.timeoutError;
    this.#onFailure = options.onFailure;
    this.#timers = new ExpiryTable<K>({
      clock: this.#clock,
      granularity: options.granularity ?? 1,
      onExpire: (key) => this.#expired(key),
    });
  }

  /** Requests waiting now. */
  get size(): number {
    return this.#entries.size;
  }

  /** True while `key` is waiting. */
  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** The keys waiting, oldest first. */
  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }

  /** The caller state of `key`, or `undefined` when it is not waiting. */
  context(key: K): C | undefined {
    return this.#entries.get(key)?.context;
  }

  /**
   * The attempt `key` is on (1-based; during a `retryDelay` pause, the one
   * about to be sent), or 0 when it is not waiting.
   */
  attempt(key: K): number {
    return this.#entries.get(key)?.attempt ?? 0;
  }

  /** Counters. */
  stats(): PendingRequestsStats {
    return { ...this.#stats, inFlight: this.#entries.size };
  }

  /**
   * Registers `key`, sends its first attempt and resolves with its reply.
   *
   * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` (synchronously) for a key
   * already waiting or a bad option; rejects with `ZG_ABORTED` when `signal`
   * has fired, `ZG_CLOSED` after {@link close}, and as described in
   * {@link PendingRequestsOptions.timeoutError}.
   */
  add(key: K, options: PendingRequestOptions<C>): Promise<T> {
    const { timeout, signal, send } = options;
    const attempts = options.attempts ?? 1;
    const retryDelay = options.retryDelay ?? 0;
    assertArgument(
      Number.isFinite(timeout) && timeout >= 1,
      `timeout must be a number of ms >= 1, got ${timeout}`,
    );
    assertArgument(
      attempts === Infinity || (Number.isInteger(attempts) && attempts >= 1),
      `attempts must be an integer >= 1 or Infinity, got ${attempts}`,
    );
    assertArgument(
      options.deadline === undefined ||
        (Number.isFinite(options.deadline) && options.deadline >= 1),
      `deadline must be a number of ms >= 1, got ${String(options.deadline)}`,
    );
    assertArgument(
      Number.isFinite(retryDelay) && retryDelay >= 0,
      `retryDelay must be a number of ms >= 0, got ${retryDelay}`,
    );
    assertArgument(typeof send === "function", "send must be a function");
    assertArgument(!this.#entries.has(key), `a ${this.#what} with this key is already pending`);
    if (this.#closed) return Promise.reject(new ZgError("ZG_CLOSED", `${this.#what}s closed`));
    if (signal?.aborted) return Promise.reject(abortError(signal, this.#what));
    this.#stats.added++;
    return new Promise<T>((resolve, reject) => {
      const now = this.#clock.now();
      const onAbort = (): void => {
        this.#fail(key, "aborted", abortError(signal as AbortSignal, this.#what));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const entry: Entry<T, C> = {
        attempt: 1,
        attempts,
        timeout,
        retryDelay,
        waiting: false,
        deadlineAt: options.deadline === undefined ? Infinity : now + options.deadline,
        context: options.context as C,
        send,
        resolve,
        reject,
        release: () => signal?.removeEventListener("abort", onAbort),
      };
      this.#entries.set(key, entry);
      this.#timers.set(key, Math.min(timeout, entry.deadlineAt - now));
      this.#send(key, entry);
    });
  }

  /** Settles `key` with its reply. @returns false when `key` is not waiting (a stale or duplicate reply). */
  resolve(key: K, value: T): boolean {
    const entry = this.#take(key);
    if (entry === undefined) return false;
    this.#stats.resolved++;
    entry.resolve(value);
    return true;
  }

  /** Fails `key` with `error`. @returns false when `key` is not waiting. */
  reject(key: K, error: Error): boolean {
    return this.#fail(key, "rejected", error);
  }

  /** Fails every waiting request with `error` (e.g. `ZG_CLOSED`). */
  rejectAll(error: Error): void {
    for (const key of [...this.#entries.keys()]) this.#fail(key, "rejected", error);
  }

  /**
   * Sends `key`'s next attempt now, without waiting for its timeout (e.g.
   * the send failed, or a better peer appeared) and without a `retryDelay`;
   * during a `retryDelay` pause, ends the pause and sends now. @returns false
   * when `key` is not waiting or has no attempt left.
   */
  retry(key: K): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined) return false;
    if (entry.waiting) {
      this.#resume(key, entry);
      return true;
    }
    if (entry.attempt >= entry.attempts) return false;
    this.#next(key, entry, 0);
    return true;
  }

  /** Fails every waiting request with `ZG_CLOSED` and stops the timer. Idempotent. */
  close(error: Error = new ZgError("ZG_CLOSED", `${this.#what}s closed`)): void {
    if (this.#closed) return;
    this.#closed = true;
    this.rejectAll(error);
    this.#timers.close();
  }

  #send(key: K, entry: Entry<T, C>): void {
    try {
      entry.send(entry.attempt);
    } catch (error) {
      this.#fail(key, "rejected", error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Moves `key` to its next attempt: sends it now, or after `delay` ms. */
  #next(key: K, entry: Entry<T, C>, delay: number): void {
    entry.attempt++;
    const remaining = entry.deadlineAt - this.#clock.now();
    if (delay > 0) {
      entry.waiting = true;
      this.#timers.set(key, Math.max(0, Math.min(delay, remaining)));
      this.#onRetry?.(key, entry.attempt, entry.context);
      return;
    }
    this.#stats.retries++;
    this.#timers.set(key, Math.max(0, Math.min(entry.timeout, remaining)));
    this.#onRetry?.(key, entry.attempt, entry.context);
    if (this.#entries.get(key) === entry) this.#send(key, entry);
  }

  /** Ends a `retryDelay` pause: sends the attempt and starts its timeout. */
  #resume(key: K, entry: Entry<T, C>): void {
    entry.waiting = false;
    this.#stats.retries++;
    const remaining = entry.deadlineAt - this.#clock.now();
    this.#timers.set(key, Math.max(0, Math.min(entry.timeout, remaining)));
    this.#send(key, entry);
  }

  #expired(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    const now = this.#clock.now();
    if (entry.waiting) {
      // The pause ended: send, unless the deadline ran out during it.
      if (now < entry.deadlineAt) this.#resume(key, entry);
      else this.#exhausted(key, entry, entry.attempt - 1);
      return;
    }
    this.#stats.timeouts++;
    if (entry.attempt < entry.attempts && now < entry.deadlineAt) {
      this.#next(key, entry, entry.retryDelay);
      return;
    }
    this.#exhausted(key, entry, entry.attempt);
  }

  /** Fails `key` after `attempts` sent attempts timed out (or its deadline passed). */
  #exhausted(key: K, entry: Entry<T, C>, attempts: number): void {
    this.#stats.exhausted++;
    const error =
      this.#timeoutError?.(key, attempts, entry.context) ??
      (attempts === 1
        ? new ZgError("ZG_TIMEOUT", `no reply within ${entry.timeout} ms`, {
            details: { attempts: 1, timeout: entry.timeout },
          })
        : new ZgError(
            "ZG_RETRIES_EXHAUSTED",
            `no reply after ${attempts} attempts of ${entry.timeout} ms`,
            { details: { attempts, timeout: entry.timeout } },
          ));
    this.#fail(key, "timeout", error, true);
  }

  #fail(key: K, reason: PendingFailure, error: Error, counted = false): boolean {
    const entry = this.#take(key);
    if (entry === undefined) return false;
    if (!counted) this.#stats[reason === "aborted" ? "aborted" : "rejected"]++;
    try {
      this.#onFailure?.(key, reason, entry.context, error);
    } finally {
      entry.reject(error);
    }
    return true;
  }

  #take(key: K): Entry<T, C> | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#timers.delete(key);
    entry.release();
    return entry;
  }
}
