import { randomBytes } from "node:crypto";
import * as zmq from "zeromq";
import {
  bindAll,
  Component,
  createSocket,
  endpointsOption,
  lingerOption,
  SocketLoop,
  systemClock,
  ZgError,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type LingerOptions,
  type TimerHandle,
} from "@zg/core";
import { DEFAULT_CLOCK_RESOLUTIONS } from "./constants.js";
import { parseResolution, resolutionName } from "./resolution.js";
import { TickSchedule } from "./schedule.js";
import { encodeTick } from "./wire.js";

/** Options of {@link ClockDevice}. */
export interface ClockDeviceOptions extends ComponentOptions, LingerOptions {
  /** Endpoints to bind the PUB socket to (`tcp://127.0.0.1:*` comes back resolved). */
  endpoints: string | readonly string[];
  /**
   * Resolutions to tick at, as ms or strings (`"100ms"`, `"1s"`, `"1m"`).
   * @defaultValue {@link DEFAULT_CLOCK_RESOLUTIONS} (100 ms, 1 s, 1 min)
   */
  resolutions?: readonly (number | string)[];
  /** PUB send high-water mark (ZMQ_SNDHWM). @defaultValue 1000 */
  sendHighWaterMark?: number;
  /** Monotonic time source and timers. @defaultValue systemClock */
  clock?: Clock;
  /** Wall clock, ms since the epoch. @defaultValue Date.now */
  wallClock?: () => number;
}

/** Counters of one resolution of a {@link ClockDevice}. */
export interface ClockResolutionStats {
  /** Canonical name, e.g. `"1s"`. */
  name: string;
  period: number;
  /** Ticks published. */
  published: number;
  /** Ticks skipped because the process could not run when they were due. */
  skipped: number;
  /** Largest lateness of a published tick, ms (< one period by construction). */
  maxLateness: number;
}

/** Counters of a {@link ClockDevice}. */
export interface ClockDeviceStats {
  resolutions: ClockResolutionStats[];
  /** Ticks the socket loop could not send (queue full). */
  sendFailures: number;
}

/** Events of a {@link ClockDevice}. */
export type ClockDeviceEvents = {
  /** Ticks fell due while the process was stalled and were skipped (the next published tick is `seq`). */
  "tick:skipped": { name: string; period: number; skipped: number; seq: number };
};

interface Running {
  schedule: TickSchedule;
  name: string;
  published: number;
  maxLateness: number;
  timer: TimerHandle;
}

/**
 * The Guide's "clock device" / timer service: a PUB socket that publishes a
 * tick at each configured resolution, one topic per resolution
 * (`ZGCLK01/1s/`). Tick n of a resolution is due at start + n·period on the
 * monotonic clock (no drift); it carries n, the scheduled wall time and the
 * wall and monotonic send times, so subscribers can detect missed ticks and
 * measure jitter. When the process is stalled past several due times, the
 * ticks in between are skipped (counted, `tick:skipped`), never published
 * late in a burst. Subscribe with {@link ClockClient}.
 *
 * @example
 * ```ts
 * const device = new ClockDevice({ endpoints: "tcp://127.0.0.1:*", resolutions: ["100ms", "1s"] });
 * const { endpoints: [endpoint] } = await device.start();
 * await device.close();
 * ```
 */
export class ClockDevice extends Component<ClockDeviceEvents, ClockDeviceStats, BoundEndpoints> {
  readonly #linger: number;
  readonly #endpoints: string[];
  readonly #periods: number[];
  readonly #options: ClockDeviceOptions;
  readonly #clock: Clock;
  readonly #wall: () => number;
  readonly #instance = randomBytes(8).readBigUInt64BE(0);
  #loop: SocketLoop | undefined;
  #running: Running[] = [];
  #sendFailures = 0;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: ClockDeviceOptions) {
    super("ClockDevice", options);
    this.#linger = lingerOption(options.linger);
    this.#options = options;
    this.#endpoints = endpointsOption("endpoints", options.endpoints);
    const periods = (options.resolutions ?? DEFAULT_CLOCK_RESOLUTIONS).map(parseResolution);
    if (periods.length === 0) {
      throw new ZgError("ZG_INVALID_ARGUMENT", "resolutions needs at least one resolution");
    }
    this.#periods = [...new Set(periods)].sort((a, b) => a - b);
    this.#clock = options.clock ?? systemClock;
    this.#wall = options.wallClock ?? Date.now;
  }

  /** The periods ticked, ms, ascending. */
  get periods(): readonly number[] {
    return this.#periods;
  }

  /** This run's random instance id (carried in every tick). */
  get instance(): bigint {
    return this.#instance;
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const socket = createSocket(zmq.Publisher, {
      linger: this.#linger,
      ...(this.#options.sendHighWaterMark === undefined
        ? {}
        : { sendHighWaterMark: this.#options.sendHighWaterMark }),
    });
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "clock",
        logger: this.logger,
        onSendFailure: () => void this.#sendFailures++,
      }),
    );
    this.own(() => this.#stopTimers());
    const bound = await bindAll(socket, this.#endpoints);
    this.#loop.start();
    // One origin for every resolution, so coarse ticks coincide with fine ones.
    const origin = this.#clock.now();
    const wallOrigin = this.#wall();
    this.#running = this.#periods.map((period) => ({
      schedule: new TickSchedule(period, origin),
      name: resolutionName(period),
      published: 0,
      maxLateness: 0,
      timer: undefined,
    }));
    for (const r of this.#running) this.#arm(r, origin, wallOrigin);
    return { endpoints: bound };
  }

  #arm(r: Running, origin: number, wallOrigin: number): void {
    r.timer = this.#clock.setTimeout(
      () => this.#fire(r, origin, wallOrigin),
      r.schedule.delay(this.#clock.now()),
    );
  }

  #fire(r: Running, origin: number, wallOrigin: number): void {
    r.timer = undefined;
    if (this.stopping) return;
    const now = this.#clock.now();
    const due = r.schedule.fire(now);
    if (due !== undefined) {
      const period = r.schedule.period;
      if (due.skipped > 0) {
        this.emit("tick:skipped", { name: r.name, period, skipped: due.skipped, seq: due.seq });
      }
      r.published++;
      if (due.lateness > r.maxLateness) r.maxLateness = due.lateness;
      this.#loop?.post(
        encodeTick({
          period,
          seq: due.seq,
          instance: this.#instance,
          scheduled: wallOrigin + due.seq * period,
          sentWall: this.#wall(),
          sentMono: now - origin,
        }),
      );
    }
    this.#arm(r, origin, wallOrigin);
  }

  #stopTimers(): void {
    for (const r of this.#running) {
      if (r.timer !== undefined) this.#clock.clearTimeout(r.timer);
      r.timer = undefined;
    }
  }

  stats(): ClockDeviceStats {
    return {
      resolutions: this.#running.map((r) => ({
        name: r.name,
        period: r.schedule.period,
        published: r.published,
        skipped: r.schedule.skipped,
        maxLateness: r.maxLateness,
      })),
      sendFailures: this.#sendFailures,
    };
  }
}
