import { deferred } from "./async.js";
import { durationOption, ZgError } from "./errors.js";
import { TypedEmitter, type ClosedEventMap } from "./events.js";
import { childLogger, silentLogger, type Logger } from "./logger.js";

/**
 * The lifecycle states of a {@link Component}. `draining` is a running state
 * that takes no new work (see {@link Component.drain}).
 */
export type ComponentState = "idle" | "starting" | "running" | "draining" | "closing" | "closed";

/**
 * Default bound, in ms, of {@link Component.drain}: how long in-flight work
 * may take to finish before the component closes anyway. Project value
 * (the Guide's brokers have no drain; an operator's SIGTERM grace is usually
 * seconds).
 */
export const DEFAULT_DRAIN_TIMEOUT = 5000;

/**
 * Default bound, in ms, of the wait {@link Component.close} grants in-flight
 * handlers before it aborts them (their late results are dropped). Project
 * value: below `@zg/app-kit`'s 700 ms close bound, so an app's shutdown never
 * waits on one hung handler.
 */
export const DEFAULT_CLOSE_TIMEOUT = 500;

/**
 * What `start()` resolves with for a component that binds one set of
 * endpoints (a server, a one-sided broker, a publisher): the endpoints as
 * bound, in the order given, with `tcp://…:*` resolved to the real port.
 * The rule for every zg component (docs/architecture.md): one that binds
 * resolves with `{ endpoints }`; a two-sided broker resolves with one named
 * list per side (`{ frontend, backend }`); one that only connects (workers,
 * clients, monitors) resolves with nothing.
 */
export interface BoundEndpoints {
  /** Bound endpoints, resolved (`tcp://127.0.0.1:40123`). */
  endpoints: string[];
}

/** Options every component accepts. */
export interface ComponentOptions {
  /** Where the component logs; silent by default. @defaultValue {@link silentLogger} */
  logger?: Logger;
  /**
   * How long `close()` waits for in-flight handlers (work registered with
   * `track()`) before aborting them, ms. @defaultValue {@link DEFAULT_CLOSE_TIMEOUT}
   */
  closeTimeout?: number;
}

/** Options of {@link Component.drain}. */
export interface DrainOptions {
  /** Bound on waiting for in-flight work, ms. @defaultValue {@link DEFAULT_DRAIN_TIMEOUT} */
  timeout?: number;
}

/** What {@link Component.drain} resolves with. */
export interface DrainResult {
  /** True when all in-flight work finished within the bound. */
  completed: boolean;
  /** In-flight work still pending when the component closed (0 when `completed`). */
  remaining: number;
}

/**
 * The events every component emits, whatever its own map: the one
 * `fatal`-kind event of zg (see docs/events.md).
 */
export interface ComponentEvents {
  /**
   * A fatal error stopped the component (e.g. a socket's reader died): it is
   * closing and `closed` resolves with `error`.
   */
  "component:failed": { component: string; error: Error };
}

/** Something {@link Component.own} can release on close. */
export type Releasable = { close(): unknown } | (() => unknown);

/**
 * Something whose end a component watches: a `SocketLoop` (its `done`
 * resolves with the error that killed the reader, or `undefined`) or another
 * component (its `closed`).
 */
export type Supervised =
  | {
      /** Resolves when it ends: `undefined` when stopped on purpose, else the fatal error. Never rejects. */
      readonly done: Promise<Error | undefined>;
    }
  | {
      /** Resolves when it stops: `undefined` after a normal close, else the fatal error. Never rejects. */
      readonly closed: Promise<Error | undefined>;
    };

function endOf(value: unknown): Promise<Error | undefined> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as { done?: unknown; closed?: unknown };
  if (v.done instanceof Promise) return v.done as Promise<Error | undefined>;
  if (v.closed instanceof Promise) return v.closed as Promise<Error | undefined>;
  return undefined;
}

/**
 * The common shape of long-lived zg components (brokers, workers, clients,
 * monitors), after czmq's synchronized lifecycle and nats.js' `closed()`:
 *
 * - the constructor validates options and allocates nothing that needs closing;
 * - `await start()` resolves when bound and ready, with what the caller needs
 *   (real endpoints); it may be called once;
 * - `await drain()` stops taking new work ({@link onDrain}), waits a bounded
 *   time for in-flight work ({@link inFlight}, {@link track}), then closes;
 * - `await close()` is idempotent: it waits at most `closeTimeout` for tracked
 *   in-flight handlers, then aborts them ({@link closeSignal}) and resolves
 *   only when every socket and timer registered with {@link own} is released;
 *   a handler that calls `close()` does not deadlock (the wait is bounded);
 * - {@link closed} resolves (never rejects) when the component stops, with the
 *   fatal error if one stopped it. A loop or sub-component registered with
 *   {@link own} or {@link watch} that dies is such a fatal error: the
 *   component emits `component:failed` and closes, by construction;
 * - `await using` works through `Symbol.asyncDispose`;
 * - typed events through {@link TypedEmitter}, `stats()` for counters.
 *
 * Subclasses implement {@link onStart} and may implement {@link onClose}.
 *
 * @typeParam E - event map
 * @typeParam S - stats snapshot type
 * @typeParam R - what `start()` resolves with: {@link BoundEndpoints} for a component that binds, a record of named endpoint lists for a two-sided broker, `void` for one that only connects
 */
export abstract class Component<E extends ClosedEventMap<E>, S, R = void>
  extends TypedEmitter<E & ComponentEvents>
  implements AsyncDisposable
{
  /** The component's logger (silent unless one was passed). */
  protected readonly logger: Logger;
  /** The component's name, as in log lines and `component:failed`. */
  readonly #name: string;
  readonly #closeTimeout: number;
  readonly #closed = deferred<Error | undefined>();
  readonly #releases: Releasable[] = [];
  readonly #abort = new AbortController();
  readonly #tracked = new Set<Promise<unknown>>();
  #idleWaiters: (() => void)[] = [];
  #state: ComponentState = "idle";
  #closing: Promise<void> | undefined;
  #draining: Promise<DrainResult> | undefined;
  #fatal: Error | undefined;

  /**
   * Resolves when the component has stopped: `undefined` after a normal
   * `close()`, or the fatal error that stopped it. Never rejects.
   */
  readonly closed: Promise<Error | undefined> = this.#closed.promise;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad `closeTimeout`. */
  constructor(name: string, options: ComponentOptions = {}) {
    super();
    this.#name = name;
    this.#closeTimeout = durationOption(
      "closeTimeout",
      options.closeTimeout,
      DEFAULT_CLOSE_TIMEOUT,
    );
    this.logger = childLogger(options.logger ?? silentLogger, { component: name });
    this.listenerErrorLogger = this.logger;
  }

  /** The current lifecycle state. */
  get state(): ComponentState {
    return this.#state;
  }

  /** A cheap snapshot of the component's counters. */
  abstract stats(): S;

  /** Binds/connects and starts loops; resolves when ready. */
  protected abstract onStart(): Promise<R>;

  /** Stops loops and releases what {@link own} does not cover. Runs before owned resources are released. */
  protected onClose(): Promise<void> | void {}

  /**
   * Starts the component. Resolves when it is ready.
   *
   * @throws {@link ZgError} `ZG_STATE` if called twice or after close; any
   * start failure (after which everything acquired so far is released).
   */
  async start(): Promise<R> {
    if (this.#state !== "idle") {
      throw new ZgError("ZG_STATE", `start() called in state ${this.#state}`);
    }
    this.#state = "starting";
    try {
      const result = await this.onStart();
      if ((this.#state as ComponentState) !== "starting") {
        throw this.#fatal ?? new ZgError("ZG_CLOSED", "closed while starting");
      }
      this.#state = "running";
      return result;
    } catch (error) {
      await this.close();
      // A fatal error while starting (a supervised loop died, a store failed) closes the
      // sockets under onStart, which then fails with a symptom ("socket closed"): report the cause.
      throw this.#fatal ?? error;
    }
  }

  /**
   * Stops the component and releases everything. Idempotent; concurrent calls
   * share one promise. In-flight handlers registered with {@link track} get at
   * most `closeTimeout` ms to finish; then {@link closeSignal} aborts and
   * their late results are dropped.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown(this.#closeTimeout);
    return this.#closing;
  }

  /**
   * Finishes in-flight work, then closes: stops taking new work
   * ({@link onDrain}; calls that need a running component now throw
   * `ZG_STATE`), waits until {@link inFlight} is 0 or `timeout` ms passed,
   * then closes without a second wait. Idempotent; after `close()` began it
   * just waits for the close.
   *
   * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad `timeout` (synchronously).
   */
  drain(options: DrainOptions = {}): Promise<DrainResult> {
    const timeout = durationOption("timeout", options.timeout, DEFAULT_DRAIN_TIMEOUT);
    this.#draining ??= this.#drain(timeout);
    return this.#draining;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * True while the component's loops run: `running` or `draining` (a
   * draining component still finishes in-flight work). New work checks
   * {@link accepting} or calls {@link assertRunning}.
   */
  protected get running(): boolean {
    return this.#state === "running" || this.#state === "draining";
  }

  /** True while the component takes new work (`running`, not draining). */
  protected get accepting(): boolean {
    return this.#state === "running";
  }

  /**
   * True while work that reaches the component must be served: `running`, and
   * also `starting` once `onStart` has announced it (a worker whose READY went
   * out may be handed a request before `start()` resolves; dropped, it would
   * stall the worker at its broker). False while draining or closing.
   */
  protected get serving(): boolean {
    return this.#state === "starting" || this.#state === "running";
  }

  /**
   * Throws the one not-running error of zg: `ZG_STATE` (details: `state`,
   * `operation`) unless the component is `running` (so before `start()`,
   * while draining and after close). Work already in flight that a close
   * interrupts rejects with `ZG_CLOSED` instead.
   *
   * @throws {@link ZgError} `ZG_STATE`.
   */
  protected assertRunning(operation: string): void {
    if (this.#state !== "running") throw this.notRunningError(operation);
  }

  /** The error {@link assertRunning} throws, for code that rejects instead. */
  protected notRunningError(operation: string): ZgError<"ZG_STATE"> {
    return new ZgError("ZG_STATE", `${operation}: ${this.#name} is ${this.#state}, not running`, {
      details: { state: this.#state, operation },
    });
  }

  /**
   * Aborted when close stops waiting for in-flight handlers (after
   * `closeTimeout`): pass it to work that can be cancelled.
   */
  protected get closeSignal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Hook of {@link drain}: stop taking new work (stop reading a frontend,
   * refuse new requests). The default does nothing beyond the state change
   * (which makes {@link assertRunning} throw).
   */
  protected onDrain(): Promise<void> | void {}

  /**
   * Work in flight now, for {@link drain}: the default counts promises
   * registered with {@link track}. Servers and brokers override it (e.g.
   * busy workers + queued requests) and call {@link checkIdle} when it may
   * have reached 0.
   */
  protected inFlight(): number {
    return this.#tracked.size;
  }

  /** Wakes a pending {@link drain} so it re-reads {@link inFlight}. Cheap; call it whenever work completes. */
  protected checkIdle(): void {
    if (this.#idleWaiters.length === 0 || this.inFlight() > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Registers in-flight work (a handler's promise): {@link drain} and
   * {@link close} wait for it (bounded). Returns its argument.
   */
  protected track<T>(work: Promise<T>): Promise<T> {
    this.#tracked.add(work);
    const done = (): void => {
      this.#tracked.delete(work);
      this.checkIdle();
    };
    work.then(done, done);
    return work;
  }

  /**
   * Watches a loop (its `done`) or a sub-component (its `closed`) without
   * owning it: when that resolves with an error while the component runs, the
   * component fails with it ({@link fail}). {@link own} does this for every
   * owned resource that has `done` or `closed`. Returns its argument.
   */
  protected watch<T extends Supervised>(resource: T): T {
    void endOf(resource)?.then((error) => {
      if (error !== undefined && !this.stopping) this.fail(error);
    });
    return resource;
  }

  /** True once close has begun (or finished). */
  protected get stopping(): boolean {
    return this.#state === "closing" || this.#state === "closed";
  }

  /**
   * Registers a socket, loop, table or cleanup function to release on close,
   * in reverse order of registration. A resource with a `done` promise (a
   * `SocketLoop`) or a `closed` promise (a sub-component) is also watched
   * ({@link watch}): its reader dying, or its fatal stop, fails the
   * component. Returns its argument.
   */
  protected own<T extends Releasable>(resource: T): T {
    this.#releases.push(resource);
    if (endOf(resource) !== undefined) this.watch(resource as unknown as Supervised);
    return resource;
  }

  /**
   * Stops the component because of a fatal error: logs it, emits
   * `component:failed`, closes without waiting for in-flight handlers, and
   * `closed` resolves with the error. Ignored once close has begun.
   */
  protected fail(error: Error): void {
    if (this.#fatal !== undefined || this.#closing !== undefined) return;
    this.#fatal = error;
    this.logger.error("fatal error, closing", { error: error.message });
    (this as unknown as Component<ComponentEvents, S, R>).emit("component:failed", {
      component: this.#name,
      error,
    });
    this.#closing = this.#shutdown(0);
  }

  /** A timer released on close. */
  protected setTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(fn, ms);
    this.own(() => clearTimeout(t));
    return t;
  }

  /** An interval released on close. */
  protected setInterval(fn: () => void, ms: number): ReturnType<typeof setInterval> {
    const t = setInterval(fn, ms);
    this.own(() => clearInterval(t));
    return t;
  }

  async #drain(timeout: number): Promise<DrainResult> {
    if (this.#state !== "running") {
      await this.close();
      return { completed: this.inFlight() === 0, remaining: this.inFlight() };
    }
    this.#state = "draining";
    try {
      await this.onDrain();
    } catch (error) {
      this.logger.warn("error while draining", { error: String(error) });
    }
    const completed = await this.#waitIdle(timeout);
    const remaining = this.inFlight();
    if (!completed) {
      this.logger.warn("drain timed out; closing with work in flight", { timeout, remaining });
    }
    this.#closing ??= this.#shutdown(0);
    await this.#closing;
    return { completed, remaining };
  }

  /** Resolves true when {@link inFlight} is 0 (re-checked on {@link checkIdle} and every 10 ms), false after `ms`. */
  async #waitIdle(ms: number): Promise<boolean> {
    if (this.inFlight() === 0) return true;
    if (ms <= 0) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let poll: ReturnType<typeof setInterval> | undefined;
    const idle = new Promise<true>((resolve) => {
      this.#idleWaiters.push(() => resolve(true));
      // inFlight() may be derived from state the subclass does not announce: re-read it.
      poll = setInterval(() => this.checkIdle(), 10);
    });
    const result = await Promise.race([
      idle,
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
      this.#closed.promise.then(() => false as const),
    ]);
    clearTimeout(timer);
    clearInterval(poll);
    return result;
  }

  async #shutdown(waitForHandlers: number): Promise<void> {
    this.#state = "closing";
    if (this.#tracked.size > 0 && waitForHandlers > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settled = await Promise.race([
        Promise.allSettled([...this.#tracked]).then(() => true),
        new Promise<false>(
          (resolve) => (timer = setTimeout(() => resolve(false), waitForHandlers)),
        ),
      ]);
      clearTimeout(timer);
      if (!settled) {
        this.logger.warn("handlers still running at close; aborting them", {
          handlers: this.#tracked.size,
          closeTimeout: waitForHandlers,
        });
      }
    }
    this.#abort.abort(new ZgError("ZG_CLOSED", `${this.#name} closed`));
    try {
      await this.onClose();
    } catch (error) {
      this.logger.warn("error while closing", { error: String(error) });
    }
    while (this.#releases.length > 0) {
      const r = this.#releases.pop() as Releasable;
      try {
        await (typeof r === "function" ? r() : r.close());
      } catch (error) {
        this.logger.warn("error releasing a resource", { error: String(error) });
      }
    }
    this.#state = "closed";
    this.#closed.resolve(this.#fatal);
  }
}
