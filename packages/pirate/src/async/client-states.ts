import {
  formatIdentity,
  identityFromKey,
  identityKey,
  systemClock,
  type Clock,
  type Frame,
  type Logger,
} from "@zg/core";
import { PresenceTracker } from "@zg/heartbeat";

/** Options of {@link ClientStates}. */
export interface ClientStatesOptions<S> {
  /** Silence after which a client's state is destroyed, ms. */
  expiry: number;
  maxClients: number;
  create: (identity: Frame) => S;
  destroy?: ((state: S, identity: Frame) => void) | undefined;
  onJoined?: (identity: string) => void;
  onExpired?: (identity: string, silentFor: number) => void;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
}

/**
 * The asynchronous server's per-client state, pure (Guide ch. 3, stateful
 * `asyncsrv`): each request is the client's heartbeat; a client silent for
 * `expiry` has its state destroyed; new clients beyond `maxClients` are
 * refused. Liveness is a `PresenceTracker` (liveness 1) on the injected clock.
 *
 * @internal
 */
export class ClientStates<S> {
  readonly #o: ClientStatesOptions<S>;
  readonly #states = new Map<string, S>();
  readonly #tracker: PresenceTracker<string>;
  #expired = 0;
  #refused = 0;

  constructor(options: ClientStatesOptions<S>) {
    this.#o = options;
    this.#tracker = new PresenceTracker<string>({
      interval: options.expiry,
      liveness: 1,
      maxPeers: options.maxClients,
      rememberExpired: 0,
      clock: options.clock ?? systemClock,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    this.#tracker.on("peer:expired", ({ key, silentFor }) => {
      const state = this.#states.get(key) as S;
      this.#states.delete(key);
      this.#expired++;
      const id = identityFromKey(key);
      try {
        this.#o.destroy?.(state, id);
      } catch (error) {
        this.#o.logger?.error("destroyState threw", { error: String(error) });
      }
      this.#o.onExpired?.(formatIdentity(id), silentFor);
    });
  }

  /** Clients with state now. */
  get size(): number {
    return this.#states.size;
  }

  /** Counters: states destroyed after silence, new clients refused. */
  stats(): { clientsExpired: number; clientsRefused: number } {
    return { clientsExpired: this.#expired, clientsRefused: this.#refused };
  }

  /**
   * A request from `identity`: renews its liveness and returns its state,
   * created on first sight (or after it expired). `undefined`: refused
   * (the table is full).
   */
  touch(identity: Frame): S | undefined {
    const key = identityKey(identity);
    const seen = this.#tracker.seen(key);
    if (seen === "refused") {
      this.#refused++;
      return undefined;
    }
    let state = this.#states.get(key);
    if (state === undefined || seen !== "alive") {
      state = this.#o.create(identity);
      this.#states.set(key, state);
      this.#o.onJoined?.(formatIdentity(identity));
    }
    return state;
  }

  /** The state of a client, if it has one. */
  get(identity: Uint8Array): S | undefined {
    return this.#states.get(identityKey(identity));
  }

  /** Stops the timer and forgets every client (without calling `destroy`). */
  close(): void {
    this.#tracker.close();
    this.#states.clear();
  }
}
