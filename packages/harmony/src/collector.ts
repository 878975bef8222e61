import { randomBytes } from "node:crypto";
import {
  bindAll,
  Component,
  createRouter,
  durationOption,
  endpointsOption,
  integerOption,
  lingerOption,
  SocketLoop,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type LingerOptions,
  type Message,
} from "@zg/core";
import {
  CollectorCore,
  type HarmonyCollectorEvents,
  type HarmonyCollectorStats,
} from "./collector-core.js";
import {
  DEFAULT_BATCH_TTL,
  DEFAULT_MAX_BATCHES,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MISSING_AFTER,
  DEFAULT_PIPELINE_MAX_MESSAGE_SIZE,
} from "./constants.js";
import { decodePipeline, encodePipeline } from "./protocol/pipeline.js";

/** Options of {@link HarmonyCollector}. Durations in ms. */
export interface HarmonyCollectorOptions extends ComponentOptions, LingerOptions {
  /** Endpoints to bind; clients and workers both connect here. @defaultValue `["tcp://127.0.0.1:*"]` */
  endpoints?: string | readonly string[];
  /** Ask for missing numbers after END once no result came for this long. @defaultValue {@link DEFAULT_MISSING_AFTER} */
  missingAfter?: number;
  /** Free a client's batches after it was silent this long. @defaultValue {@link DEFAULT_BATCH_TTL} */
  batchTtl?: number;
  /** Most clients at once. @defaultValue {@link DEFAULT_MAX_CLIENTS} */
  maxClients?: number;
  /** Most open batches per client. @defaultValue {@link DEFAULT_MAX_BATCHES} */
  maxBatches?: number;
  /** Most tasks per batch. @defaultValue {@link DEFAULT_MAX_BATCH_SIZE} */
  maxBatchSize?: number;
  /** Largest message accepted, bytes. @defaultValue {@link DEFAULT_PIPELINE_MAX_MESSAGE_SIZE} */
  maxMessageSize?: number;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
}

/**
 * The collector of the reliable pipeline (the notes' sink): one ROUTER for
 * clients and workers. De-duplicates results per (client, batch), forwards
 * the first copy of each to its client, asks for exactly the missing numbers,
 * confirms completion and forgets finished batches. Answers every client PING
 * with its instance id, so clients see it die and restart. Owns its socket.
 *
 * @example
 * ```ts
 * const collector = new HarmonyCollector({ endpoints: "tcp://127.0.0.1:*" });
 * const { endpoints } = await collector.start();
 * ```
 */
export class HarmonyCollector extends Component<
  HarmonyCollectorEvents,
  HarmonyCollectorStats,
  BoundEndpoints
> {
  readonly #linger: number;
  readonly #endpoints: string[];
  readonly #core: CollectorCore;
  readonly #maxMessageSize: number;
  #loop: SocketLoop | undefined;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: HarmonyCollectorOptions = {}) {
    super("HarmonyCollector", options);
    this.#linger = lingerOption(options.linger);
    this.#endpoints = endpointsOption("endpoints", options.endpoints ?? ["tcp://127.0.0.1:*"]);
    this.#maxMessageSize = integerOption(
      "maxMessageSize",
      options.maxMessageSize,
      DEFAULT_PIPELINE_MAX_MESSAGE_SIZE,
      { min: 64 },
    );
    const missingAfter = durationOption(
      "missingAfter",
      options.missingAfter,
      DEFAULT_MISSING_AFTER,
      {
        min: 1,
      },
    );
    this.#core = new CollectorCore(
      {
        instance: randomBytes(8),
        missingAfter,
        batchTtl: durationOption("batchTtl", options.batchTtl, DEFAULT_BATCH_TTL, { min: 1 }),
        maxClients: integerOption("maxClients", options.maxClients, DEFAULT_MAX_CLIENTS, {
          min: 1,
        }),
        maxBatches: integerOption("maxBatches", options.maxBatches, DEFAULT_MAX_BATCHES, {
          min: 1,
        }),
        maxBatchSize: integerOption("maxBatchSize", options.maxBatchSize, DEFAULT_MAX_BATCH_SIZE, {
          min: 1,
          max: 0xffff_ffff,
        }),
        tick: Math.max(5, Math.min(250, Math.floor(missingAfter / 4))),
        ...(options.clock ? { clock: options.clock } : {}),
        logger: this.logger,
      },
      (a) => this.#loop?.post([a.route, ...encodePipeline(a.message)]),
    );
    for (const type of [
      "batch:started",
      "batch:complete",
      "batch:freed",
      "batch:refused",
      "protocol:invalid",
    ] as const)
      this.#core.on(type, (e) => this.emit(type, e as never));
  }

  stats(): HarmonyCollectorStats {
    return this.#core.stats();
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const router = createRouter({
      linger: this.#linger,
      maxMessageSize: this.#maxMessageSize,
      sendHighWaterMark: 100_000,
      receiveHighWaterMark: 100_000,
    });
    this.#loop = this.own(
      new SocketLoop(router, {
        name: "harmony-collector",
        logger: this.logger,
        sendQueueLimit: 200_000,
        onMessage: (m) => this.#onMessage(m),
      }),
    );
    const bound = await bindAll(router, this.#endpoints);
    this.#loop.start();
    this.#core.start();
    this.own(() => this.#core.close());
    return { endpoints: bound };
  }

  #onMessage(m: Message): void {
    const route = m[0];
    if (route === undefined) return;
    let msg;
    try {
      msg = decodePipeline(m.slice(1));
    } catch (error) {
      this.#core.invalid((error as Error).message);
      return;
    }
    if (msg.command === "RESULT") this.#core.onResult(msg);
    else this.#core.onClient(route, msg);
  }
}
