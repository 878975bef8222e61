import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type * as zmq from "zeromq";
import {
  assertArgument,
  Component,
  connectAll,
  createDealer,
  durationOption,
  endpointsOption,
  integerOption,
  lingerOption,
  SocketLoop,
  type ComponentOptions,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { DEFAULT_LOG_BUFFER, DEFAULT_LOG_RESEND, DEFAULT_LOG_WINDOW } from "./constants.js";
import { LOG_SIGNATURE, toLogLevel, type LogRecord } from "./record.js";

/** Options of {@link LogPublisher}. */
export interface LogPublisherOptions extends ComponentOptions, LingerOptions {
  /** The log broker's endpoint(s) (`tcp://…`, or `inproc://…` with the broker in the same process). */
  broker: string | readonly string[];
  /** Application name on every record (no `/`). */
  app: string;
  /** Host name on every record. @defaultValue os.hostname() */
  host?: string;
  /** Unacknowledged records kept; the oldest is dropped when full. @defaultValue {@link DEFAULT_LOG_BUFFER} */
  buffer?: number;
  /** Records sent ahead of acknowledgements. @defaultValue {@link DEFAULT_LOG_WINDOW} */
  window?: number;
  /** ms without an acknowledgement before resending from the oldest unacknowledged record. @defaultValue {@link DEFAULT_LOG_RESEND} */
  resendAfter?: number;
  /** ms `close()` waits for outstanding records to be acknowledged. @defaultValue 1000 */
  closeTimeout?: number;
  /** The zeromq.js context (an `inproc://` broker must share it). @defaultValue the default context */
  context?: zmq.Context;
}

/** Counters of a {@link LogPublisher}. */
export interface LogPublisherStats {
  /** Records logged. */
  logged: number;
  /** Records the broker acknowledged (stored). */
  acknowledged: number;
  /** Records dropped from the full buffer before the broker had them (drop-oldest). */
  dropped: number;
  /** Records resent after an acknowledgement timeout. */
  resent: number;
  /** Records waiting for an acknowledgement now. */
  buffered: number;
}

interface Pending {
  seq: number;
  json: string;
}

/**
 * What an application uses to send structured log records to a
 * {@link LogBroker}: `log(level, msg, fields)` never blocks and never throws.
 * Records wait in a bounded buffer until the broker acknowledges them (after
 * writing them to its file), so a broker restart loses nothing the buffer
 * holds; when the broker is away long enough for the buffer to fill, the
 * oldest records are dropped and counted (and the broker learns how many, from
 * the sequence numbers). DEALER → ROUTER, go-back-N from the oldest
 * unacknowledged record.
 *
 * @example
 * ```ts
 * const log = new LogPublisher({ broker: "tcp://127.0.0.1:5570", app: "billing" });
 * await log.start();
 * log.log("warn", "card declined", { order: 42 });
 * ```
 */
export class LogPublisher extends Component<Record<never, never>, LogPublisherStats> {
  readonly #linger: number;
  readonly #endpoints: string[];
  readonly #app: string;
  readonly #host: string;
  readonly #limit: number;
  readonly #window: number;
  readonly #resendAfter: number;
  readonly #closeTimeout: number;
  readonly #context: zmq.Context | undefined;
  readonly #src = randomBytes(8).toString("hex");
  #loop: SocketLoop | undefined;
  #buffer: Pending[] = [];
  #head = 0;
  #seq = 0;
  #acked = 0;
  #sentUpTo = 0;
  #lastProgress = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #stats = { logged: 0, acknowledged: 0, dropped: 0, resent: 0 };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: LogPublisherOptions) {
    super("LogPublisher", options);
    this.#linger = lingerOption(options.linger);
    this.#endpoints = endpointsOption("broker", options.broker);
    assertArgument(
      typeof options.app === "string" &&
        options.app !== "" &&
        !options.app.includes("/") &&
        options.app.length <= 128,
      "app must be a non-empty name of at most 128 characters without '/'",
    );
    this.#app = options.app;
    this.#host = options.host ?? hostname();
    this.#limit = integerOption("buffer", options.buffer, DEFAULT_LOG_BUFFER, { min: 1 });
    this.#window = integerOption("window", options.window, DEFAULT_LOG_WINDOW, { min: 1 });
    this.#resendAfter = durationOption("resendAfter", options.resendAfter, DEFAULT_LOG_RESEND, {
      min: 10,
    });
    this.#closeTimeout = durationOption("closeTimeout", options.closeTimeout, 1000);
    this.#context = options.context;
  }

  /** This publisher's id (on every record as `src`). */
  get src(): string {
    return this.#src;
  }

  protected onStart(): Promise<void> {
    const dealer = createDealer({
      linger: this.#linger,
      immediate: true,
      sendTimeout: 0,
      // Room for the whole window, so a window of records never meets EAGAIN on a live connection.
      sendHighWaterMark: this.#window + 16,
      reconnectInterval: 100,
      reconnectMaxInterval: 1000,
      ...(this.#context === undefined ? {} : { context: this.#context }),
    });
    this.#loop = this.own(
      new SocketLoop(dealer, {
        name: "log-publisher",
        logger: this.logger,
        sendQueueLimit: this.#window + 16,
        onMessage: (m) => this.#onMessage(m),
      }),
    );
    connectAll(dealer, this.#endpoints);
    this.#loop.start();
    this.#lastProgress = performance.now();
    this.#timer = setInterval(() => this.#checkResend(), Math.max(10, this.#resendAfter / 2));
    this.own(() => clearInterval(this.#timer));
    this.#pump();
    return Promise.resolve();
  }

  protected override async onClose(): Promise<void> {
    // Give outstanding records a bounded chance to be acknowledged.
    const until = performance.now() + this.#closeTimeout;
    while (this.#acked < this.#seq && performance.now() < until && this.#loop !== undefined) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Logs one record: `level` one of `LOG_LEVELS` (or a pino label or number; unknown values log as info). Never blocks, never throws; records logged before `start()`
   * are buffered and sent once started.
   */
  log(level: string | number, msg: string, fields?: Record<string, unknown>): void {
    this.#stats.logged++;
    const record: LogRecord = {
      src: this.#src,
      seq: ++this.#seq,
      level: toLogLevel(level),
      time: Date.now(),
      mono: performance.now(),
      app: this.#app,
      host: this.#host,
      pid: process.pid,
      msg: String(msg),
      ...(fields === undefined ? {} : { fields }),
    };
    let json: string;
    try {
      json = JSON.stringify(record);
    } catch {
      json = JSON.stringify({ ...record, fields: { unserializable: true } });
    }
    if (this.#buffer.length - this.#head >= this.#limit) {
      this.#head++; // drop the oldest
      this.#stats.dropped++;
      this.#compact();
    }
    this.#buffer.push({ seq: record.seq, json });
    this.#pump();
  }

  /** The oldest record still held (everything below was acknowledged or dropped). */
  get #floor(): number {
    return this.#buffer[this.#head]?.seq ?? this.#seq + 1;
  }

  #pump(): void {
    const loop = this.#loop;
    if (loop === undefined || loop.closing) return;
    const floor = String(this.#floor);
    while (
      this.#sentUpTo < this.#seq &&
      this.#sentUpTo - Math.max(this.#acked, this.#floor - 1) < this.#window
    ) {
      const next = Math.max(this.#sentUpTo + 1, this.#floor);
      const p = this.#buffer[this.#head + (next - this.#floor)];
      if (p === undefined) break;
      if (!loop.post([LOG_SIGNATURE, "LOG", floor, p.json])) break;
      this.#sentUpTo = next;
    }
  }

  #checkResend(): void {
    if (this.#acked >= this.#seq) {
      this.#lastProgress = performance.now();
      return;
    }
    if (performance.now() - this.#lastProgress < this.#resendAfter) return;
    // No acknowledgement for a while: go back to the oldest unacknowledged record.
    this.#stats.resent += Math.max(0, this.#sentUpTo - this.#floor + 1);
    this.#sentUpTo = this.#floor - 1;
    this.#lastProgress = performance.now();
    this.#pump();
  }

  #onMessage(m: Message): void {
    if (m.length !== 3 || String(m[0]) !== LOG_SIGNATURE || String(m[1]) !== "ACK") return;
    const seq = Number(String(m[2]));
    if (!Number.isSafeInteger(seq) || seq <= this.#acked || seq > this.#seq) return;
    let n = 0;
    while (this.#head < this.#buffer.length && (this.#buffer[this.#head] as Pending).seq <= seq) {
      this.#head++;
      n++;
    }
    this.#stats.acknowledged += n;
    this.#acked = seq;
    if (this.#sentUpTo < seq) this.#sentUpTo = seq;
    this.#lastProgress = performance.now();
    this.#compact();
    this.#pump();
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
  }

  stats(): LogPublisherStats {
    return { ...this.#stats, buffered: this.#buffer.length - this.#head };
  }
}
