import { randomBytes } from "node:crypto";
import {
  assertArgument,
  bindAll,
  Component,
  createDealer,
  createRouter,
  durationOption,
  endpointsOption,
  heartbeatIntervalOption,
  integerOption,
  lingerOption,
  livenessOption,
  SocketLoop,
  validateEndpoint,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type Frame,
  type LingerOptions,
  type Message,
} from "@zg/core";
import {
  ClientCore,
  type Batch,
  type HarmonyClientEvents,
  type HarmonyClientStats,
  type SubmitOptions,
} from "./client-core.js";
import {
  DEFAULT_BATCH_TIMEOUT,
  DEFAULT_MAX_BATCHES,
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_PIPELINE_HEARTBEAT_INTERVAL,
  DEFAULT_PIPELINE_LIVENESS,
  DEFAULT_PIPELINE_MAX_MESSAGE_SIZE,
  DEFAULT_RESEND_TIMEOUT,
} from "./constants.js";
import { decodePipeline, encodePipeline } from "./protocol/pipeline.js";

/** Options of {@link HarmonyClient}. Durations in ms. */
export interface HarmonyClientOptions extends ComponentOptions, LingerOptions {
  /** The collector's endpoint (the client connects a DEALER to it). */
  collector: string;
  /** Endpoints the client binds for workers (the notes' ventilator). @defaultValue `["tcp://127.0.0.1:*"]` */
  endpoints?: string | readonly string[];
  /** This client's name at the collector, 1..255 bytes, unique among its clients. @defaultValue 16 random hex digits */
  clientId?: string;
  /** Heartbeat interval towards workers and the collector. @defaultValue {@link DEFAULT_PIPELINE_HEARTBEAT_INTERVAL} */
  heartbeatInterval?: number;
  /** Missed intervals before a worker or the collector counts as dead. @defaultValue {@link DEFAULT_PIPELINE_LIVENESS} */
  liveness?: number;
  /** Resend from the last response after this long without progress. @defaultValue {@link DEFAULT_RESEND_TIMEOUT} */
  resendTimeout?: number;
  /** Default budget of one batch (`submit` may override it). @defaultValue {@link DEFAULT_BATCH_TIMEOUT} */
  batchTimeout?: number;
  /** Most unconfirmed batches at once. @defaultValue {@link DEFAULT_MAX_BATCHES} */
  maxBatches?: number;
  /** Most tasks per batch. @defaultValue {@link DEFAULT_MAX_BATCH_SIZE} */
  maxBatchSize?: number;
  /** Largest message accepted from the network, bytes. @defaultValue {@link DEFAULT_PIPELINE_MAX_MESSAGE_SIZE} */
  maxMessageSize?: number;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
}

/**
 * The client of the reliable pipeline (the notes' ventilator): binds a ROUTER
 * for workers, connects a DEALER to the collector, and turns a list of tasks
 * into a {@link Batch} whose `done` resolves with every result once — or
 * rejects with a typed error after its budget. Owns both sockets.
 *
 * @example
 * ```ts
 * const client = new HarmonyClient({ collector: "tcp://127.0.0.1:5600" });
 * const { endpoints } = await client.start();     // workers connect here
 * const batch = client.submit([Buffer.from("a"), Buffer.from("b")]);
 * const results = await batch.done;
 * await client.close();
 * ```
 */
export class HarmonyClient extends Component<
  HarmonyClientEvents,
  HarmonyClientStats,
  BoundEndpoints
> {
  readonly #linger: number;
  /** This client's id at the collector. */
  readonly clientId: string;
  readonly #options: HarmonyClientOptions;
  readonly #endpoints: string[];
  readonly #core: ClientCore;
  readonly #batchTimeout: number;
  readonly #maxMessageSize: number;
  #workers: SocketLoop | undefined;
  #collector: SocketLoop | undefined;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: HarmonyClientOptions) {
    super("HarmonyClient", options);
    this.#linger = lingerOption(options.linger);
    this.#options = options;
    validateEndpoint("collector", options.collector);
    this.#endpoints = endpointsOption("endpoints", options.endpoints ?? ["tcp://127.0.0.1:*"]);
    this.clientId = options.clientId ?? randomBytes(8).toString("hex");
    const idBytes = Buffer.byteLength(this.clientId);
    assertArgument(idBytes >= 1 && idBytes <= 255, "clientId must be 1..255 bytes");
    this.#batchTimeout = durationOption(
      "batchTimeout",
      options.batchTimeout,
      DEFAULT_BATCH_TIMEOUT,
    );
    this.#maxMessageSize = integerOption(
      "maxMessageSize",
      options.maxMessageSize,
      DEFAULT_PIPELINE_MAX_MESSAGE_SIZE,
      { min: 64 },
    );
    this.#core = new ClientCore(
      {
        clientId: this.clientId,
        instance: randomBytes(8),
        heartbeatInterval: heartbeatIntervalOption(
          "heartbeatInterval",
          options.heartbeatInterval,
          DEFAULT_PIPELINE_HEARTBEAT_INTERVAL,
        ),
        liveness: livenessOption("liveness", options.liveness, DEFAULT_PIPELINE_LIVENESS),
        resendTimeout: durationOption(
          "resendTimeout",
          options.resendTimeout,
          DEFAULT_RESEND_TIMEOUT,
          {
            min: 1,
          },
        ),
        maxBatches: integerOption("maxBatches", options.maxBatches, DEFAULT_MAX_BATCHES, {
          min: 1,
        }),
        maxBatchSize: integerOption("maxBatchSize", options.maxBatchSize, DEFAULT_MAX_BATCH_SIZE, {
          min: 1,
          max: 0xffff_ffff,
        }),
        ...(options.clock ? { clock: options.clock } : {}),
        logger: this.logger,
      },
      (a) => {
        if (a.to === "worker") this.#workers?.post([a.route, ...encodePipeline(a.message)]);
        else this.#collector?.post(encodePipeline(a.message));
      },
    );
    for (const type of [
      "worker:joined",
      "worker:lost",
      "collector:lost",
      "collector:returned",
      "batch:resend",
      "batch:done",
      "batch:failed",
      "protocol:invalid",
    ] as const)
      this.#core.on(type, (e) => this.emit(type, e as never));
  }

  /**
   * Submits a batch of tasks (numbered from 0 in the order given). The client
   * keeps it until every result is in.
   * @throws {@link ZgError} `ZG_STATE` before start / after close, `ZG_INVALID_ARGUMENT` for an empty or oversize batch, `ZG_OVERFLOW` beyond `maxBatches`.
   */
  submit(tasks: readonly Frame[], options: SubmitOptions = {}): Batch {
    this.assertRunning("submit");
    return this.#core.submit(tasks, { timeout: this.#batchTimeout, ...options });
  }

  stats(): HarmonyClientStats {
    return this.#core.stats();
  }

  protected override inFlight(): number {
    return this.#core.pending;
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const router = createRouter({
      linger: this.#linger,
      maxMessageSize: this.#maxMessageSize,
      sendHighWaterMark: 100_000,
    });
    this.#workers = this.own(
      new SocketLoop(router, {
        name: "harmony-client-workers",
        logger: this.logger,
        sendQueueLimit: 1_000_000,
        onMessage: (m) => this.#fromWorker(m),
      }),
    );
    const dealer = createDealer({
      linger: this.#linger,
      maxMessageSize: this.#maxMessageSize,
      sendHighWaterMark: 100_000,
      receiveHighWaterMark: 100_000,
    });
    this.#collector = this.own(
      new SocketLoop(dealer, {
        name: "harmony-client-collector",
        logger: this.logger,
        sendQueueLimit: 100_000,
        onMessage: (m) => this.#fromCollector(m),
      }),
    );
    const bound = await bindAll(router, this.#endpoints);
    dealer.connect(this.#options.collector);
    this.#workers.start();
    this.#collector.start();
    this.#core.start();
    this.own(() => this.#core.close());
    return { endpoints: bound };
  }

  #fromWorker(m: Message): void {
    const route = m[0];
    if (route === undefined) return;
    let decoded;
    try {
      decoded = decodePipeline(m.slice(1));
    } catch (error) {
      this.#core.invalid("worker", (error as Error).message);
      return;
    }
    this.#core.onWorker(route, decoded);
  }

  #fromCollector(m: Message): void {
    let decoded;
    try {
      decoded = decodePipeline(m);
    } catch (error) {
      this.#core.invalid("collector", (error as Error).message);
      return;
    }
    this.#core.onCollector(decoded);
  }
}
