import {
  DEFAULT_HEARTBEAT_INTERVAL,
  heartbeatIntervalOption,
  LinkHeartbeat,
  type Clock,
  type Logger,
} from "@zg/core";

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
  readonly #schedule: LinkHeartbeat;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for an interval outside [10 ms, 1 h]. */
  constructor(options: HeartbeatSenderOptions) {
    this.interval = heartbeatIntervalOption(
      "interval",
      options.interval,
      DEFAULT_HEARTBEAT_INTERVAL,
    );
    // LinkHeartbeat without onDead is exactly the sending half: heartbeat when idle, never judge.
    this.#schedule = new LinkHeartbeat({
      interval: this.interval,
      sendHeartbeat: options.sendHeartbeat,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  /** Heartbeats sent since construction. */
  get heartbeatsSent(): number {
    return this.#schedule.heartbeatsSent;
  }

  /** True between {@link start} and {@link stop}. */
  get running(): boolean {
    return this.#schedule.running;
  }

  /** Starts the schedule; the first heartbeat goes out after one idle interval. */
  start(): void {
    this.#schedule.start();
  }

  /** Stops the timer. Idempotent. */
  stop(): void {
    this.#schedule.stop();
  }

  /** Something else went out: postpones the next heartbeat. O(1). */
  sent(): void {
    this.#schedule.sent();
  }
}
