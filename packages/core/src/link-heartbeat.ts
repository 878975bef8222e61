import { systemClock, type Clock, type TimerHandle } from "./clock.js";
import {
  DEFAULT_HEARTBEAT_LIVENESS,
  heartbeatIntervalOption,
  livenessOption,
  silentAfterOption,
} from "./heartbeat-timing.js";
import type { Logger } from "./logger.js";

/** Options of {@link LinkHeartbeat}. All durations in milliseconds. */
export interface LinkHeartbeatOptions {
  /** Heartbeat interval: send after this much outgoing silence; the peer is judged by it. */
  interval: number;
  /** Intervals of incoming silence before the peer is dead. @defaultValue {@link DEFAULT_HEARTBEAT_LIVENESS} */
  liveness?: number;
  /**
   * Sends one heartbeat (PPP `0x02`, MDP HEARTBEAT, a ping …). Called only when
   * nothing else went out for one interval (the Guide's "heartbeat only when
   * idle"), and never while the peer is silent if {@link pauseWhenSilent} is set.
   */
  sendHeartbeat: () => void;
  /** Called once when the peer has been silent for one interval (`silentAfter` intervals). */
  onSilent?: (silentFor: number) => void;
  /**
   * Report the peer silent after this many intervals without a message. 1
   * also reports a heartbeat that is merely a little late on a link whose
   * heartbeats arrive about once per interval; 1.5 reports one really missing.
   * Between 1 and `liveness`. @defaultValue 1
   */
  silentAfter?: number;
  /**
   * Called once when the peer has been silent for `interval × liveness`; the
   * heartbeat then stops. Omit for a send-only schedule (one-way heartbeats,
   * e.g. a publisher): the peer is then never judged silent or dead.
   */
  onDead?: (silentFor: number) => void;
  /**
   * Stop sending heartbeats while the peer is silent (ping-pong: do not keep
   * pinging without pongs, so a DEALER never queues a flood of stale pings for
   * a dead peer). Exactly one heartbeat (the probe) goes out after the peer was
   * last heard; the next waits until it is heard again. @defaultValue false
   */
  pauseWhenSilent?: boolean;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
  /** Where callback failures are reported (a throwing callback never stops the schedule). */
  logger?: Logger;
}

/**
 * Heartbeating for one link (a worker's connection to its queue, a client's
 * to a server): sends heartbeats when the line is otherwise idle, counts any
 * incoming message as a sign of life, and reports the peer silent and then
 * dead. One timer per link; liveness uses monotonic time only.
 *
 * Protocol packages (PPP, MDP, CHP) use it with their own heartbeat command:
 * they call {@link received} for every incoming message and {@link sent} for
 * every outgoing one; {@link ReconnectingLink} does both for its socket.
 * Without `onDead` it is the sending half alone (one-way heartbeats).
 *
 * @example
 * ```ts
 * const hb = new LinkHeartbeat({ interval: 1000, sendHeartbeat: () => loop.post([PPP_HEARTBEAT]), onDead: reconnect });
 * hb.start();
 * // in the reader: hb.received(); in the writer: hb.sent();
 * hb.stop();
 * ```
 */
export class LinkHeartbeat {
  readonly interval: number;
  readonly liveness: number;
  readonly #options: LinkHeartbeatOptions;
  readonly #clock: Clock;
  #lastHeard = 0;
  #lastSent = 0;
  #lastHeartbeat = -Infinity;
  readonly #silentAfter: number;
  #timer: TimerHandle;
  #running = false;
  #silentReported = false;
  #heartbeatsSent = 0;
  readonly #judges: boolean;

  constructor(options: LinkHeartbeatOptions) {
    this.interval = heartbeatIntervalOption("interval", options.interval, 0);
    this.liveness = livenessOption("liveness", options.liveness, DEFAULT_HEARTBEAT_LIVENESS);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#silentAfter = silentAfterOption(options.silentAfter, this.liveness);
    this.#judges = options.onDead !== undefined;
  }

  /** True between {@link start} and {@link stop} (or death). */
  get running(): boolean {
    return this.#running;
  }

  /** Monotonic time the peer was last heard from. */
  get lastHeard(): number {
    return this.#lastHeard;
  }

  /** Heartbeats sent since start. */
  get heartbeatsSent(): number {
    return this.#heartbeatsSent;
  }

  /** True while the peer has been silent for at least one interval. */
  get silent(): boolean {
    return this.#silentReported;
  }

  /** Starts (or restarts) the schedule as if the peer had just been heard and a message just sent. */
  start(): void {
    const now = this.#clock.now();
    this.#lastHeard = now;
    this.#lastSent = now;
    this.#lastHeartbeat = -Infinity;
    this.#silentReported = false;
    this.#running = true;
    this.#arm();
  }

  /** Stops the timer. Idempotent. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Any incoming message: the peer is alive. O(1); no timer work except on
   * the silent → alive transition (so paused heartbeats resume at once).
   */
  received(): void {
    this.#lastHeard = this.#clock.now();
    if (this.#silentReported) {
      this.#silentReported = false;
      if (this.#running) this.#arm();
    }
  }

  /** Any outgoing message: postpones the next heartbeat. O(1), no timer work. */
  sent(): void {
    this.#lastSent = this.#clock.now();
  }

  #arm(): void {
    if (!this.#running) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    const now = this.#clock.now();
    const deadAt = this.#judges ? this.#lastHeard + this.interval * this.liveness : Infinity;
    const silentAt =
      this.#silentReported || !this.#judges
        ? Infinity
        : this.#lastHeard + this.interval * this.#silentAfter;
    const sendAt = this.#paused() ? Infinity : this.#lastSent + this.interval;
    const next = Math.min(deadAt, silentAt, sendAt);
    if (next === Infinity) return;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), Math.max(0, Math.ceil(next - now)));
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#clock.now();
    const silentFor = now - this.#lastHeard;
    const onDead = this.#options.onDead;
    if (onDead !== undefined && silentFor >= this.interval * this.liveness) {
      this.#running = false;
      this.#call("onDead", () => onDead(silentFor));
      return;
    }
    if (this.#judges && !this.#silentReported && silentFor >= this.interval * this.#silentAfter) {
      this.#silentReported = true;
      const onSilent = this.#options.onSilent;
      if (onSilent !== undefined) this.#call("onSilent", () => onSilent(silentFor));
      if (!this.#running) return;
    }
    if (now - this.#lastSent >= this.interval && !this.#paused()) {
      this.#lastSent = now;
      this.#lastHeartbeat = now;
      this.#heartbeatsSent++;
      this.#call("sendHeartbeat", () => this.#options.sendHeartbeat());
    }
    this.#arm();
  }

  /** pauseWhenSilent: silent, and a heartbeat already went out since the peer was last heard. */
  #paused(): boolean {
    return (
      this.#options.pauseWhenSilent === true &&
      this.#silentReported &&
      this.#lastHeartbeat >= this.#lastHeard
    );
  }

  #call(name: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#options.logger?.error(`LinkHeartbeat ${name} callback threw`, { error: String(error) });
    }
  }
}
