import { connectAll, createDealer, SocketLoop, type Logger, type Message } from "@zg/core";

/**
 * The Lazy Pirate socket discipline (Guide `lpclient`, `mdcliapi`): a
 * DEALER opened on first use and abandoned (closed with linger 0, in the
 * background) when a request times out or is abandoned, so that a late
 * reply to an abandoned attempt can never be taken for the current one.
 * Used by the Lazy Pirate, synchronous Majordomo, Freelance model 1 and
 * Binary Star clients.
 *
 * @internal
 */
export class LazySocket {
  readonly #endpoints: () => readonly string[];
  readonly #onMessage: (message: Message, current: boolean) => void;
  readonly #name: string;
  readonly #linger: number;
  readonly #logger: Logger;
  readonly #closing = new Set<Promise<void>>();
  #loop: SocketLoop | undefined;
  #closed = false;
  #resolveDone!: (error: Error | undefined) => void;
  /**
   * Resolves when the socket ends for good: `undefined` after {@link close},
   * or the error with which the current socket's reader died. Never rejects:
   * the owning component `own()`s or `watch()`es it and fails with it.
   */
  readonly done: Promise<Error | undefined> = new Promise((resolve) => {
    this.#resolveDone = resolve;
  });

  constructor(options: {
    /** The endpoints the next socket connects to. */
    endpoints: () => readonly string[];
    /** Every message; `current` is false for one that arrived on an abandoned socket. */
    onMessage: (message: Message, current: boolean) => void;
    name: string;
    logger: Logger;
    /** Linger of every socket, ms (the owning component's `linger`). */
    linger: number;
  }) {
    this.#endpoints = options.endpoints;
    this.#linger = options.linger;
    this.#onMessage = options.onMessage;
    this.#name = options.name;
    this.#logger = options.logger;
  }

  /** Opens the socket now if there is none (e.g. at start, so it is connecting before the first request). */
  open(): void {
    if (this.#loop !== undefined || this.#closed) return;
    const socket = createDealer({ linger: this.#linger });
    connectAll(socket, this.#endpoints());
    const loop: SocketLoop = new SocketLoop(socket, {
      name: this.#name,
      logger: this.#logger,
      onMessage: (m) => this.#onMessage(m, loop === this.#loop),
    });
    this.#loop = loop;
    void loop.done.then((error) => {
      if (error !== undefined && !this.#closed && loop === this.#loop) this.#resolveDone(error);
    });
    loop.start();
  }

  /** Queues a message on the current socket, opening one first if needed. @returns false when refused or closed. */
  post(message: Message): boolean {
    this.open();
    return this.#loop?.post(message) ?? false;
  }

  /** Abandons the current socket; the next {@link post} opens a new one. */
  drop(): void {
    const loop = this.#loop;
    this.#loop = undefined;
    if (loop === undefined) return;
    const closing = loop.close().finally(() => this.#closing.delete(closing));
    this.#closing.add(closing);
  }

  /** Drops the socket and waits until every abandoned socket is closed. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.drop();
    await Promise.all([...this.#closing]);
    this.#resolveDone(undefined);
  }
}
