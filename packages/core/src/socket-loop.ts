import type { Socket } from "zeromq";
import { deferred } from "./async.js";
import { isZgError, ZgError } from "./errors.js";
import { toFrame, type FrameLike, type Message } from "./frames.js";
import { silentLogger, type Logger } from "./logger.js";

/**
 * How one queued send ended.
 *
 * - `sent`: handed to libzmq.
 * - `unreachable`: EHOSTUNREACH from a `mandatory` ROUTER: the peer is gone.
 * - `timeout`: EAGAIN after `sendTimeout`: the peer is slow (its HWM is full).
 * - `overflow`: the loop's own send queue was full; the message was not queued.
 * - `closed`: the loop closed before the message was written.
 * - `error`: any other zeromq.js failure (logged with its code).
 */
export type SendOutcome = "sent" | "unreachable" | "timeout" | "overflow" | "closed" | "error";

/** Counters of a {@link SocketLoop}. */
export interface SocketLoopStats {
  /** Messages received and handed to `onMessage`. */
  received: number;
  /** Messages written to the socket. */
  sent: number;
  /** Sends that failed with EHOSTUNREACH (peer gone). */
  unreachable: number;
  /** Sends that failed with EAGAIN (peer slow, HWM full). */
  timeouts: number;
  /** Messages refused because the send queue was full. */
  overflows: number;
  /** Sends that failed for another reason. */
  sendErrors: number;
  /** `onMessage` calls that threw a `ZG_PROTOCOL` error (bad input, dropped). */
  protocolErrors: number;
  /** `onMessage` calls that threw anything else (logged, dropped). */
  handlerErrors: number;
  /** Messages waiting in the send queue now. */
  queued: number;
}

/** Default bound of a {@link SocketLoop} send queue, in messages. */
export const DEFAULT_SEND_QUEUE_LIMIT = 10_000;

/** Options of {@link SocketLoop}. */
export interface SocketLoopOptions {
  /**
   * Called for each received message, in order. May return a promise, which
   * the reader awaits before the next receive (backpressure). Whatever it
   * throws is counted and logged, never rethrown: bad input cannot stop the loop.
   * Omit for write-only sockets.
   */
  onMessage?: (message: Message) => void | Promise<void>;
  /** Called after a send fails (outcome other than `sent`), e.g. to purge a vanished peer. */
  onSendFailure?: (message: Message, outcome: Exclude<SendOutcome, "sent">) => void;
  /** Name used in log lines. @defaultValue "socket" */
  name?: string;
  /** Logger. @defaultValue {@link silentLogger} */
  logger?: Logger;
  /** Bound of the send queue in messages. @defaultValue {@link DEFAULT_SEND_QUEUE_LIMIT} */
  sendQueueLimit?: number;
  /** Whether {@link SocketLoop.close} closes the socket. @defaultValue true */
  ownsSocket?: boolean;
}

interface Pending {
  message: readonly FrameLike[];
  done: ((outcome: SendOutcome) => void) | undefined;
}

type ReadWriteSocket = Socket & {
  receive?: () => Promise<Buffer[]>;
};

/**
 * The one reader and the one serialized writer of a zeromq.js socket.
 *
 * zeromq.js allows one pending `receive()` and one pending `send()` per
 * socket (a second throws EBUSY). A `SocketLoop` owns both: a reader loop
 * that hands each message to `onMessage`, and a bounded FIFO of outgoing
 * messages written one at a time. {@link post} never blocks and never throws,
 * so a broker can reply from inside `onMessage` without awaiting.
 *
 * For ROUTER sockets create the socket with `mandatory: true` and
 * `sendTimeout: 0` (see {@link createRouter}): a vanished peer then yields
 * `unreachable` and a slow one `timeout`, counted per message, and the loop
 * moves on instead of stalling every other peer.
 *
 * @example
 * ```ts
 * const loop = new SocketLoop(router, { onMessage: (msg) => loop.post(handle(msg)) });
 * loop.start();
 * await loop.close();
 * ```
 */
export class SocketLoop {
  readonly socket: Socket;
  readonly #options: SocketLoopOptions;
  readonly #logger: Logger;
  readonly #limit: number;
  #queue: (Pending | undefined)[] = [];
  #head = 0;
  #writing = false;
  #inFlight: Pending | undefined;
  /**
   * True for a socket with `sendTimeout: 0` (every ROUTER from `createRouter`):
   * zeromq.js then completes each `send()` before it returns (sent, or failed
   * at once with EAGAIN/EHOSTUNREACH) and never leaves a send pending, so
   * {@link post} writes at once while nothing is queued, instead of waiting a
   * promise turn per message; outcomes still arrive in order.
   */
  readonly #syncSend: boolean;
  /** Sends written on the synchronous path whose outcome has not been handled yet, oldest first. */
  #syncMessages: (readonly FrameLike[] | undefined)[] = [];
  #syncHead = 0;
  #syncPending = 0;
  #started = false;
  #closing: Promise<void> | undefined;
  #drained: ReturnType<typeof deferred<void>> | undefined;
  #paused: ReturnType<typeof deferred<void>> | undefined;
  readonly #readerDone = deferred<Error | undefined>();
  readonly #stats: SocketLoopStats = {
    received: 0,
    sent: 0,
    unreachable: 0,
    timeouts: 0,
    overflows: 0,
    sendErrors: 0,
    protocolErrors: 0,
    handlerErrors: 0,
    queued: 0,
  };

  /**
   * Resolves when the reader loop has ended: `undefined` after close, or the
   * error that ended it (a receive failure other than close). Never rejects.
   */
  readonly done: Promise<Error | undefined> = this.#readerDone.promise;

  constructor(socket: Socket, options: SocketLoopOptions = {}) {
    this.socket = socket;
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#limit = options.sendQueueLimit ?? DEFAULT_SEND_QUEUE_LIMIT;
    if (!(this.#limit >= 1))
      throw new ZgError("ZG_INVALID_ARGUMENT", "sendQueueLimit must be >= 1");
    this.#syncSend = (socket as { sendTimeout?: unknown }).sendTimeout === 0;
  }

  /** Starts the reader (if `onMessage` was given). Idempotent. */
  start(): this {
    if (this.#started) return this;
    this.#started = true;
    if (this.#options.onMessage !== undefined) void this.#read(this.#options.onMessage);
    else this.#readerDone.resolve(undefined);
    return this;
  }

  /**
   * Stops reading: no message reaches `onMessage` and no new `receive()` is
   * started until {@link resume} (a message whose receive was already pending
   * is held and delivered on resume, or dropped on close). Messages wait in
   * libzmq's queue, and past its high-water mark in the peer's: the way a
   * draining server stops taking new work. Sending is unaffected. Idempotent.
   */
  pause(): void {
    if (this.#closing === undefined) this.#paused ??= deferred();
  }

  /** Resumes reading after {@link pause}. Idempotent. */
  resume(): void {
    const gate = this.#paused;
    this.#paused = undefined;
    gate?.resolve();
  }

  /** True while paused ({@link pause}). */
  get paused(): boolean {
    return this.#paused !== undefined;
  }

  /** True once {@link close} has been called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** A snapshot of the counters. */
  stats(): SocketLoopStats {
    return { ...this.#stats, queued: this.#queue.length - this.#head };
  }

  /**
   * Queues a message for sending and returns at once.
   *
   * @returns false when the message was refused (queue full or loop closed);
   * the refusal is counted and reported to `onSendFailure`.
   */
  post(message: readonly FrameLike[]): boolean {
    if (this.#syncSend && !this.#writing && this.#closing === undefined) {
      this.#writeNow(message);
      return true;
    }
    return this.#enqueue(message, undefined);
  }

  /**
   * Writes `message` on a `sendTimeout: 0` socket with nothing queued: the
   * send completes inside zeromq.js's `send()`, so the next one may follow at
   * once (no EBUSY); its outcome is handled when its promise settles.
   */
  #writeNow(message: readonly FrameLike[]): void {
    let sending: Promise<void>;
    try {
      sending = (
        this.socket as ReadWriteSocket & {
          send: (m: readonly FrameLike[] | FrameLike) => Promise<void>;
        }
      ).send(message.length === 1 ? (message[0] as FrameLike) : message);
    } catch (error) {
      this.#finish({ message, done: undefined }, this.#classify(error));
      return;
    }
    // Outcomes settle in send order, so the handlers (made once, no closure per message) find
    // their message at the head of #syncMessages.
    this.#syncPending++;
    this.#syncMessages.push(message);
    void sending.then(this.#onSyncSent, this.#onSyncError);
  }

  readonly #onSyncSent = (): void => {
    this.#stats.sent++;
    this.#syncMessages[this.#syncHead++] = undefined;
    this.#syncSettled();
  };

  readonly #onSyncError = (error: unknown): void => {
    const message = this.#syncMessages[this.#syncHead] as readonly FrameLike[];
    this.#syncMessages[this.#syncHead++] = undefined;
    this.#finish({ message, done: undefined }, this.#classify(error));
    this.#syncSettled();
  };

  #syncSettled(): void {
    if (--this.#syncPending > 0) return;
    this.#syncMessages.length = 0;
    this.#syncHead = 0;
    if (this.#writing) return;
    const d = this.#drained;
    this.#drained = undefined;
    d?.resolve();
  }

  /** Queues a message and resolves with its {@link SendOutcome}. Never rejects. */
  send(message: readonly FrameLike[]): Promise<SendOutcome> {
    // Idle writer (so an empty queue) and open: hand the message to zeromq.js at once; its promise,
    // mapped to the outcome, is the only one made. Otherwise it waits its turn in the queue.
    if (!this.#writing && this.#closing === undefined)
      return this.#write({ message, done: undefined });
    return new Promise((resolve) => {
      this.#enqueue(message, resolve);
    });
  }

  /** Resolves when the send queue is empty (everything queued so far was written or failed). */
  async flush(): Promise<void> {
    if (!this.#writing && this.#head >= this.#queue.length && this.#syncPending === 0) return;
    this.#drained ??= deferred();
    await this.#drained.promise;
  }

  /**
   * Stops the loop: waits up to `drainTimeout` ms for queued messages to be
   * written, resolves the rest as `closed`, closes the socket (if owned) and
   * waits for the reader to end. Idempotent.
   */
  close({ drainTimeout = 0 }: { drainTimeout?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(drainTimeout);
    return this.#closing;
  }

  async #close(drainTimeout: number): Promise<void> {
    if (
      drainTimeout > 0 &&
      (this.#writing || this.#head < this.#queue.length || this.#syncPending > 0)
    ) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.flush(),
        new Promise<void>((r) => {
          timer = setTimeout(r, drainTimeout);
        }),
      ]);
      clearTimeout(timer);
    }
    // Fail what is still queued.
    for (let i = this.#head; i < this.#queue.length; i++) {
      const p = this.#queue[i];
      if (p !== undefined) this.#finish(p, "closed");
    }
    this.#queue = [];
    this.#head = 0;
    if (this.#options.ownsSocket !== false && !this.socket.closed) this.socket.close();
    if (!this.#started) this.#readerDone.resolve(undefined);
    this.resume();
    await this.done;
    this.#drained?.resolve();
  }

  #enqueue(message: readonly FrameLike[], done: ((o: SendOutcome) => void) | undefined): boolean {
    if (this.#closing !== undefined) {
      this.#finish({ message, done }, "closed");
      return false;
    }
    if (this.#queue.length - this.#head >= this.#limit) {
      this.#finish({ message, done }, "overflow");
      return false;
    }
    this.#queue.push({ message, done });
    if (!this.#writing) this.#pump();
    return true;
  }

  /**
   * Writes the head of the queue. Continuation is by promise callbacks rather
   * than an async loop: one `send()` in flight, no extra promise per message.
   */
  #pump(): void {
    const item = this.#queue[this.#head] as Pending;
    this.#queue[this.#head++] = undefined;
    void this.#write(item);
  }

  /** Writes one message (the writer must be idle); resolves with its outcome once it is settled. */
  #write(item: Pending): Promise<SendOutcome> {
    this.#writing = true;
    this.#inFlight = item;
    let sending: Promise<void>;
    try {
      const m = item.message;
      // zeromq.js takes a lone frame on a cheaper path than a one-element array.
      sending = (
        this.socket as ReadWriteSocket & {
          send: (m: readonly FrameLike[] | FrameLike) => Promise<void>;
        }
      ).send(m.length === 1 ? (m[0] as FrameLike) : m);
    } catch (error) {
      return Promise.resolve(this.#onSendError(error));
    }
    return sending.then(this.#onSent, this.#onSendError);
  }

  readonly #onSent = (): SendOutcome => this.#afterSend("sent");

  readonly #onSendError = (error: unknown): SendOutcome => this.#afterSend(this.#classify(error));

  #afterSend(outcome: SendOutcome): SendOutcome {
    const item = this.#inFlight as Pending;
    this.#inFlight = undefined;
    this.#finish(item, outcome);
    if (this.#head < this.#queue.length) {
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#pump();
      return outcome;
    }
    this.#queue.length = 0;
    this.#head = 0;
    this.#writing = false;
    if (this.#syncPending > 0) return outcome;
    const d = this.#drained;
    this.#drained = undefined;
    d?.resolve();
    return outcome;
  }

  #classify(error: unknown): SendOutcome {
    const code = (error as { code?: string } | null)?.code;
    if (code === "EHOSTUNREACH") return "unreachable";
    if (code === "EAGAIN") return this.socket.closed ? "closed" : "timeout";
    if (this.socket.closed || this.#closing !== undefined) return "closed";
    this.#logger.warn("send failed", {
      socket: this.#options.name ?? "socket",
      code,
      error: String(error),
    });
    return "error";
  }

  #finish(item: Pending, outcome: SendOutcome): void {
    if (outcome === "sent") {
      this.#stats.sent++;
      item.done?.(outcome);
      return;
    }
    switch (outcome) {
      case "unreachable":
        this.#stats.unreachable++;
        break;
      case "timeout":
        this.#stats.timeouts++;
        break;
      case "overflow":
        this.#stats.overflows++;
        break;
      case "error":
        this.#stats.sendErrors++;
        break;
      case "closed":
        break;
    }
    if (outcome !== "closed") {
      this.#logger.debug("message not sent", { socket: this.#options.name ?? "socket", outcome });
    }
    try {
      this.#options.onSendFailure?.(item.message.map(toFrame), outcome);
    } catch (error) {
      this.#logger.error("onSendFailure threw", { error: String(error) });
    }
    item.done?.(outcome);
  }

  async #read(onMessage: (message: Message) => void | Promise<void>): Promise<void> {
    const socket = this.socket as ReadWriteSocket;
    const receive = socket.receive?.bind(socket);
    if (receive === undefined) {
      this.#readerDone.resolve(new ZgError("ZG_INVALID_ARGUMENT", "socket is not readable"));
      return;
    }
    let failure: Error | undefined;
    for (;;) {
      if (this.#paused !== undefined) {
        await this.#paused.promise;
        if (this.#closing !== undefined) break;
      }
      let message: Message;
      try {
        message = await receive();
      } catch (error) {
        if (!(this.socket.closed || this.#closing !== undefined)) {
          failure = new ZgError("ZG_SOCKET", "receive failed", { cause: error });
          this.#logger.error("receive failed; reader stopped", {
            socket: this.#options.name ?? "socket",
            error: String(error),
          });
        }
        break;
      }
      if (this.#paused !== undefined) {
        await this.#paused.promise;
        if (this.#closing !== undefined) break;
      }
      this.#stats.received++;
      try {
        const r = onMessage(message);
        if (r !== undefined) await r;
      } catch (error) {
        if (isZgError(error, "ZG_PROTOCOL")) {
          this.#stats.protocolErrors++;
          this.#logger.warn("protocol error; message dropped", {
            socket: this.#options.name ?? "socket",
            error: error.message,
          });
        } else {
          this.#stats.handlerErrors++;
          this.#logger.error("message handler threw; message dropped", {
            socket: this.#options.name ?? "socket",
            error: String(error),
          });
        }
      }
    }
    this.#readerDone.resolve(failure);
  }
}
