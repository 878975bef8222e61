import * as zmq from "zeromq";
import {
  bindAll,
  Component,
  createRouter,
  createSocket,
  durationOption,
  endpointsOption,
  identityKey,
  integerOption,
  lingerOption,
  SocketLoop,
  ZgError,
  type BoundEndpoints,
  type ComponentOptions,
  type LingerOptions,
  type Message,
} from "@zg/core";
import {
  DEFAULT_LOG_FILE_BYTES,
  DEFAULT_LOG_MAX_FILES,
  DEFAULT_LOG_ROTATE_INTERVAL,
} from "./constants.js";
import { LogFiles, listLogFiles, readLogFile } from "./log-files.js";
import {
  acceptRecord,
  LOG_LEVELS,
  LOG_SIGNATURE,
  logTopic,
  parseRecord,
  type LogLevel,
  type StoredLogRecord,
} from "./record.js";

/** Options of {@link LogBroker}. */
export interface LogBrokerOptions extends ComponentOptions, LingerOptions {
  /** Directory of the log files (created by the caller). */
  dir: string;
  /** ROUTER endpoints publishers and tail clients connect to. */
  endpoints: string | readonly string[];
  /** Optional PUB endpoints: every stored record on topic `ZGLOG01/<L>/<app>/` for plain SUB sockets. */
  publish?: string | readonly string[];
  /** Rotate at this size. @defaultValue {@link DEFAULT_LOG_FILE_BYTES} */
  maxFileBytes?: number;
  /** Rotate at this age, ms. @defaultValue {@link DEFAULT_LOG_ROTATE_INTERVAL} */
  rotateInterval?: number;
  /** Files kept (retention). @defaultValue {@link DEFAULT_LOG_MAX_FILES} */
  maxFiles?: number;
  /** Interval of the heartbeat to tail clients, ms. @defaultValue 1000 */
  heartbeatInterval?: number;
  /** The zeromq.js context (for `inproc://` publishers in the same process). */
  context?: zmq.Context;
}

/** Counters of a {@link LogBroker}. */
export interface LogBrokerStats {
  /** Records stored (written to a file). */
  stored: number;
  /** Resent records already stored (acknowledged, not stored twice). */
  duplicates: number;
  /** Records that arrived after a gap (an earlier one lost in transit; the publisher resends). */
  outOfOrder: number;
  /** Records publishers dropped from their full buffers (known from the sequence numbers). */
  lostUpstream: number;
  /** Messages that were not valid log protocol messages. */
  protocolErrors: number;
  /** Highest broker sequence number written. */
  bseq: number;
  /** Publishers known (by id). */
  publishers: number;
  /** Tail sessions open. */
  sessions: number;
  /** Records not delivered live to a slow tail client (the client sees the gap). */
  sessionDrops: number;
  rotations: number;
  filesDeleted: number;
}

/**
 * What {@link LogBroker.start} resolves with: the `{ endpoints }` shape of
 * every bound component (`BoundEndpoints` from `@zg/core`), plus the PUB
 * mirror's endpoints as their own list.
 */
export interface LogBrokerEndpoints extends BoundEndpoints {
  /** The ROUTER endpoints publishers and tail clients connect to, as bound. */
  endpoints: string[];
  /** The PUB mirror's endpoints, as bound (empty without the `publish` option). */
  publish: string[];
}

/** A tail request (JSON in the `TAIL` command). */
export interface TailRequest {
  /** Least severe level delivered. @defaultValue "debug" */
  level?: LogLevel;
  /** Only this app. */
  app?: string;
  /** Replay records with wall `time` ≥ this (ms since the epoch) first. */
  since?: number;
  /** Replay the last N matching records first. */
  last?: number;
  /** Replay every record with a broker seq above this (resuming after a reconnect). */
  after?: number;
  /** Continue live after the replay. @defaultValue true */
  follow?: boolean;
}

interface Session {
  id: Buffer;
  min: number;
  app: string | undefined;
  replaying: boolean;
  queue: StoredLogRecord[];
  prev: number;
  follow: boolean;
}

interface Ack {
  id: Buffer;
  src: string;
}

/**
 * The broker in the middle of the logging subsystem (seed 000 "Logging
 * Subsystem"): publishers send records over DEALER → ROUTER; the broker writes
 * them to rotating files (size, age, retention), acknowledges each after it is
 * written, and serves subscribers: live by level and app (filtered at the
 * broker, so a warn+ subscriber never receives info), with a replay of "since
 * T", "the last N" or "after broker seq S" first, and no gap and no duplicate
 * at the seam (every record carries its broker seq and the previous one sent
 * to that subscriber). An optional PUB mirrors every record on
 * `ZGLOG01/<L>/<app>/` topics for plain SUB sockets.
 *
 * @example
 * ```ts
 * const broker = new LogBroker({ dir: "/var/log/zg", endpoints: "tcp://127.0.0.1:5570" });
 * const { endpoints } = await broker.start();
 * ```
 */
export class LogBroker extends Component<Record<never, never>, LogBrokerStats, LogBrokerEndpoints> {
  readonly #linger: number;
  readonly #o: LogBrokerOptions;
  readonly #endpoints: string[];
  readonly #publish: string[] | undefined;
  readonly #files: LogFiles;
  readonly #hb: number;
  #router: SocketLoop | undefined;
  #pub: SocketLoop | undefined;
  /** Highest seq accepted per publisher (written or in the pending batch). */
  readonly #last = new Map<string, number>();
  /** Highest seq written to a file per publisher: what acknowledgements say. */
  readonly #writtenSeq = new Map<string, number>();
  #bseq = 0;
  #written = 0;
  #pending: StoredLogRecord[] = [];
  #pendingLines: string[] = [];
  #acks = new Map<string, Ack>();
  #writing: Promise<void> | undefined;
  #writerActive = false;
  readonly #sessions = new Map<string, Session>();
  /** The JSON of records being written and delivered (computed once). */
  readonly #json = new WeakMap<StoredLogRecord, string>();
  readonly #stats = {
    stored: 0,
    duplicates: 0,
    outOfOrder: 0,
    lostUpstream: 0,
    protocolErrors: 0,
    sessionDrops: 0,
  };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: LogBrokerOptions) {
    super("LogBroker", options);
    this.#linger = lingerOption(options.linger);
    this.#o = options;
    if (typeof options.dir !== "string" || options.dir === "") {
      throw new ZgError("ZG_INVALID_ARGUMENT", "dir must be a directory path");
    }
    this.#endpoints = endpointsOption("endpoints", options.endpoints);
    this.#publish =
      options.publish === undefined ? undefined : endpointsOption("publish", options.publish);
    this.#files = new LogFiles({
      dir: options.dir,
      maxFileBytes: integerOption("maxFileBytes", options.maxFileBytes, DEFAULT_LOG_FILE_BYTES, {
        min: 1024,
      }),
      rotateInterval: durationOption(
        "rotateInterval",
        options.rotateInterval,
        DEFAULT_LOG_ROTATE_INTERVAL,
        {
          min: 10,
          max: 31 * 86_400_000,
        },
      ),
      maxFiles: integerOption("maxFiles", options.maxFiles, DEFAULT_LOG_MAX_FILES, { min: 1 }),
    });
    this.#hb = durationOption("heartbeatInterval", options.heartbeatInterval, 1000, { min: 10 });
  }

  protected async onStart(): Promise<LogBrokerEndpoints> {
    // Recover: the highest broker seq and each publisher's last stored seq, from the files.
    const files = await listLogFiles(this.#o.dir);
    for (const f of files) {
      const { records } = await readLogFile(f.path);
      for (const r of records) {
        if (r.bseq > this.#bseq) this.#bseq = r.bseq;
        if (r.seq > (this.#last.get(r.src) ?? 0)) {
          this.#last.set(r.src, r.seq);
          this.#writtenSeq.set(r.src, r.seq);
        }
      }
    }
    this.#written = this.#bseq;
    await this.#files.open(files.at(-1)?.n ?? 0);
    this.own(async () => {
      await this.#writing;
      await this.#files.close();
    });
    const ctx = this.#o.context === undefined ? {} : { context: this.#o.context };
    // A deeper pipe per peer than libzmq's 1000, so a live tail rides out a burst; a tail slower
    // than that loses live records (counted as sessionDrops, seen by the tail as a gap).
    const router = createRouter({
      linger: this.#linger,
      sendHighWaterMark: 10_000,
      receiveHighWaterMark: 10_000,
      ...ctx,
    });
    this.#router = this.own(
      new SocketLoop(router, {
        name: "log-broker",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
        onSendFailure: (m, outcome) => {
          const id = m[0];
          if (id === undefined) return;
          const s = this.#sessions.get(identityKey(id));
          if (s === undefined) return;
          if (outcome === "unreachable") this.#sessions.delete(identityKey(id));
          else if (String(m[2]) === "REC") this.#stats.sessionDrops++;
        },
      }),
    );
    const endpoints = await bindAll(router, this.#endpoints);
    let publish: string[] = [];
    if (this.#publish !== undefined) {
      const pub = createSocket(zmq.Publisher, { linger: this.#linger, ...ctx });
      this.#pub = this.own(new SocketLoop(pub, { name: "log-broker-pub", logger: this.logger }));
      publish = await bindAll(pub, this.#publish);
      this.#pub.start();
    }
    this.#router.start();
    const timer = setInterval(() => {
      for (const s of this.#sessions.values()) {
        this.#router?.post([s.id, LOG_SIGNATURE, "HUGZ", String(this.#written)]);
      }
      void this.#files
        .rotateIfDue()
        .catch((e: unknown) => this.logger.error("rotation failed", { error: String(e) }));
    }, this.#hb);
    this.own(() => clearInterval(timer));
    return { endpoints, publish };
  }

  #onMessage(m: Message): void {
    const id = m[0] as Buffer;
    if (m.length < 3 || String(m[1]) !== LOG_SIGNATURE) {
      this.#stats.protocolErrors++;
      return;
    }
    const cmd = String(m[2]);
    if (cmd === "LOG" && m.length === 5)
      return this.#ingest(id, Number(String(m[3])), String(m[4]));
    if (cmd === "TAIL" && m.length === 4) {
      // Detached: a replay (file reads, a paced send per record) must never stop the reader, or
      // publishers' records would wait behind it (observed: ingestion stalled for seconds).
      void this.#tail(id, String(m[3])).catch((error: unknown) =>
        this.logger.error("tail session failed", { error: String(error) }),
      );
      return;
    }
    if (cmd === "STOP") {
      this.#sessions.delete(identityKey(id));
      return;
    }
    this.#stats.protocolErrors++;
  }

  #ingest(id: Buffer, floor: number, json: string): void {
    let record;
    try {
      record = parseRecord(json);
    } catch {
      this.#stats.protocolErrors++;
      return;
    }
    if (!Number.isSafeInteger(floor) || floor < 1) {
      this.#stats.protocolErrors++;
      return;
    }
    const last = this.#last.get(record.src) ?? 0;
    const verdict = acceptRecord(last, record.seq, floor);
    if (verdict === "out-of-order") {
      this.#stats.outOfOrder++;
      return;
    }
    this.#acks.set(`${identityKey(id)} ${record.src}`, { id, src: record.src });
    if (verdict === "duplicate") {
      this.#stats.duplicates++;
      this.#kick();
      return;
    }
    if (typeof verdict === "object") this.#stats.lostUpstream += verdict.gap;
    this.#last.set(record.src, record.seq);
    const stored: StoredLogRecord = { ...record, bseq: ++this.#bseq };
    this.#pending.push(stored);
    const line = JSON.stringify(stored);
    this.#json.set(stored, line);
    this.#pendingLines.push(`${line}\n`);
    this.#kick();
  }

  #kick(): void {
    // A flag, not `#writing ??= …`: a pass with nothing to write (acknowledging duplicates only)
    // completes synchronously, and `??=` would then keep a settled promise and never write again.
    if (this.#writerActive) return;
    this.#writerActive = true;
    this.#writing = this.#write();
  }

  async #write(): Promise<void> {
    while (this.#pending.length > 0 || this.#acks.size > 0) {
      const batch = this.#pending;
      const lines = this.#pendingLines;
      const acks = this.#acks;
      this.#pending = [];
      this.#pendingLines = [];
      this.#acks = new Map();
      if (batch.length > 0) {
        try {
          await this.#files.append(lines);
        } catch (error) {
          this.fail(
            new ZgError("ZG_STORAGE", `cannot write log file: ${String(error)}`, { cause: error }),
          );
          return;
        }
        this.#written = (batch.at(-1) as StoredLogRecord).bseq;
        for (const r of batch) this.#writtenSeq.set(r.src, r.seq);
        this.#stats.stored += batch.length;
        for (const r of batch) this.#deliver(r);
      }
      // Acknowledge after the write, and only what is written: records of the same publisher that
      // arrived meanwhile are in the next batch (a kill -9 now must not lose acknowledged records).
      for (const a of acks.values()) {
        this.#router?.post([a.id, LOG_SIGNATURE, "ACK", String(this.#writtenSeq.get(a.src) ?? 0)]);
      }
    }
    this.#writerActive = false;
  }

  #deliver(r: StoredLogRecord): void {
    const json = this.#json.get(r) ?? JSON.stringify(r);
    this.#pub?.post([logTopic(r.level, r.app), json]);
    for (const s of this.#sessions.values()) {
      if (!this.#matches(s, r)) continue;
      if (s.replaying) s.queue.push(r);
      else this.#sendRecord(s, r, json);
    }
  }

  #matches(s: Session, r: StoredLogRecord): boolean {
    return LOG_LEVELS.indexOf(r.level) >= s.min && (s.app === undefined || s.app === r.app);
  }

  #sendRecord(s: Session, r: StoredLogRecord, json = JSON.stringify(r)): void {
    this.#router?.post([s.id, LOG_SIGNATURE, "REC", String(s.prev), json]);
    s.prev = r.bseq;
  }

  async #tail(id: Buffer, json: string): Promise<void> {
    let req: TailRequest;
    try {
      req = JSON.parse(json) as TailRequest;
      if (typeof req !== "object" || req === null || Array.isArray(req))
        throw new Error("not an object");
      for (const k of ["since", "last", "after"] as const) {
        if (req[k] !== undefined && (typeof req[k] !== "number" || !Number.isFinite(req[k]))) {
          throw new Error(`${k} is not a number`);
        }
      }
    } catch {
      this.#stats.protocolErrors++;
      return;
    }
    const level = req.level ?? "debug";
    if (!LOG_LEVELS.includes(level)) {
      this.#stats.protocolErrors++;
      return;
    }
    const s: Session = {
      id: Buffer.from(id),
      min: LOG_LEVELS.indexOf(level),
      app: typeof req.app === "string" ? req.app : undefined,
      replaying: true,
      queue: [],
      prev: typeof req.after === "number" ? req.after : 0,
      follow: req.follow !== false,
    };
    const key = identityKey(id);
    this.#sessions.set(key, s);
    const upTo = this.#written;
    const replay = req.since !== undefined || req.last !== undefined || req.after !== undefined;
    if (replay) {
      let matched: StoredLogRecord[] = [];
      for (const f of await listLogFiles(this.#o.dir)) {
        const { records } = await readLogFile(f.path);
        for (const r of records) {
          if (r.bseq > upTo || !this.#matches(s, r)) continue;
          if (typeof req.after === "number" && r.bseq <= req.after) continue;
          if (typeof req.since === "number" && r.time < req.since) continue;
          matched.push(r);
        }
      }
      matched.sort((a, b) => a.bseq - b.bseq);
      if (typeof req.last === "number" && req.last >= 0)
        matched = matched.slice(Math.max(0, matched.length - req.last));
      for (const r of matched) {
        if (this.#sessions.get(key) !== s) return; // stopped or vanished meanwhile
        // Replay is paced by the peer: retry a full pipe instead of dropping.
        let outcome = await this.#router?.send([
          s.id,
          LOG_SIGNATURE,
          "REC",
          String(s.prev),
          JSON.stringify(r),
        ]);
        for (let tries = 0; outcome === "timeout" && tries < 2000; tries++) {
          await new Promise((res) => setTimeout(res, 5));
          outcome = await this.#router?.send([
            s.id,
            LOG_SIGNATURE,
            "REC",
            String(s.prev),
            JSON.stringify(r),
          ]);
        }
        if (outcome !== "sent") {
          this.#sessions.delete(key);
          return;
        }
        s.prev = r.bseq;
      }
    }
    this.#router?.post([s.id, LOG_SIGNATURE, "LIVE", String(upTo)]);
    if (!s.follow) {
      this.#router?.post([s.id, LOG_SIGNATURE, "END"]);
      this.#sessions.delete(key);
      return;
    }
    s.replaying = false;
    for (const r of s.queue) this.#sendRecord(s, r);
    s.queue = [];
  }

  stats(): LogBrokerStats {
    return {
      ...this.#stats,
      bseq: this.#written,
      publishers: this.#last.size,
      sessions: this.#sessions.size,
      rotations: this.#files.rotations,
      filesDeleted: this.#files.deleted,
    };
  }
}
