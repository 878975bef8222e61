import {
  deferred,
  identityKey,
  systemClock,
  TypedEmitter,
  ZgError,
  type Clock,
  type Frame,
  type Logger,
  type TimerHandle,
} from "@zg/core/pure";
import { PresenceTracker } from "@zg/heartbeat";
import { CreditSender } from "./credit-window.js";
import { TASK_OVERHEAD } from "./constants.js";
import { MAX_TASKS_PER_MESSAGE, type PipelineMessage } from "./protocol/pipeline.js";

/** Where a {@link ClientCore} action goes. */
export type ClientAction =
  | { to: "worker"; route: Frame; message: PipelineMessage }
  | { to: "collector"; message: PipelineMessage };

/** Events of a Harmony client (the ventilator). */
export interface HarmonyClientEvents {
  /** A worker sent its first credit. */
  "worker:joined": { worker: string };
  /** A worker went silent for interval × liveness: the tasks it held were queued again at once. */
  "worker:lost": { worker: string; requeued: number };
  /** The collector went silent for interval × liveness. */
  "collector:lost": { silentFor: number };
  /** The collector answered again; `restarted` when it is a new instance (every open batch is started again). */
  "collector:returned": { restarted: boolean };
  /** Tasks were queued again: `missing` (the collector asked), `stall` (no progress for `resendTimeout`), `done-short` (DONE but results missing), `unknown` (the collector lost the batch), `restart`. */
  "batch:resend": { batch: number; reason: ResendReason; tasks: number };
  /** A batch has every result. */
  "batch:done": { batch: number; size: number; resends: number };
  /** A batch failed (timeout, abort, close). */
  "batch:failed": { batch: number; error: Error };
  /** Bad input from the network, dropped. */
  "protocol:invalid": { from: "worker" | "collector"; reason: string };
}

/** Why tasks of a batch were sent again. */
export type ResendReason = "missing" | "stall" | "done-short" | "unknown" | "restart";

/** Counters of a Harmony client. */
export interface HarmonyClientStats {
  /** Batches submitted. */
  submitted: number;
  /** Batches completed. */
  completed: number;
  /** Batches failed (timeout, abort, close). */
  failed: number;
  /** Unconfirmed batches now (level). */
  batches: number;
  /** Tasks sent to workers (resends included). */
  tasksSent: number;
  /** Tasks sent again. */
  tasksResent: number;
  /** Results accepted (first copy of each task). */
  results: number;
  /** Result copies dropped because the task already had one. */
  duplicateResults: number;
  /** Workers now (level). */
  workers: number;
  /** Workers lost to silence. */
  workersLost: number;
  /** Tasks waiting for credit now (level). */
  queued: number;
  /** Collector restarts seen. */
  collectorRestarts: number;
  /** Bad network input dropped. */
  protocolErrors: number;
}

/** Options of {@link ClientCore}. */
export interface ClientCoreOptions {
  clientId: string;
  /** 8 random bytes naming this client instance. */
  instance: Frame;
  heartbeatInterval: number;
  liveness: number;
  resendTimeout: number;
  maxBatches: number;
  maxBatchSize: number;
  clock?: Clock;
  logger?: Logger;
}

/** Options of one batch. */
export interface SubmitOptions {
  /** Rejects `done` with `ZG_TIMEOUT` after this long, ms. */
  timeout?: number;
  /** Cancels the batch: `done` rejects with `ZG_ABORTED`. */
  signal?: AbortSignal;
}

/** A submitted batch. */
export interface Batch {
  /** Batch number, unique within this client. */
  readonly id: number;
  /** Number of tasks. */
  readonly size: number;
  /** Resolves with every result, index = task number; rejects with a {@link ZgError} (`ZG_TIMEOUT`, `ZG_ABORTED`, `ZG_CLOSED`). */
  readonly done: Promise<Buffer[]>;
}

interface BatchState {
  id: number;
  tasks: Frame[];
  results: (Frame | undefined)[];
  have: number;
  /** Per task: 1 while queued for a worker. */
  queued: Uint8Array;
  queuedCount: number;
  ended: boolean;
  lastProgress: number;
  resends: number;
  running: boolean;
  done: ReturnType<typeof deferred<Buffer[]>>;
  timer: TimerHandle;
  cleanup: (() => void) | undefined;
}

interface Ref {
  batch: BatchState;
  task: number;
}

interface WorkerEntry {
  key: string;
  route: Frame;
  session: Frame;
  sender: CreditSender;
  inflight: { end: number; ref: Ref }[];
  head: number;
}

/**
 * The pure state machine of a Harmony client (the notes' ventilator): keeps
 * every batch until it has all results, hands tasks only to workers with
 * credit, re-queues a lost worker's tasks at once, re-sends what the collector
 * reports missing and, after `resendTimeout` without progress, everything
 * without a result. Time comes from the injected clock; actions come out of
 * `send`. The socket shell is {@link HarmonyClient}.
 */
export class ClientCore extends TypedEmitter<HarmonyClientEvents> {
  readonly #o: ClientCoreOptions;
  readonly #clock: Clock;
  readonly #send: (a: ClientAction) => void;
  readonly #batches = new Map<number, BatchState>();
  readonly #workers = new Map<string, WorkerEntry>();
  readonly #presence: PresenceTracker<string>;
  #queue: (Ref | undefined)[] = [];
  #qhead = 0;
  #nextBatch = 1;
  #generation = 0;
  #rr = 0;
  #collectorInstance: Frame | undefined;
  #collectorSeen: number;
  #collectorUp = false;
  #collectorLost = false;
  #tick: TimerHandle;
  #closed = false;
  readonly #stats: HarmonyClientStats = {
    submitted: 0,
    completed: 0,
    failed: 0,
    batches: 0,
    tasksSent: 0,
    tasksResent: 0,
    results: 0,
    duplicateResults: 0,
    workers: 0,
    workersLost: 0,
    queued: 0,
    collectorRestarts: 0,
    protocolErrors: 0,
  };

  constructor(options: ClientCoreOptions, send: (a: ClientAction) => void) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#send = send;
    this.listenerErrorLogger = options.logger;
    this.#collectorSeen = this.#clock.now();
    this.#presence = new PresenceTracker<string>({
      interval: options.heartbeatInterval,
      liveness: options.liveness,
      clock: this.#clock,
      granularity: Math.max(1, Math.min(10, Math.floor(options.heartbeatInterval / 10))),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    this.#presence.on("peer:expired", ({ key }) => this.#workerLost(key));
  }

  /** Starts the heartbeat timer and sends the first PING to the collector. */
  start(): void {
    this.#send({ to: "collector", message: { command: "PING", clientId: this.#o.clientId } });
    this.#schedule();
  }

  /** Counter snapshot. */
  stats(): HarmonyClientStats {
    return {
      ...this.#stats,
      batches: this.#batches.size,
      workers: this.#workers.size,
      queued: this.#queue.length - this.#qhead,
    };
  }

  /** Unconfirmed batches. */
  get pending(): number {
    return this.#batches.size;
  }

  /**
   * Submits a batch.
   * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for an empty or too large batch, `ZG_OVERFLOW` beyond `maxBatches`, `ZG_CLOSED` after close.
   */
  submit(tasks: readonly Frame[], options: SubmitOptions = {}): Batch {
    if (this.#closed) throw new ZgError("ZG_CLOSED", "client is closed");
    if (tasks.length === 0 || tasks.length > this.#o.maxBatchSize)
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `a batch has 1..${this.#o.maxBatchSize} tasks, got ${tasks.length}`,
      );
    if (this.#batches.size >= this.#o.maxBatches)
      throw new ZgError("ZG_OVERFLOW", `${this.#o.maxBatches} batches are already pending`, {
        details: { maxBatches: this.#o.maxBatches },
      });
    options.signal?.throwIfAborted();
    const id = this.#nextBatch++;
    const b: BatchState = {
      id,
      tasks: tasks.slice(),
      results: new Array<Frame | undefined>(tasks.length).fill(undefined),
      have: 0,
      queued: new Uint8Array(tasks.length),
      queuedCount: 0,
      ended: false,
      lastProgress: this.#clock.now(),
      resends: 0,
      running: true,
      done: deferred<Buffer[]>(),
      timer: undefined,
      cleanup: undefined,
    };
    // An unobserved failure must not become an unhandled rejection inside the core.
    b.done.promise.catch(() => {});
    this.#batches.set(id, b);
    this.#stats.submitted++;
    if (options.timeout !== undefined) {
      b.timer = this.#clock.setTimeout(
        () =>
          this.#fail(
            b,
            new ZgError("ZG_TIMEOUT", `batch ${id} not complete after ${options.timeout} ms`, {
              details: { batch: id, have: b.have, size: b.tasks.length, resends: b.resends },
            }),
          ),
        options.timeout,
      );
    }
    const signal = options.signal;
    if (signal) {
      const onAbort = () =>
        this.#fail(b, new ZgError("ZG_ABORTED", `batch ${id} aborted`, { cause: signal.reason }));
      signal.addEventListener("abort", onAbort, { once: true });
      b.cleanup = () => signal.removeEventListener("abort", onAbort);
    }
    this.#startBatch(b);
    for (let t = 0; t < b.tasks.length; t++) this.#enqueue(b, t);
    this.#pump();
    return { id, size: tasks.length, done: b.done.promise };
  }

  /** A message from a worker (its routing id `route`). */
  onWorker(route: Frame, m: PipelineMessage): void {
    if (m.command !== "CREDIT") {
      this.#invalid("worker", `unexpected ${m.command} from a worker`);
      return;
    }
    const key = identityKey(route);
    const seen = this.#presence.seen(key);
    if (seen === "refused") return;
    let w = this.#workers.get(key);
    if (w === undefined) {
      const session = Buffer.alloc(12);
      this.#o.instance.copy(session, 0, 0, 8);
      session.writeUInt32BE(++this.#generation >>> 0, 8);
      w = { key, route, session, sender: new CreditSender(), inflight: [], head: 0 };
      this.#workers.set(key, w);
      this.#send({ to: "worker", route, message: { command: "HEARTBEAT", instance: session } });
      this.emit("worker:joined", { worker: key });
    }
    if (m.instance.equals(w.session)) {
      w.sender.grant(m.limit, m.window);
      // Everything up to limit - window was consumed by the worker: its results went to the collector.
      const floor = m.limit - m.window;
      while (w.head < w.inflight.length && w.inflight[w.head]!.end <= floor) {
        w.inflight[w.head++] = undefined as never;
      }
      if (w.head > 1024 && w.head * 2 > w.inflight.length) {
        w.inflight = w.inflight.slice(w.head);
        w.head = 0;
      }
    } else {
      // The worker has not adopted our session yet: it will reset on our first message; assume a fresh window.
      w.sender.grant(m.window, m.window);
    }
    this.#pump();
  }

  /** A message from the collector. */
  onCollector(m: PipelineMessage): void {
    const now = this.#clock.now();
    this.#collectorSeen = now;
    const wasLost = this.#collectorLost;
    this.#collectorUp = true;
    this.#collectorLost = false;
    switch (m.command) {
      case "ALIVE": {
        const known = this.#collectorInstance;
        if (wasLost && known !== undefined && known.equals(m.instance))
          this.emit("collector:returned", { restarted: false });
        if (known === undefined || !known.equals(m.instance)) {
          this.#collectorInstance = Buffer.from(m.instance);
          if (known !== undefined) {
            this.#stats.collectorRestarts++;
            this.emit("collector:returned", { restarted: true });
            for (const b of this.#batches.values()) this.#resend(b, "restart", false);
            this.#pump();
          }
        }
        return;
      }
      case "DELIVER": {
        const b = this.#batches.get(m.batch);
        if (b === undefined) return;
        for (let i = 0; i < m.tasks.length; i++) {
          const task = m.tasks[i]!;
          if (task >= b.tasks.length) continue;
          if (b.results[task] !== undefined) {
            this.#stats.duplicateResults++;
            continue;
          }
          b.results[task] = m.payloads[i]!;
          b.have++;
          this.#stats.results++;
        }
        b.lastProgress = now;
        if (b.have === b.tasks.length) this.#complete(b);
        return;
      }
      case "MISSING": {
        const b = this.#batches.get(m.batch);
        if (b === undefined) return;
        b.lastProgress = now;
        let n = 0;
        for (const t of m.tasks) {
          if (t < b.tasks.length && b.results[t] === undefined && b.queued[t] === 0) {
            this.#enqueue(b, t);
            n++;
          }
        }
        if (n > 0) {
          b.resends++;
          this.#stats.tasksResent += n;
          b.ended = false;
          this.emit("batch:resend", { batch: b.id, reason: "missing", tasks: n });
          this.#pump();
        }
        return;
      }
      case "DONE": {
        const b = this.#batches.get(m.batch);
        if (b === undefined) return;
        if (b.have < b.tasks.length) this.#resend(b, "done-short", true);
        return;
      }
      case "REFUSED": {
        const b = this.#batches.get(m.batch);
        if (b !== undefined)
          this.#fail(
            b,
            new ZgError("ZG_OVERFLOW", `the collector refused batch ${m.batch}: ${m.reason}`, {
              details: { batch: m.batch, bound: m.reason },
            }),
          );
        return;
      }
      case "UNKNOWN": {
        const b = this.#batches.get(m.batch);
        if (b !== undefined) this.#resend(b, "unknown", true);
        return;
      }
      default:
        this.#invalid("collector", `unexpected ${m.command} from the collector`);
    }
  }

  /** Counts and reports bad network input. */
  invalid(from: "worker" | "collector", reason: string): void {
    this.#invalid(from, reason);
  }

  /** Fails every batch with `ZG_CLOSED` and stops timers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tick !== undefined) this.#clock.clearTimeout(this.#tick);
    this.#presence.close();
    for (const b of [...this.#batches.values()])
      this.#fail(b, new ZgError("ZG_CLOSED", `client closed with batch ${b.id} pending`));
  }

  #invalid(from: "worker" | "collector", reason: string): void {
    this.#stats.protocolErrors++;
    this.emit("protocol:invalid", { from, reason });
  }

  #schedule(): void {
    this.#tick = this.#clock.setTimeout(() => {
      this.#tick = undefined;
      if (this.#closed) return;
      this.#onTick();
      this.#schedule();
    }, this.#o.heartbeatInterval);
  }

  #onTick(): void {
    const now = this.#clock.now();
    this.#send({ to: "collector", message: { command: "PING", clientId: this.#o.clientId } });
    for (const w of this.#workers.values())
      this.#send({
        to: "worker",
        route: w.route,
        message: { command: "HEARTBEAT", instance: w.session },
      });
    const silentFor = now - this.#collectorSeen;
    if (this.#collectorUp && silentFor >= this.#o.heartbeatInterval * this.#o.liveness) {
      this.#collectorUp = false;
      this.#collectorLost = true;
      this.emit("collector:lost", { silentFor });
    }
    for (const b of this.#batches.values()) {
      if (now - b.lastProgress >= this.#o.resendTimeout) this.#resend(b, "stall", true);
    }
    this.#pump();
  }

  #startBatch(b: BatchState): void {
    this.#send({
      to: "collector",
      message: { command: "START", clientId: this.#o.clientId, batch: b.id, size: b.tasks.length },
    });
  }

  /** Starts the batch again at the collector and queues every task without a result. */
  #resend(b: BatchState, reason: ResendReason, pump: boolean): void {
    b.lastProgress = this.#clock.now();
    b.resends++;
    b.ended = false;
    this.#startBatch(b);
    let n = 0;
    for (let t = 0; t < b.tasks.length; t++) {
      if (b.results[t] === undefined && b.queued[t] === 0) {
        this.#enqueue(b, t);
        n++;
      }
    }
    this.#stats.tasksResent += n;
    this.emit("batch:resend", { batch: b.id, reason, tasks: n });
    if (pump) this.#pump();
  }

  #enqueue(b: BatchState, task: number): void {
    b.queued[task] = 1;
    b.queuedCount++;
    this.#queue.push({ batch: b, task });
  }

  #pump(): void {
    const workers = [...this.#workers.values()];
    if (workers.length > 0) {
      let idle = 0;
      while (this.#qhead < this.#queue.length && idle < workers.length) {
        const w = workers[this.#rr++ % workers.length]!;
        if (this.#sendTo(w) === 0) idle++;
        else idle = 0;
      }
    }
    if (this.#qhead > 4096 && this.#qhead * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#qhead);
      this.#qhead = 0;
    }
    for (const b of this.#batches.values()) {
      if (!b.ended && b.queuedCount === 0) {
        b.ended = true;
        this.#send({
          to: "collector",
          message: {
            command: "END",
            clientId: this.#o.clientId,
            batch: b.id,
            size: b.tasks.length,
          },
        });
      }
    }
  }

  /** Sends `w` one TASK message: consecutive queued tasks of one batch, as many as its credit allows. */
  #sendTo(w: WorkerEntry): number {
    const refs: Ref[] = [];
    const ends: number[] = [];
    let bytes = 0;
    let batch: BatchState | undefined;
    while (this.#qhead < this.#queue.length && refs.length < MAX_TASKS_PER_MESSAGE) {
      const ref = this.#queue[this.#qhead]!;
      if (!ref.batch.running || ref.batch.results[ref.task] !== undefined) {
        this.#dequeue(ref);
        continue;
      }
      if (batch !== undefined && ref.batch !== batch) break;
      const size = ref.batch.tasks[ref.task]!.length + TASK_OVERHEAD;
      if (!w.sender.canSend(bytes + size) || (refs.length > 0 && w.sender.available < bytes + size))
        break;
      batch = ref.batch;
      this.#dequeue(ref);
      refs.push(ref);
      bytes += size;
      ends.push(w.sender.sent + bytes);
    }
    if (batch === undefined) return 0;
    const seq = w.sender.next(bytes);
    for (let i = 0; i < refs.length; i++) w.inflight.push({ end: ends[i]!, ref: refs[i]! });
    this.#stats.tasksSent += refs.length;
    this.#send({
      to: "worker",
      route: w.route,
      message: {
        command: "TASK",
        instance: w.session,
        seq,
        clientId: this.#o.clientId,
        batch: batch.id,
        tasks: refs.map((r) => r.task),
        payloads: refs.map((r) => batch.tasks[r.task]!),
      },
    });
    return refs.length;
  }

  #dequeue(ref: Ref): void {
    this.#queue[this.#qhead++] = undefined;
    if (ref.batch.queued[ref.task] === 1) {
      ref.batch.queued[ref.task] = 0;
      ref.batch.queuedCount--;
    }
  }

  #workerLost(key: string): void {
    const w = this.#workers.get(key);
    if (w === undefined) return;
    this.#workers.delete(key);
    this.#stats.workersLost++;
    let n = 0;
    for (let i = w.head; i < w.inflight.length; i++) {
      const { batch, task } = w.inflight[i]!.ref;
      if (batch.running && batch.results[task] === undefined && batch.queued[task] === 0) {
        this.#enqueue(batch, task);
        batch.ended = false;
        n++;
      }
    }
    this.#stats.tasksResent += n;
    this.emit("worker:lost", { worker: key, requeued: n });
    this.#pump();
  }

  #complete(b: BatchState): void {
    this.#finish(b);
    this.#stats.completed++;
    this.#send({
      to: "collector",
      message: { command: "FORGET", clientId: this.#o.clientId, batch: b.id },
    });
    this.emit("batch:done", { batch: b.id, size: b.tasks.length, resends: b.resends });
    b.done.resolve(b.results as Buffer[]);
  }

  #fail(b: BatchState, error: Error): void {
    if (!b.running) return;
    this.#finish(b);
    this.#stats.failed++;
    this.#send({
      to: "collector",
      message: { command: "FORGET", clientId: this.#o.clientId, batch: b.id },
    });
    this.emit("batch:failed", { batch: b.id, error });
    b.done.reject(error);
  }

  #finish(b: BatchState): void {
    b.running = false;
    this.#batches.delete(b.id);
    if (b.timer !== undefined) this.#clock.clearTimeout(b.timer);
    b.cleanup?.();
  }
}
