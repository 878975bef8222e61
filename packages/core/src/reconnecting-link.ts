import type { Socket } from "zeromq";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { systemClock, type Clock, type TimerHandle } from "./clock.js";
import { assertArgument, ZgError } from "./errors.js";
import { TypedEmitter } from "./events.js";
import type { FrameLike, Message } from "./frames.js";
import { DEFAULT_HEARTBEAT_LIVENESS } from "./heartbeat-timing.js";
import { LinkHeartbeat } from "./link-heartbeat.js";
import { silentLogger, type Logger } from "./logger.js";
import { SocketLoop, type SendOutcome } from "./socket-loop.js";

/** Why a {@link ReconnectingLink} gave up its socket. */
export type LinkLostReason = "silent" | "requested";

/** Heartbeat settings of a {@link ReconnectingLink}. Durations in ms. */
export interface LinkHeartbeatSettings {
  /** Heartbeat interval: send after this much outgoing silence; the peer is judged by it. */
  interval: number;
  /** Intervals of silence before the peer is lost. @defaultValue {@link DEFAULT_HEARTBEAT_LIVENESS} */
  liveness?: number;
  /** Intervals of silence before `link:silent`. @defaultValue 1 */
  silentAfter?: number;
  /** One probe heartbeat per silence, none until the peer is heard again. @defaultValue false */
  pauseWhenSilent?: boolean;
  /** Sends one heartbeat on the current socket (e.g. `link.post(encodePppHeartbeat())`). */
  send: () => void;
}

/** Options of {@link ReconnectingLink}. Durations in milliseconds. */
export interface ReconnectingLinkOptions {
  /**
   * Creates the socket of one link generation, already connected (a fresh
   * socket each time: whatever the old one had queued for a dead peer is
   * discarded with it). `attempt` is 0 for the first socket.
   */
  socket: (attempt: number) => Socket;
  /** Heartbeating of the link; any message received counts as a sign of life. */
  heartbeat: LinkHeartbeatSettings;
  /**
   * Delay before each new socket after a loss, as a {@link Backoff} or its
   * options (reset by any message from the peer). `false`: never replace the
   * socket; wait to hear from the peer again. @defaultValue `new Backoff()` (1 s doubling to 32 s, Guide `ppworker`)
   */
  reconnect?: Backoff | BackoffOptions | false;
  /**
   * Keep the old socket through the reconnect delay, and keep using it if
   * the peer is heard meanwhile (a peer that was only stalled); replace it
   * only when the delay ends. `false`: give it up at once (Guide `ppworker`).
   * @defaultValue false
   */
  holdDuringDelay?: boolean;
  /** Runs on each new socket before the heartbeat starts (send READY, a hello ping …). */
  onConnect?: (attempt: number) => void;
  /** Every message of the current socket, after it counted as a sign of life. */
  onMessage: (message: Message) => void | Promise<void>;
  /** A send failed, on the current socket or one being given up (`closed`: discarded with it). */
  onSendFailure?: (message: Message, outcome: Exclude<SendOutcome, "sent">) => void;
  /**
   * A last message for the peer on a socket being given up or closed (e.g.
   * MDP DISCONNECT), written within a short drain; `undefined` for none.
   */
  goodbye?: (reason: LinkLostReason | "closed") => readonly FrameLike[] | undefined;
  /** Time source of heartbeats and delays. @defaultValue systemClock */
  clock?: Clock;
  /** Logger (and name in log lines). */
  logger?: Logger;
  name?: string;
}

/** Events of a {@link ReconnectingLink}. */
export type ReconnectingLinkEvents = {
  /** A socket was opened and `onConnect` ran (`attempt` 0 = first connect). */
  "link:connected": { attempt: number; generation: number };
  /** The peer was silent for `silentAfter` intervals. */
  "link:silent": { silentFor: number };
  /** The socket was given up; a new one follows after `delay` ms (-1: none, waiting for the peer). */
  "link:lost": { reason: LinkLostReason; silentFor: number; delay: number };
  /** The peer was heard again after a loss (on the old socket or a new one). */
  "link:restored": { downFor: number; generation: number };
};

/** Counters of a {@link ReconnectingLink}. */
export interface ReconnectingLinkStats {
  /** The current socket generation (1 = first socket). */
  generation: number;
  /** Sockets opened. */
  connects: number;
  /** Sockets opened after a loss. */
  reconnects: number;
  /** Times the link was lost (silence or {@link ReconnectingLink.reconnect}). */
  losses: number;
  /** Heartbeats sent, over every socket. */
  heartbeatsSent: number;
  /** True while the peer is heard within interval × liveness on the current socket. */
  connected: boolean;
}

/**
 * A client's reconnecting connection to one peer, written once for every
 * pattern (Guide `ppworker`, `mdwrkapi`, Binary Star and Clone clients): a
 * socket from a factory, a {@link LinkHeartbeat} that sends when the line is
 * idle and judges the peer by any message, and when the peer falls silent
 * (or the owner calls {@link reconnect}) a fresh socket after a
 * {@link Backoff} delay, with a generation counter so nothing from a
 * replaced socket is mistaken for the current one. Sends go through one
 * {@link SocketLoop} per generation.
 *
 * @example
 * ```ts
 * const link = new ReconnectingLink({
 *   socket: () => { const s = createDealer({ linger: 0 }); s.connect(endpoint); return s; },
 *   heartbeat: { interval: 1000, send: () => link.post([HEARTBEAT]) },
 *   onConnect: () => link.post([READY]),
 *   onMessage: (m) => handle(m),
 * });
 * link.start();
 * await link.close();
 * ```
 */
export class ReconnectingLink extends TypedEmitter<ReconnectingLinkEvents> {
  readonly #options: ReconnectingLinkOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #backoff: Backoff | undefined;
  readonly #hb: LinkHeartbeat;
  readonly #retiring = new Set<Promise<void>>();
  #loop: SocketLoop | undefined;
  #generation = 0;
  #abort = new AbortController();
  #timer: TimerHandle;
  #lostAt: number | undefined;
  #closed = false;
  #resolveDone!: (error: Error | undefined) => void;
  /**
   * Resolves when the link ends: `undefined` after {@link close}, or the
   * error with which the reader of the current socket died (a fatal error:
   * the link closes). Never rejects, so an owning `Component` can `own()`
   * or `watch()` the link and fail with it.
   */
  readonly done: Promise<Error | undefined> = new Promise((resolve) => {
    this.#resolveDone = resolve;
  });
  #connects = 0;
  #reconnects = 0;
  #losses = 0;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: ReconnectingLinkOptions) {
    super();
    assertArgument(typeof options?.socket === "function", "socket must be a function");
    assertArgument(typeof options.onMessage === "function", "onMessage must be a function");
    assertArgument(
      typeof options.heartbeat?.send === "function",
      "heartbeat.send must be a function",
    );
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.listenerErrorLogger = this.#logger;
    const r = options.reconnect;
    this.#backoff = r === false ? undefined : r instanceof Backoff ? r : new Backoff(r ?? {});
    const hb = options.heartbeat;
    this.#hb = new LinkHeartbeat({
      interval: hb.interval,
      liveness: hb.liveness ?? DEFAULT_HEARTBEAT_LIVENESS,
      ...(hb.silentAfter === undefined ? {} : { silentAfter: hb.silentAfter }),
      pauseWhenSilent: hb.pauseWhenSilent ?? false,
      clock: this.#clock,
      logger: this.#logger,
      sendHeartbeat: () => hb.send(),
      onSilent: (silentFor) => this.emit("link:silent", { silentFor }),
      onDead: (silentFor) => this.#lost("silent", silentFor),
    });
  }

  /** The heartbeat interval, ms. */
  get interval(): number {
    return this.#hb.interval;
  }

  /** Intervals of silence before the peer is lost. */
  get liveness(): number {
    return this.#hb.liveness;
  }

  /** The current socket generation (0 before {@link start}). */
  get generation(): number {
    return this.#generation;
  }

  /** The current socket's loop, or `undefined` between a loss and the next socket. */
  get loop(): SocketLoop | undefined {
    return this.#loop;
  }

  /** Aborted when the current generation's socket is given up (for work whose reply would be dropped). */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** True while the peer is heard within interval × liveness on the current socket. */
  get connected(): boolean {
    return this.#loop !== undefined && this.#lostAt === undefined && this.#hb.running;
  }

  /** Counters. */
  stats(): ReconnectingLinkStats {
    return {
      generation: this.#generation,
      connects: this.#connects,
      reconnects: this.#reconnects,
      losses: this.#losses,
      heartbeatsSent: this.#hb.heartbeatsSent,
      connected: this.connected,
    };
  }

  /** True when `generation` is the current socket's. */
  isCurrent(generation: number): boolean {
    return generation === this.#generation && this.#loop !== undefined;
  }

  /** Opens the first socket. @throws {@link ZgError} `ZG_STATE` if started twice or after close. */
  start(): void {
    if (this.#generation !== 0 || this.#closed)
      throw new ZgError("ZG_STATE", "ReconnectingLink.start() called twice or after close");
    this.#open(0);
  }

  /** Queues a message on the current socket; postpones the next heartbeat. @returns false when refused or between sockets. */
  post(message: readonly FrameLike[]): boolean {
    const loop = this.#loop;
    if (loop === undefined) return false;
    this.#hb.sent();
    return loop.post(message);
  }

  /** Queues a message and resolves with its outcome (`closed` between sockets or if the socket is replaced first). */
  send(message: readonly FrameLike[]): Promise<SendOutcome> {
    const loop = this.#loop;
    if (loop === undefined) return Promise.resolve("closed");
    this.#hb.sent();
    return loop.send(message);
  }

  /**
   * Gives up the current socket now (the peer said DISCONNECT, the protocol
   * broke) and opens a new one after `delay` ms (default: the back-off's
   * next delay).
   */
  reconnect(delay?: number): void {
    if (this.#closed || this.#generation === 0) return;
    this.#lost("requested", this.#clock.now() - this.#hb.lastHeard, delay);
  }

  /** Stops the heartbeat and timers and closes every socket. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#hb.stop();
      this.#clearTimer();
      this.#giveUp("closed");
    }
    while (this.#retiring.size > 0) await Promise.all([...this.#retiring]);
    this.#resolveDone(undefined);
  }

  #open(attempt: number): void {
    const generation = ++this.#generation;
    this.#abort = new AbortController();
    const socket = this.#options.socket(attempt);
    const loop = new SocketLoop(socket, {
      name: this.#options.name ?? "link",
      logger: this.#logger,
      onMessage: (m) => (generation === this.#generation ? this.#received(m) : undefined),
      ...(this.#options.onSendFailure === undefined
        ? {}
        : { onSendFailure: this.#options.onSendFailure }),
    });
    this.#loop = loop;
    // The reader of the current socket died (not a close of ours): the link cannot go on.
    void loop.done.then((error) => {
      if (error === undefined || this.#closed || loop !== this.#loop) return;
      this.#resolveDone(error);
      void this.close();
    });
    this.#connects++;
    if (attempt > 0) this.#reconnects++;
    loop.start();
    this.#hb.start();
    this.#options.onConnect?.(attempt);
    this.emit("link:connected", { attempt, generation });
  }

  #received(message: Message): void | Promise<void> {
    this.#hb.received();
    this.#backoff?.reset();
    if (this.#lostAt !== undefined) {
      const downFor = this.#clock.now() - this.#lostAt;
      this.#lostAt = undefined;
      this.#clearTimer(); // heard on the old socket during the delay: keep it
      if (!this.#hb.running) this.#hb.start();
      this.emit("link:restored", { downFor, generation: this.#generation });
    }
    return this.#options.onMessage(message);
  }

  #lost(reason: LinkLostReason, silentFor: number, delay?: number): void {
    if (this.#closed) return;
    this.#losses++;
    this.#lostAt ??= this.#clock.now() - silentFor;
    this.#hb.stop();
    this.#clearTimer();
    const wait = delay ?? (this.#backoff === undefined ? -1 : this.#backoff.next());
    const hold = this.#options.holdDuringDelay === true && reason === "silent";
    if (wait >= 0 && !hold) this.#giveUp(reason);
    this.#logger.info("link lost", { reason, silentFor, delay: wait });
    this.emit("link:lost", { reason, silentFor, delay: wait });
    if (wait < 0 || this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      if (hold) this.#giveUp(reason);
      this.#open(this.#connects);
    }, wait);
  }

  /** Retires the current socket: its queue (stale heartbeats, requests for a dead peer) goes with it. */
  #giveUp(reason: LinkLostReason | "closed"): void {
    const old = this.#loop;
    this.#loop = undefined;
    this.#abort.abort(
      new ZgError("ZG_CLOSED", reason === "closed" ? "link closed" : "link replaced"),
    );
    if (old === undefined) return;
    const goodbye = this.#options.goodbye?.(reason);
    if (goodbye !== undefined) old.post(goodbye);
    this.#retire(old.close({ drainTimeout: goodbye === undefined ? 0 : 50 }));
  }

  #retire(closing: Promise<void>): void {
    const done = closing.finally(() => this.#retiring.delete(done));
    this.#retiring.add(done);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
