import {
  identityKey,
  systemClock,
  TypedEmitter,
  type Clock,
  type Frame,
  type Logger,
  type TimerHandle,
} from "@zg/core/pure";
import { MAX_MISSING_PER_MESSAGE, type PipelineMessage } from "./protocol/pipeline.js";

/** Events of a Harmony collector. */
export interface HarmonyCollectorEvents {
  /** A batch began (or began again: `restarted`). */
  "batch:started": { client: string; batch: number; size: number; restarted: boolean };
  /** Every result of a batch was delivered to its client. */
  "batch:complete": { client: string; batch: number; size: number };
  /** A batch was freed: `forgotten` by its client, or `expired` (its client was silent for `batchTtl`). */
  "batch:freed": { client: string; batch: number; reason: "forgotten" | "expired" };
  /** A START was refused at a bound (`maxClients`, `maxBatches`, `maxBatchSize`). */
  "batch:refused": { client: string; batch: number; reason: string };
  /** Bad input from the network, dropped. */
  "protocol:invalid": { reason: string };
}

/** Counters of a Harmony collector. */
export interface HarmonyCollectorStats {
  /** Clients with state now (level). */
  clients: number;
  /** Batches held now (level). */
  batches: number;
  /** Bytes of per-batch state held now (level; one bit per task). */
  stateBytes: number;
  /** Results delivered to clients (first copy of each task). */
  delivered: number;
  /** Result copies dropped as duplicates. */
  duplicates: number;
  /** Results for a batch the collector does not hold (finished, expired, or before START): dropped. */
  orphans: number;
  /** MISSING messages sent. */
  missingSent: number;
  /** Batches completed. */
  completed: number;
  /** Batches freed because their client went silent. */
  expired: number;
  /** STARTs refused at a bound. */
  refused: number;
  /** Bad network input dropped. */
  protocolErrors: number;
}

/** What the collector sends: a message to one client route. */
export interface CollectorAction {
  route: Frame;
  message: PipelineMessage;
}

/** Options of {@link CollectorCore}. */
export interface CollectorCoreOptions {
  instance: Frame;
  missingAfter: number;
  batchTtl: number;
  maxClients: number;
  maxBatches: number;
  maxBatchSize: number;
  /** Period of the sweep (missing detection, expiry), ms. */
  tick: number;
  clock?: Clock;
  logger?: Logger;
}

interface ClientState {
  id: string;
  route: Frame;
  lastSeen: number;
  batches: Map<number, BatchState>;
}

interface BatchState {
  batch: number;
  size: number;
  bits: Uint8Array;
  count: number;
  ended: boolean;
  lastProgress: number;
  missingAt: number;
}

/**
 * The pure state machine of a Harmony collector: per (client, batch) it keeps
 * one bit per task, forwards the first copy of each result to its client and
 * drops the rest, asks for exactly the missing numbers once the client sent
 * END and results stopped coming, reports DONE, and frees a batch when the
 * client says FORGET or has been silent for `batchTtl`. It never stores result
 * bodies, so its memory is one bit per task of each open batch.
 */
export class CollectorCore extends TypedEmitter<HarmonyCollectorEvents> {
  readonly #o: CollectorCoreOptions;
  readonly #clock: Clock;
  readonly #send: (a: CollectorAction) => void;
  readonly #clients = new Map<string, ClientState>();
  #timer: TimerHandle;
  #closed = false;
  #batchCount = 0;
  #stateBytes = 0;
  readonly #stats: HarmonyCollectorStats = {
    clients: 0,
    batches: 0,
    stateBytes: 0,
    delivered: 0,
    duplicates: 0,
    orphans: 0,
    missingSent: 0,
    completed: 0,
    expired: 0,
    refused: 0,
    protocolErrors: 0,
  };

  constructor(options: CollectorCoreOptions, send: (a: CollectorAction) => void) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#send = send;
    this.listenerErrorLogger = options.logger;
  }

  /** Starts the sweep timer. */
  start(): void {
    this.#schedule();
  }

  /** Stops the sweep timer. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Counter snapshot. */
  stats(): HarmonyCollectorStats {
    return {
      ...this.#stats,
      clients: this.#clients.size,
      batches: this.#batchCount,
      stateBytes: this.#stateBytes,
    };
  }

  /** A message from a client (routing id `route`). */
  onClient(route: Frame, m: PipelineMessage): void {
    const now = this.#clock.now();
    switch (m.command) {
      case "PING": {
        const c = this.#client(m.clientId, route, now);
        this.#send({ route, message: { command: "ALIVE", instance: this.#o.instance } });
        if (c === undefined) return;
        return;
      }
      case "START": {
        const c = this.#client(m.clientId, route, now);
        if (c === undefined) return this.#refuse(route, m.clientId, m.batch, "maxClients");
        if (m.size === 0 || m.size > this.#o.maxBatchSize)
          return this.#refuse(route, m.clientId, m.batch, "maxBatchSize");
        const old = c.batches.get(m.batch);
        if (old !== undefined) {
          // Started again (the client resends): forget what was delivered, deliver every result anew.
          if (old.size === m.size) {
            old.bits.fill(0);
            old.count = 0;
            old.ended = false;
            old.lastProgress = now;
            this.emit("batch:started", {
              client: c.id,
              batch: m.batch,
              size: m.size,
              restarted: true,
            });
            return;
          }
          this.#free(c, old, "forgotten");
        }
        if (c.batches.size >= this.#o.maxBatches)
          return this.#refuse(route, m.clientId, m.batch, "maxBatches");
        const b: BatchState = {
          batch: m.batch,
          size: m.size,
          bits: new Uint8Array(Math.ceil(m.size / 8)),
          count: 0,
          ended: false,
          lastProgress: now,
          missingAt: 0,
        };
        c.batches.set(m.batch, b);
        this.#batchCount++;
        this.#stateBytes += b.bits.length;
        this.emit("batch:started", {
          client: c.id,
          batch: m.batch,
          size: m.size,
          restarted: false,
        });
        return;
      }
      case "END": {
        const c = this.#client(m.clientId, route, now);
        const b = c?.batches.get(m.batch);
        if (c === undefined || b === undefined) {
          this.#send({ route, message: { command: "UNKNOWN", batch: m.batch } });
          return;
        }
        b.ended = true;
        b.lastProgress = now;
        if (b.count === b.size) this.#done(c, b);
        return;
      }
      case "FORGET": {
        const c = this.#client(m.clientId, route, now);
        const b = c?.batches.get(m.batch);
        if (c !== undefined && b !== undefined) this.#free(c, b, "forgotten");
        return;
      }
      default:
        this.invalid(`unexpected ${m.command} from a client`);
    }
  }

  /** A RESULT from a worker. */
  onResult(m: PipelineMessage): void {
    if (m.command !== "RESULT") {
      this.invalid(`unexpected ${m.command} from a worker`);
      return;
    }
    const c = this.#clients.get(m.clientId);
    const b = c?.batches.get(m.batch);
    if (c === undefined || b === undefined) {
      this.#stats.orphans += m.tasks.length;
      return;
    }
    const tasks: number[] = [];
    const payloads: Frame[] = [];
    for (let i = 0; i < m.tasks.length; i++) {
      const task = m.tasks[i]!;
      if (task >= b.size) {
        this.#stats.orphans++;
        continue;
      }
      const byte = task >>> 3;
      const bit = 1 << (task & 7);
      if ((b.bits[byte]! & bit) !== 0) {
        this.#stats.duplicates++;
        continue;
      }
      b.bits[byte] = b.bits[byte]! | bit;
      b.count++;
      tasks.push(task);
      payloads.push(m.payloads[i]!);
    }
    if (tasks.length === 0) return;
    b.lastProgress = this.#clock.now();
    this.#stats.delivered += tasks.length;
    this.#send({
      route: c.route,
      message: { command: "DELIVER", batch: m.batch, tasks, payloads },
    });
    if (b.count === b.size) this.#done(c, b);
  }

  /** Counts and reports bad network input. */
  invalid(reason: string): void {
    this.#stats.protocolErrors++;
    this.emit("protocol:invalid", { reason });
  }

  /** The missing task numbers of a batch (at most `limit`), for tests and tools. */
  missing(clientId: string, batch: number, limit = MAX_MISSING_PER_MESSAGE): number[] | undefined {
    const b = this.#clients.get(clientId)?.batches.get(batch);
    return b === undefined ? undefined : missingOf(b, limit);
  }

  #client(id: string, route: Frame, now: number): ClientState | undefined {
    let c = this.#clients.get(id);
    if (c === undefined) {
      if (this.#clients.size >= this.#o.maxClients) return undefined;
      c = { id, route: Buffer.from(route), lastSeen: now, batches: new Map() };
      this.#clients.set(id, c);
    } else if (identityKey(c.route) !== identityKey(route)) {
      c.route = Buffer.from(route);
    }
    c.lastSeen = now;
    return c;
  }

  #refuse(route: Frame, client: string, batch: number, reason: string): void {
    this.#stats.refused++;
    this.emit("batch:refused", { client, batch, reason });
    this.#send({ route, message: { command: "REFUSED", batch, reason } });
  }

  #done(c: ClientState, b: BatchState): void {
    this.#stats.completed++;
    this.#send({ route: c.route, message: { command: "DONE", batch: b.batch, size: b.size } });
    this.emit("batch:complete", { client: c.id, batch: b.batch, size: b.size });
  }

  #free(c: ClientState, b: BatchState, reason: "forgotten" | "expired"): void {
    if (c.batches.delete(b.batch)) {
      this.#batchCount--;
      this.#stateBytes -= b.bits.length;
      this.emit("batch:freed", { client: c.id, batch: b.batch, reason });
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#sweep();
      this.#schedule();
    }, this.#o.tick);
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const c of [...this.#clients.values()]) {
      if (now - c.lastSeen >= this.#o.batchTtl) {
        for (const b of [...c.batches.values()]) {
          this.#stats.expired++;
          this.#free(c, b, "expired");
        }
        this.#clients.delete(c.id);
        continue;
      }
      for (const b of c.batches.values()) {
        if (
          b.ended &&
          b.count < b.size &&
          now - b.lastProgress >= this.#o.missingAfter &&
          now - b.missingAt >= this.#o.missingAfter
        ) {
          b.missingAt = now;
          this.#stats.missingSent++;
          this.#send({
            route: c.route,
            message: {
              command: "MISSING",
              batch: b.batch,
              tasks: missingOf(b, MAX_MISSING_PER_MESSAGE),
            },
          });
        }
      }
    }
  }
}

function missingOf(b: BatchState, limit: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < b.size && out.length < limit; t++) {
    if ((b.bits[t >>> 3]! & (1 << (t & 7))) === 0) out.push(t);
  }
  return out;
}
