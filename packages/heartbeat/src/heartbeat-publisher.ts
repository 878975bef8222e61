import * as zmq from "zeromq";
import {
  bindAll,
  Component,
  createSocket,
  endpointsOption,
  lingerOption,
  SocketLoop,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type FrameLike,
  type LingerOptions,
} from "@zg/core";
import { HeartbeatSender } from "./heartbeat-sender.js";
import { encodeHeartbeat } from "./protocol/wire.js";

/** Options of {@link HeartbeatPublisher}. Durations in milliseconds. */
export interface HeartbeatPublisherOptions extends ComponentOptions, LingerOptions {
  /** Endpoints to bind the PUB socket to. */
  endpoints: string | readonly string[];
  /**
   * Heartbeat after this much publishing silence; announced in each heartbeat
   * so subscribers judge this publisher by it.
   * @defaultValue {@link DEFAULT_HEARTBEAT_INTERVAL} (Guide `clonesrv6` HUGZ, 1000 ms)
   */
  interval?: number;
  /** PUB send high-water mark (ZMQ_SNDHWM). @defaultValue 1000 */
  sendHighWaterMark?: number;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
}

/** Counters of a {@link HeartbeatPublisher}. */
export interface HeartbeatPublisherStats {
  published: number;
  heartbeatsSent: number;
}

/**
 * A PUB socket with the one-way heartbeat: publishes the application's
 * messages and, after one interval with nothing published, the heartbeat
 * `[ZGHB01][0x01][interval=…]` (README "Wire format"). A PUB drops messages
 * for absent subscribers, so heartbeats never pile up for a dead one.
 * Subscribers watch it with {@link HeartbeatMonitor}. Owns its socket.
 *
 * @example
 * ```ts
 * const pub = new HeartbeatPublisher({ endpoints: "tcp://127.0.0.1:*", interval: 1000 });
 * const [endpoint] = (await pub.start()).endpoints;
 * pub.publish(["weather", "sunny"]);
 * await pub.close();
 * ```
 */
export class HeartbeatPublisher extends Component<
  Record<never, never>,
  HeartbeatPublisherStats,
  BoundEndpoints
> {
  readonly #linger: number;
  readonly #endpoints: string[];
  readonly #options: HeartbeatPublisherOptions;
  readonly #sender: HeartbeatSender;
  #loop: SocketLoop | undefined;
  #published = 0;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: HeartbeatPublisherOptions) {
    super("HeartbeatPublisher", options);
    this.#linger = lingerOption(options.linger);
    this.#options = options;
    this.#endpoints = endpointsOption("endpoints", options.endpoints);
    this.#sender = new HeartbeatSender({
      ...(options.interval === undefined ? {} : { interval: options.interval }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      logger: this.logger,
      sendHeartbeat: () => this.#loop?.post(encodeHeartbeat("heartbeat", this.#sender.interval)),
    });
  }

  /** The heartbeat interval in ms. */
  get interval(): number {
    return this.#sender.interval;
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const socket = createSocket(zmq.Publisher, {
      linger: this.#linger,
      ...(this.#options.sendHighWaterMark === undefined
        ? {}
        : { sendHighWaterMark: this.#options.sendHighWaterMark }),
    });
    this.#loop = this.own(
      new SocketLoop(socket, { name: "heartbeat-publisher", logger: this.logger }),
    );
    this.own(() => this.#sender.stop());
    const bound = await bindAll(socket, this.#endpoints);
    this.#loop.start();
    this.#sender.start();
    return { endpoints: bound };
  }

  /** Publishes one message (first frame = topic); postpones the next heartbeat. @returns false if refused. */
  publish(message: readonly FrameLike[]): boolean {
    if (this.#loop === undefined || !this.running) return false;
    this.#published++;
    this.#sender.sent();
    return this.#loop.post(message);
  }

  stats(): HeartbeatPublisherStats {
    return { published: this.#published, heartbeatsSent: this.#sender.heartbeatsSent };
  }
}
