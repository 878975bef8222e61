import {
  Component,
  createDealer,
  endpointsOption,
  heartbeatIntervalOption,
  integerOption,
  lingerOption,
  SocketLoop,
  validateEndpoint,
  type ComponentOptions,
  type Frame,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { CreditReceiver } from "./credit-window.js";
import {
  DEFAULT_PIPELINE_HEARTBEAT_INTERVAL,
  DEFAULT_PIPELINE_MAX_MESSAGE_SIZE,
  DEFAULT_WORKER_CREDIT,
  TASK_OVERHEAD,
} from "./constants.js";
import {
  decodePipeline,
  encodePipeline,
  MAX_TASKS_PER_MESSAGE,
  type PipelineMessage,
} from "./protocol/pipeline.js";

/** What a handler learns about the task it runs. */
export interface TaskInfo {
  /** The submitting client's id. */
  clientId: string;
  /** Batch number within that client. */
  batch: number;
  /** Task number within the batch, from 0. */
  task: number;
  /** Aborted when the worker closes. */
  signal: AbortSignal;
}

/** A task handler: returns the result. Must be idempotent (it may run more than once per task). */
export type TaskHandler = (payload: Buffer, info: TaskInfo) => Frame | Promise<Frame>;

/** Options of {@link HarmonyWorker}. Durations in ms. */
export interface HarmonyWorkerOptions extends ComponentOptions, LingerOptions {
  /** Client (ventilator) endpoints; one DEALER and one credit window per endpoint. */
  clients: string | readonly string[];
  /** The collector's endpoint (results go there). */
  collector: string;
  /** Runs one task. */
  handler: TaskHandler;
  /** Credit granted to each client, bytes of task frames (payload + {@link TASK_OVERHEAD}). @defaultValue {@link DEFAULT_WORKER_CREDIT} */
  credit?: number;
  /** Handlers run at once. @defaultValue 1 */
  concurrency?: number;
  /** Heartbeat (credit re-send) interval. @defaultValue {@link DEFAULT_PIPELINE_HEARTBEAT_INTERVAL} */
  heartbeatInterval?: number;
  /** Largest message accepted from the network, bytes. @defaultValue {@link DEFAULT_PIPELINE_MAX_MESSAGE_SIZE} */
  maxMessageSize?: number;
}

/** Events of a {@link HarmonyWorker}. */
export interface HarmonyWorkerEvents {
  /** A handler threw: no result is sent, the client resends the task later. */
  "handler:failed": { clientId: string; batch: number; task: number; error: Error };
  /** Tasks from a client skipped sequence numbers (lost in transit): a sequence error, the client recovers them. */
  "credit:gap": { client: string; expected: number; got: number };
  /** Bad input from the network, dropped. */
  "protocol:invalid": { reason: string };
}

/** Counters of a {@link HarmonyWorker}. */
export interface HarmonyWorkerStats {
  /** Tasks received. */
  received: number;
  /** Tasks run to a result. */
  completed: number;
  /** Handlers that threw. */
  failed: number;
  /** Tasks waiting or running now (level). */
  held: number;
  /** Bytes of tasks held now (level; at most credit per client, twice during a client's session change). */
  heldBytes: number;
  /** Sequence gaps seen. */
  sequenceErrors: number;
  /** Tasks beyond the credit granted (a misbehaving client). */
  overruns: number;
  /** Stale (already seen) tasks dropped. */
  stale: number;
  /** Results the collector link could not take (collector down or slow): the client resends them. */
  resultsDropped: number;
  /** Bad network input dropped. */
  protocolErrors: number;
}

interface Link {
  endpoint: string;
  loop: SocketLoop;
  session: Frame | undefined;
  rx: CreditReceiver;
}

interface Job {
  link: Link;
  session: Frame | undefined;
  bytes: number;
  clientId: string;
  batch: number;
  task: number;
  payload: Frame;
}

/**
 * A pipeline worker: asks each client for `credit` bytes of tasks, runs them
 * with `handler`, sends each result to the collector, and grants more credit as
 * it finishes tasks. The credit messages double as its heartbeat, so a client
 * sees a dead or stopped worker within interval × liveness and re-queues the
 * tasks it held (at most its credit). Owns its sockets.
 *
 * @example
 * ```ts
 * const worker = new HarmonyWorker({
 *   clients: clientEndpoints, collector: "tcp://127.0.0.1:5600",
 *   handler: (task) => Buffer.from(task.toString().toUpperCase()),
 * });
 * await worker.start();
 * ```
 */
export class HarmonyWorker extends Component<HarmonyWorkerEvents, HarmonyWorkerStats> {
  readonly #linger: number;
  readonly #options: HarmonyWorkerOptions;
  readonly #clients: string[];
  readonly #credit: number;
  readonly #concurrency: number;
  readonly #interval: number;
  readonly #maxMessageSize: number;
  readonly #links: Link[] = [];
  #collector: SocketLoop | undefined;
  readonly #jobs: Job[] = [];
  #jobHead = 0;
  readonly #results = new Map<
    string,
    { clientId: string; batch: number; tasks: number[]; payloads: Frame[] }
  >();
  #flush: ReturnType<typeof setImmediate> | undefined;
  #running = 0;
  #heldBytes = 0;
  readonly #stats = {
    received: 0,
    completed: 0,
    failed: 0,
    sequenceErrors: 0,
    overruns: 0,
    stale: 0,
    resultsDropped: 0,
    protocolErrors: 0,
  };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: HarmonyWorkerOptions) {
    super("HarmonyWorker", options);
    this.#linger = lingerOption(options.linger);
    this.#options = options;
    this.#clients = endpointsOption("clients", options.clients);
    validateEndpoint("collector", options.collector);
    this.#credit = integerOption("credit", options.credit, DEFAULT_WORKER_CREDIT, {
      min: TASK_OVERHEAD,
    });
    this.#concurrency = integerOption("concurrency", options.concurrency, 1, {
      min: 1,
      max: 10_000,
    });
    this.#interval = heartbeatIntervalOption(
      "heartbeatInterval",
      options.heartbeatInterval,
      DEFAULT_PIPELINE_HEARTBEAT_INTERVAL,
    );
    this.#maxMessageSize = integerOption(
      "maxMessageSize",
      options.maxMessageSize,
      DEFAULT_PIPELINE_MAX_MESSAGE_SIZE,
      { min: 64 },
    );
  }

  stats(): HarmonyWorkerStats {
    return {
      ...this.#stats,
      held: this.#jobs.length - this.#jobHead + this.#running,
      heldBytes: this.#heldBytes,
    };
  }

  protected override inFlight(): number {
    return this.#jobs.length - this.#jobHead + this.#running;
  }

  protected onStart(): Promise<void> {
    const out = createDealer({
      linger: this.#linger,
      sendHighWaterMark: 100_000,
      sendTimeout: 0,
      maxMessageSize: this.#maxMessageSize,
    });
    this.#collector = this.own(
      new SocketLoop(out, {
        name: "harmony-worker-collector",
        logger: this.logger,
        sendQueueLimit: 100_000,
        onSendFailure: () => this.#stats.resultsDropped++,
      }),
    );
    out.connect(this.#options.collector);
    this.#collector.start();
    for (const endpoint of this.#clients) {
      const dealer = createDealer({ linger: this.#linger, maxMessageSize: this.#maxMessageSize });
      const link: Link = {
        endpoint,
        session: undefined,
        rx: new CreditReceiver({ window: this.#credit }),
        loop: undefined as unknown as SocketLoop,
      };
      link.loop = this.own(
        new SocketLoop(dealer, {
          name: "harmony-worker-client",
          logger: this.logger,
          onMessage: (m) => this.#fromClient(link, m),
        }),
      );
      dealer.connect(endpoint);
      link.loop.start();
      this.#links.push(link);
      this.#sendCredit(link);
    }
    this.setInterval(() => {
      for (const l of this.#links) this.#sendCredit(l);
    }, this.#interval);
    return Promise.resolve();
  }

  protected override onClose(): void {
    if (this.#flush !== undefined) clearImmediate(this.#flush);
    this.#flush = undefined;
  }

  #sendCredit(link: Link): void {
    link.loop.post(
      encodePipeline({
        command: "CREDIT",
        instance: link.session ?? Buffer.alloc(0),
        limit: link.rx.limit,
        window: link.rx.window,
      }),
    );
  }

  #adopt(link: Link, session: Frame): void {
    if (link.session !== undefined && link.session.equals(session)) return;
    link.session = Buffer.from(session);
    link.rx.reset();
    this.#sendCredit(link);
  }

  #fromClient(link: Link, m: Message): void {
    let msg: PipelineMessage;
    try {
      msg = decodePipeline(m);
    } catch (error) {
      this.#invalid((error as Error).message);
      return;
    }
    if (msg.command === "HEARTBEAT") {
      this.#adopt(link, msg.instance);
      return;
    }
    if (msg.command !== "TASK") {
      this.#invalid(`unexpected ${msg.command} from a client`);
      return;
    }
    this.#adopt(link, msg.instance);
    let bytes = 0;
    for (const p of msg.payloads) bytes += p.length + TASK_OVERHEAD;
    const expected = link.rx.expected;
    const verdict = link.rx.receive(msg.seq, bytes);
    if (verdict === "stale") {
      this.#stats.stale++;
      return;
    }
    if (verdict === "gap") {
      this.#stats.sequenceErrors++;
      this.emit("credit:gap", { client: link.endpoint, expected, got: msg.seq });
    } else if (verdict === "overrun") this.#stats.overruns++;
    this.#stats.received += msg.tasks.length;
    this.#heldBytes += bytes;
    for (let i = 0; i < msg.tasks.length; i++) {
      const payload = msg.payloads[i]!;
      this.#jobs.push({
        link,
        session: link.session,
        bytes: payload.length + TASK_OVERHEAD,
        clientId: msg.clientId,
        batch: msg.batch,
        task: msg.tasks[i]!,
        payload,
      });
    }
    this.#run();
  }

  /** Queues one result; results of one (client, batch) leave together, at the latest on the next turn of the event loop. */
  #result(job: Job, payload: Frame): void {
    const key = `${job.batch}/${job.clientId}`;
    let group = this.#results.get(key);
    if (group === undefined) {
      group = { clientId: job.clientId, batch: job.batch, tasks: [], payloads: [] };
      this.#results.set(key, group);
    }
    group.tasks.push(job.task);
    group.payloads.push(payload);
    if (group.tasks.length >= MAX_TASKS_PER_MESSAGE) this.#flushResults();
    else if (this.#flush === undefined) this.#flush = setImmediate(() => this.#flushResults());
  }

  #flushResults(): void {
    if (this.#flush !== undefined) clearImmediate(this.#flush);
    this.#flush = undefined;
    for (const g of this.#results.values())
      this.#collector?.post(encodePipeline({ command: "RESULT", ...g }));
    this.#results.clear();
  }

  #invalid(reason: string): void {
    this.#stats.protocolErrors++;
    this.emit("protocol:invalid", { reason });
  }

  #run(): void {
    while (this.#running < this.#concurrency && this.#jobHead < this.#jobs.length && this.running) {
      const job = this.#jobs[this.#jobHead]!;
      this.#jobs[this.#jobHead++] = undefined as never;
      if (this.#jobHead > 1024 && this.#jobHead * 2 > this.#jobs.length) {
        this.#jobs.splice(0, this.#jobHead);
        this.#jobHead = 0;
      }
      this.#running++;
      void this.track(this.#execute(job));
    }
  }

  async #execute(job: Job): Promise<void> {
    try {
      const result = await this.#options.handler(job.payload, {
        clientId: job.clientId,
        batch: job.batch,
        task: job.task,
        signal: this.closeSignal,
      });
      this.#stats.completed++;
      this.#result(job, Buffer.isBuffer(result) ? result : Buffer.from(result));
    } catch (error) {
      this.#stats.failed++;
      this.emit("handler:failed", {
        clientId: job.clientId,
        batch: job.batch,
        task: job.task,
        error: error as Error,
      });
    } finally {
      this.#running--;
      this.#heldBytes -= job.bytes;
      const link = job.link;
      if (
        link.session !== undefined &&
        job.session !== undefined &&
        link.session.equals(job.session)
      ) {
        link.rx.consume(job.bytes);
        if (link.rx.shouldGrant()) {
          link.rx.grant();
          this.#flushResults(); // results leave before the credit that says they are done
          this.#sendCredit(link);
        }
      }
      this.#run();
    }
  }
}
