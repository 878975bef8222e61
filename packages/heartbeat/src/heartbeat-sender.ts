import { durationOption, systemClock, type Clock, type Logger, type TimerHandle } from "@zg/core";
import {
  DEFAULT_HEARTBEAT_INTERVAL,
  MAX_HEARTBEAT_INTERVAL,
  MIN_HEARTBEAT_INTERVAL,
} from "./constants.js";

/** Options of {@link HeartbeatSender}. Durations in milliseconds. */
export interface HeartbeatSenderOptions {
  /** Send a heartbeat after this much outgoing silence. @defaultValue {@link DEFAULT_HEARTBEAT_INTERVAL} */
  interval?: number;
  /** Sends one heartbeat (e.g. `pub.post(encodeHeartbeat("heartbeat", interval))`). */
  sendHeartbeat: () => void;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
  /** Where a throwing `sendHeartbeat` is reported. */
  logger?: Logger;
}

/**
 * The sending half of the one-way heartbeat (Guide ch. 4, the only model for
 * PUB→SUB): emits a heartbeat only when nothing else was sent for one
 * interval. Call {@link sent} for every other outgoing message; it costs no
 * timer work. One timer; monotonic time.
 *
 * @example
 * ```ts
 * const beat = new HeartbeatSender({ interval: 1000, sendHeartbeat: () => loop.post(encodeHeartbeat("heartbeat", 1000)) });
 * beat.start();
 * // on every publish: beat.sent();
 * beat.stop();
 * ```
 */
export class HeartbeatSender {
  readonly interval: number;
  readonly #options: HeartbeatSenderOptions;
  readonly #clock: Clock;
  #lastSent = 0;
  #timer: TimerHandle;
  #running = false;
  #heartbeatsSent = 0;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for an interval outside [10 ms, 1 h]. */
  constructor(options: HeartbeatSenderOptions) {
    this.interval = durationOption("interval", options.interval, DEFAULT_HEARTBEAT_INTERVAL, {
      min: MIN_HEARTBEAT_INTERVAL,
      max: MAX_HEARTBEAT_INTERVAL,
    });
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Heartbeats sent since construction. */
  get heartbeatsSent(): number {
    return this.#heartbeatsSent;
  }

  /** True between {@link start} and {@link stop}. */
  get running(): boolean {
    return this.#running;
  }

  /** Starts the schedule; the first heartbeat goes out after one idle interval. */
  start(): void {
    this.#lastSent = this.#clock.now();
    this.#running = true;
    this.#arm();
  }

  /** Stops the timer. Idempotent. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Something else went out: postpones the next heartbeat. O(1). */
  sent(): void {
    this.#lastSent = this.#clock.now();
  }

  #arm(): void {
    if (!this.#running) return;
    const wait = Math.max(0, Math.ceil(this.#lastSent + this.interval - this.#clock.now()));
    this.#timer = this.#clock.setTimeout(() => this.#tick(), wait);
  }

  #tick(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.#clock.now();
    if (now - this.#lastSent >= this.interval) {
      this.#lastSent = now;
      this.#heartbeatsSent++;
      try {
        this.#options.sendHeartbeat();
      } catch (error) {
        this.#options.logger?.error("HeartbeatSender sendHeartbeat callback threw", {
          error: String(error),
        });
      }
    }
    this.#arm();
  }
}
