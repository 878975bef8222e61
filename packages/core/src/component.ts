import { deferred } from "./async.js";
import { ZgError } from "./errors.js";
import { TypedEmitter, type EventMap } from "./events.js";
import { childLogger, silentLogger, type Logger } from "./logger.js";

/** The lifecycle states of a {@link Component}. */
export type ComponentState = "idle" | "starting" | "running" | "closing" | "closed";

/** Options every component accepts. */
export interface ComponentOptions {
  /** Where the component logs; silent by default. @defaultValue {@link silentLogger} */
  logger?: Logger;
}

/** Something {@link Component.own} can release on close. */
export type Releasable = { close(): unknown } | (() => unknown);

/**
 * The common shape of long-lived zg components (brokers, workers, clients,
 * monitors), after czmq's synchronized lifecycle and nats.js' `closed()`:
 *
 * - the constructor validates options and allocates nothing that needs closing;
 * - `await start()` resolves when bound and ready, with what the caller needs
 *   (real endpoints); it may be called once;
 * - `await close()` is idempotent and resolves only when every socket and timer
 *   registered with {@link own} is released;
 * - {@link closed} resolves (never rejects) when the component stops, with the
 *   fatal error if one stopped it;
 * - `await using` works through `Symbol.asyncDispose`;
 * - typed events through {@link TypedEmitter}, `stats()` for counters.
 *
 * Subclasses implement {@link onStart} and may implement {@link onClose}.
 *
 * @typeParam E - event map
 * @typeParam S - stats snapshot type
 * @typeParam R - what `start()` resolves with
 */
export abstract class Component<E extends EventMap, S, R = void>
  extends TypedEmitter<E>
  implements AsyncDisposable
{
  /** The component's logger (silent unless one was passed). */
  protected readonly logger: Logger;
  readonly #closed = deferred<Error | undefined>();
  readonly #releases: Releasable[] = [];
  #state: ComponentState = "idle";
  #closing: Promise<void> | undefined;
  #fatal: Error | undefined;

  /**
   * Resolves when the component has stopped: `undefined` after a normal
   * `close()`, or the fatal error that stopped it. Never rejects.
   */
  readonly closed: Promise<Error | undefined> = this.#closed.promise;

  constructor(name: string, options: ComponentOptions = {}) {
    super();
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
        throw new ZgError("ZG_CLOSED", "closed while starting");
      }
      this.#state = "running";
      return result;
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Stops the component and releases everything. Idempotent; concurrent calls share one promise. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** True while the component is `running`. */
  protected get running(): boolean {
    return this.#state === "running";
  }

  /** True once close has begun (or finished). */
  protected get stopping(): boolean {
    return this.#state === "closing" || this.#state === "closed";
  }

  /**
   * Registers a socket, loop, table or cleanup function to release on close,
   * in reverse order of registration. Returns its argument.
   */
  protected own<T extends Releasable>(resource: T): T {
    this.#releases.push(resource);
    return resource;
  }

  /** Stops the component because of a fatal error; `closed` resolves with it. */
  protected fail(error: Error): void {
    this.logger.error("fatal error, closing", { error: error.message });
    this.#fatal ??= error;
    void this.close();
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

  async #shutdown(): Promise<void> {
    this.#state = "closing";
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
