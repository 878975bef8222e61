import type * as zmq from "zeromq";
import {
  Component,
  connectAll,
  createDealer,
  deferred,
  durationOption,
  endpointsOption,
  lingerOption,
  SocketLoop,
  ZgError,
  type ComponentOptions,
  type Deferred,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { LOG_SIGNATURE, checkRecord, type StoredLogRecord } from "./record.js";
import type { TailRequest } from "./log-broker.js";

/** Options of {@link LogTail}. */
export interface LogTailOptions extends ComponentOptions, LingerOptions {
  /** The log broker's endpoint(s). */
  broker: string | readonly string[];
  /** What to receive (level, app, replay since/last; follow). */
  request?: Omit<TailRequest, "after">;
  /**
   * ms of silence from the broker (it heartbeats every second) after which the
   * tail asks again, resuming after the last broker seq it delivered (no gap, no duplicate).
   * @defaultValue 3000
   */
  silence?: number;
  /** The zeromq.js context (for an `inproc://` broker). */
  context?: zmq.Context;
}

/** One delivered record. */
export interface TailItem {
  record: StoredLogRecord;
  /** True while replaying stored records, false once live. */
  replayed: boolean;
  /**
   * True if records matching the request may be missing before this one: the
   * broker's `prev` did not match the last delivered seq (a slow subscriber
   * whose live records were dropped). Never true across a broker restart: the
   * tail resumes after its last seq.
   */
  gap: boolean;
}

/** Counters of a {@link LogTail}. */
export interface LogTailStats {
  delivered: number;
  replayed: number;
  gaps: number;
  /** Records received twice (after a resume) and not delivered again. */
  duplicates: number;
  /** Times the tail asked again after broker silence. */
  resumes: number;
  protocolErrors: number;
}

/**
 * A subscriber of a {@link LogBroker}: `for await (const { record } of tail.records())`.
 * Replays what the request asks for, then follows live; checks every record's
 * broker seq against the previous one so the seam between replay and live
 * has no gap and no duplicate, and resumes after a broker restart from the
 * last seq it delivered.
 *
 * @example
 * ```ts
 * const tail = new LogTail({ broker: "tcp://127.0.0.1:5570", request: { level: "warn", since: Date.now() - 600_000 } });
 * await tail.start();
 * for await (const { record } of tail.records()) logger.info(record.msg);
 * ```
 */
export class LogTail extends Component<Record<never, never>, LogTailStats> {
  readonly #linger: number;
  readonly #endpoints: string[];
  readonly #request: Omit<TailRequest, "after">;
  readonly #silence: number;
  readonly #context: zmq.Context | undefined;
  #loop: SocketLoop | undefined;
  #last = 0;
  #heardAt = 0;
  #live = false;
  #ended = false;
  #items: TailItem[] = [];
  #waiter: Deferred<void> | undefined;
  #iterating = false;
  readonly #stats: LogTailStats = {
    delivered: 0,
    replayed: 0,
    gaps: 0,
    duplicates: 0,
    resumes: 0,
    protocolErrors: 0,
  };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: LogTailOptions) {
    super("LogTail", options);
    this.#linger = lingerOption(options.linger);
    this.#endpoints = endpointsOption("broker", options.broker);
    this.#request = options.request ?? {};
    this.#silence = durationOption("silence", options.silence, 3000, { min: 100 });
    this.#context = options.context;
  }

  protected onStart(): Promise<void> {
    const dealer = createDealer({
      linger: this.#linger,
      reconnectInterval: 100,
      reconnectMaxInterval: 1000,
      ...(this.#context === undefined ? {} : { context: this.#context }),
    });
    this.#loop = this.own(
      new SocketLoop(dealer, {
        name: "log-tail",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
      }),
    );
    this.own(() => this.#end());
    connectAll(dealer, this.#endpoints);
    this.#loop.start();
    this.#heardAt = performance.now();
    this.#loop.post([LOG_SIGNATURE, "TAIL", JSON.stringify(this.#request)]);
    const timer = setInterval(
      () => {
        if (performance.now() - this.#heardAt < this.#silence || this.#ended) return;
        // The broker went quiet (restarted?): ask again, after the last record delivered.
        this.#stats.resumes++;
        this.#heardAt = performance.now();
        const { since: _s, last: _l, ...rest } = this.#request;
        const req: TailRequest =
          this.#live || this.#last > 0 ? { ...rest, after: this.#last } : this.#request;
        this.#loop?.post([LOG_SIGNATURE, "TAIL", JSON.stringify(req)]);
      },
      Math.max(50, this.#silence / 4),
    );
    this.own(() => clearInterval(timer));
    return Promise.resolve();
  }

  #onMessage(m: Message): void {
    this.#heardAt = performance.now();
    if (m.length < 2 || String(m[0]) !== LOG_SIGNATURE) {
      this.#stats.protocolErrors++;
      return;
    }
    const cmd = String(m[1]);
    if (cmd === "HUGZ") return;
    if (cmd === "LIVE") {
      this.#live = true;
      return;
    }
    if (cmd === "END") {
      this.#end();
      return;
    }
    if (cmd !== "REC" || m.length !== 4) {
      this.#stats.protocolErrors++;
      return;
    }
    let record: StoredLogRecord;
    try {
      const o = JSON.parse(String(m[3])) as { bseq?: unknown };
      record = checkRecord(o) as StoredLogRecord;
      if (!Number.isSafeInteger(o.bseq)) throw new Error("no bseq");
    } catch {
      this.#stats.protocolErrors++;
      return;
    }
    if (record.bseq <= this.#last) {
      this.#stats.duplicates++;
      return;
    }
    const prev = Number(String(m[2]));
    const gap = this.#last > 0 && prev !== this.#last;
    if (gap) this.#stats.gaps++;
    this.#last = record.bseq;
    const replayed = !this.#live;
    if (replayed) this.#stats.replayed++;
    this.#stats.delivered++;
    this.#items.push({ record, replayed, gap });
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.resolve();
  }

  #end(): void {
    this.#ended = true;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.resolve();
  }

  /**
   * The records, in broker order. Ends when the client closes or, with
   * `follow: false`, after the replay. One iterator per tail.
   *
   * @throws {@link ZgError} `ZG_STATE` for a second iterator.
   */
  async *records(): AsyncGenerator<TailItem> {
    if (this.#iterating) throw new ZgError("ZG_STATE", "this LogTail already has a consumer");
    this.#iterating = true;
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#ended) return;
      this.#waiter = deferred();
      await this.#waiter.promise;
    }
  }

  stats(): LogTailStats {
    return { ...this.#stats };
  }
}
