import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile, rename, rm, stat, writeFile, type FileHandle } from "node:fs/promises";
import {
  Component,
  createDealer,
  durationOption,
  integerOption,
  lingerOption,
  SocketLoop,
  validateEndpoint,
  ZgError,
  type ComponentOptions,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { CreditReceiver } from "./credit-window.js";
import { MAX_FILE_CHUNK } from "./file-server.js";
import { decodeFile, encodeFile, type FileMessage } from "./protocol/file.js";

/** Chunk size of a fetch, bytes: fileio3's `CHUNK_SIZE` (booksbyus/zguide `examples/C/fileio3.c`). */
export const DEFAULT_FILE_CHUNK = 250_000;

/** Credit of a fetch, bytes in flight: fileio3's `PIPELINE` (10) × `CHUNK_SIZE`. */
export const DEFAULT_FILE_CREDIT = 2_500_000;

/** Silence (no chunk, no answer) after which a fetch reconnects and resumes, ms. Project value: Lazy Pirate's `REQUEST_TIMEOUT` (`lpclient`). */
export const DEFAULT_FILE_TIMEOUT = 2500;

/** Reconnect-and-resume rounds one fetch may use before it fails with `ZG_RETRIES_EXHAUSTED`. Project value. */
export const DEFAULT_FILE_ATTEMPTS = 20;

/** Options of {@link FileClient}. */
export interface FileClientOptions extends ComponentOptions, LingerOptions {
  /** The server's endpoint. */
  server: string;
  /** Bytes requested ahead of what was written (the credit). @defaultValue {@link DEFAULT_FILE_CREDIT} */
  credit?: number;
  /** Bytes per chunk request. @defaultValue {@link DEFAULT_FILE_CHUNK} */
  chunkSize?: number;
  /** Silence before reconnect-and-resume, ms. @defaultValue {@link DEFAULT_FILE_TIMEOUT} */
  timeout?: number;
  /** Reconnect rounds per fetch. @defaultValue {@link DEFAULT_FILE_ATTEMPTS} */
  attempts?: number;
}

/** Progress of one fetch. */
export interface FetchProgress {
  /** Bytes written to the destination so far (including a resumed prefix). */
  bytes: number;
  /** File size from the server's metadata. */
  size: number;
}

/** Options of one {@link FileClient.fetch}. */
export interface FetchOptions {
  /** Called after each chunk is written. */
  onProgress?: (p: FetchProgress) => void;
  /** Cancels the fetch (the partial file stays, so a later fetch resumes). */
  signal?: AbortSignal;
}

/** What a completed fetch reports. */
export interface FetchResult {
  size: number;
  /** Modification time on the server, ms since the epoch. */
  mtime: number;
  /** SHA-256 of the file, hex; verified against the bytes written. */
  sha256: string;
  /** Bytes taken from an earlier partial download. */
  resumedFrom: number;
  /** Reconnect-and-resume rounds this fetch used. */
  reconnects: number;
}

/** Events of a {@link FileClient}. */
export interface FileClientEvents {
  /** The server was silent for `timeout`: a fresh socket, the fetch resumes at `offset`. */
  "fetch:resume": { path: string; offset: number; reconnects: number };
  /** Chunks arrived out of sequence (a server drop): the fetch resumes at `expected`. */
  "credit:gap": { path: string; expected: number; got: number };
  /** Bad input from the network, dropped. */
  "protocol:invalid": { reason: string };
}

/** Counters of a {@link FileClient}. */
export interface FileClientStats {
  fetches: number;
  completed: number;
  failed: number;
  bytesReceived: number;
  reconnects: number;
  sequenceErrors: number;
  protocolErrors: number;
}

interface Inbox {
  items: FileMessage[];
  wake: (() => void) | undefined;
}

/**
 * The file-transfer client: fetches files from a {@link FileServer} with up
 * to `credit` bytes of chunk requests in flight (fileio3's pipeline, counted
 * in bytes), writes to `<dest>.part`, resumes from the bytes already written
 * after a disconnect, a server restart or an earlier interrupted run, verifies
 * SHA-256 at the end and renames into place. Several fetches may share one
 * client (one connection). Owns its socket.
 *
 * @example
 * ```ts
 * const files = new FileClient({ server: "tcp://127.0.0.1:6000" });
 * await files.start();
 * const { sha256 } = await files.fetch("data/big.bin", "/tmp/big.bin");
 * await files.close();
 * ```
 */
export class FileClient extends Component<FileClientEvents, FileClientStats> {
  readonly #linger: number;
  readonly #server: string;
  readonly #credit: number;
  readonly #chunk: number;
  readonly #timeout: number;
  readonly #attempts: number;
  #loop: SocketLoop | undefined;
  #nextReq = 1;
  readonly #inboxes = new Map<number, Inbox>();
  readonly #stats: FileClientStats = {
    fetches: 0,
    completed: 0,
    failed: 0,
    bytesReceived: 0,
    reconnects: 0,
    sequenceErrors: 0,
    protocolErrors: 0,
  };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: FileClientOptions) {
    super("FileClient", options);
    this.#linger = lingerOption(options.linger);
    validateEndpoint("server", options.server);
    this.#server = options.server;
    this.#chunk = integerOption("chunkSize", options.chunkSize, DEFAULT_FILE_CHUNK, {
      min: 1,
      max: MAX_FILE_CHUNK,
    });
    this.#credit = integerOption("credit", options.credit, DEFAULT_FILE_CREDIT, {
      min: this.#chunk,
    });
    this.#timeout = durationOption("timeout", options.timeout, DEFAULT_FILE_TIMEOUT, { min: 10 });
    this.#attempts = integerOption("attempts", options.attempts, DEFAULT_FILE_ATTEMPTS, { min: 1 });
  }

  stats(): FileClientStats {
    return { ...this.#stats };
  }

  protected override inFlight(): number {
    return this.#inboxes.size;
  }

  protected onStart(): Promise<void> {
    this.#connect();
    return Promise.resolve();
  }

  #connect(): void {
    const old = this.#loop;
    const dealer = createDealer({ linger: this.#linger, maxMessageSize: MAX_FILE_CHUNK + 4096 });
    const loop = this.watch(
      new SocketLoop(dealer, {
        name: "file-client",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
      }),
    );
    dealer.connect(this.#server);
    loop.start();
    this.#loop = loop;
    if (old !== undefined) void old.close();
  }

  protected override async onClose(): Promise<void> {
    for (const box of this.#inboxes.values()) box.wake?.();
    await this.#loop?.close();
  }

  #onMessage(m: Message): void {
    let msg: FileMessage;
    try {
      msg = decodeFile(m);
    } catch (error) {
      this.#stats.protocolErrors++;
      this.emit("protocol:invalid", { reason: (error as Error).message });
      return;
    }
    const box = this.#inboxes.get(msg.req);
    if (box === undefined) return; // a late answer to an earlier round: dropped
    box.items.push(msg);
    box.wake?.();
  }

  /** Waits for the next message of request `req`, or `undefined` after `timeout` of silence. */
  async #next(req: number, signal: AbortSignal | undefined): Promise<FileMessage | undefined> {
    const box = this.#inboxes.get(req)!;
    if (box.items.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#timeout);
        const onAbort = () => done();
        signal?.addEventListener("abort", onAbort, { once: true });
        function done(): void {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          box.wake = undefined;
          resolve();
        }
        box.wake = done;
      });
    }
    signal?.throwIfAborted();
    if (!this.running) throw new ZgError("ZG_CLOSED", "file client closed");
    return box.items.shift();
  }

  #send(m: FileMessage): void {
    this.#loop?.post(encodeFile(m));
  }

  /**
   * Fetches `path` (relative to the server's root) into `dest`.
   * @throws {@link ZgError} `ZG_STORAGE` when the server refuses (`details.status`: 403 escape, 404 missing, …),
   * `ZG_PROTOCOL` on a SHA-256 mismatch, `ZG_RETRIES_EXHAUSTED` after `attempts` silent rounds,
   * `ZG_ABORTED`, `ZG_CLOSED`, `ZG_STATE` before start.
   */
  async fetch(path: string, dest: string, options: FetchOptions = {}): Promise<FetchResult> {
    this.assertRunning("fetch");
    this.#stats.fetches++;
    try {
      const r = await this.track(this.#fetch(path, dest, options));
      this.#stats.completed++;
      return r;
    } catch (error) {
      this.#stats.failed++;
      if (options.signal?.aborted)
        throw new ZgError("ZG_ABORTED", `fetch of ${path} aborted`, {
          cause: options.signal.reason,
        });
      throw error;
    }
  }

  async #fetch(path: string, dest: string, options: FetchOptions): Promise<FetchResult> {
    const part = `${dest}.part`;
    const sidecar = `${dest}.part.json`;
    let reconnects = 0;
    let resumedFrom = -1;
    let fh: FileHandle | undefined;
    let hash: Hash | undefined;
    let written = 0;
    let meta: { size: number; mtime: number; sha256: string } | undefined;
    const lost = () => {
      reconnects++;
      this.#stats.reconnects++;
      if (reconnects >= this.#attempts)
        throw new ZgError(
          "ZG_RETRIES_EXHAUSTED",
          `${path}: no answer from ${this.#server} after ${reconnects} rounds`,
          {
            details: { path, written, reconnects },
          },
        );
      this.emit("fetch:resume", { path, offset: written, reconnects });
      this.#connect();
    };
    try {
      for (;;) {
        const req = this.#nextReq++ >>> 0;
        this.#inboxes.set(req, { items: [], wake: undefined });
        try {
          this.#send({ command: "OPEN", req, path });
          const answer = await this.#next(req, options.signal);
          if (answer === undefined) {
            lost();
            continue;
          }
          if (answer.command === "ERROR") throw refusal(path, answer);
          if (answer.command !== "META") continue;
          const m = {
            size: answer.size,
            mtime: answer.mtime,
            sha256: answer.sha256.toString("hex"),
          };
          if (
            meta === undefined ||
            meta.size !== m.size ||
            meta.mtime !== m.mtime ||
            meta.sha256 !== m.sha256
          ) {
            // First round, or the file changed: take the partial file only if it belongs to this version.
            await fh?.close();
            fh = undefined;
            meta = m;
            const previous = await readFile(sidecar, "utf8").then(
              (s) => JSON.parse(s) as typeof m,
              () => undefined,
            );
            const same =
              previous?.size === m.size &&
              previous.mtime === m.mtime &&
              previous.sha256 === m.sha256;
            const have = same
              ? await stat(part).then(
                  (s) => Math.min(s.size, m.size),
                  () => 0,
                )
              : 0;
            if (!same) await writeFile(sidecar, JSON.stringify(m));
            fh = await open(part, have > 0 ? "r+" : "w");
            await fh.truncate(have);
            hash = createHash("sha256");
            if (have > 0) await hashPrefix(part, have, hash);
            written = have;
            if (resumedFrom < 0) resumedFrom = have;
          }
          const done = await this.#pump(
            req,
            path,
            meta,
            fh!,
            hash!,
            written,
            options,
            (w) => (written = w),
          );
          if (done) break;
          lost();
        } finally {
          this.#inboxes.delete(req);
        }
      }
      await fh!.close();
      fh = undefined;
      const digest = hash!.digest("hex");
      if (digest !== meta.sha256) {
        await rm(part, { force: true });
        await rm(sidecar, { force: true });
        throw new ZgError(
          "ZG_PROTOCOL",
          `${path}: SHA-256 mismatch (got ${digest}, server said ${meta.sha256})`,
        );
      }
      await rename(part, dest);
      await rm(sidecar, { force: true });
      return {
        size: meta.size,
        mtime: meta.mtime,
        sha256: digest,
        resumedFrom: Math.max(0, resumedFrom),
        reconnects,
      };
    } finally {
      await fh?.close();
    }
  }

  /** Streams chunks from `written` to the end with credit. Resolves true when complete, false after silence or a gap. */
  async #pump(
    req: number,
    path: string,
    meta: { size: number; mtime: number },
    fh: FileHandle,
    hash: Hash,
    start: number,
    options: FetchOptions,
    progress: (written: number) => void,
  ): Promise<boolean> {
    const rx = new CreditReceiver({
      window: this.#credit,
      slice: Math.min(this.#chunk, this.#credit),
    });
    let written = start;
    let next = start;
    const fill = () => {
      while (
        next < meta.size &&
        next - start + Math.min(this.#chunk, meta.size - next) <= rx.limit
      ) {
        const length = Math.min(this.#chunk, meta.size - next);
        this.#send({
          command: "FETCH",
          req,
          path,
          offset: next,
          length,
          size: meta.size,
          mtime: meta.mtime,
        });
        next += length;
      }
    };
    fill();
    while (written < meta.size) {
      const m = await this.#next(req, options.signal);
      if (m === undefined) return false;
      if (m.command === "ERROR") {
        if (m.status === "429") return false;
        if (m.status === "409") return false; // changed: the next round re-opens and starts again
        throw refusal(path, m);
      }
      if (m.command !== "CHUNK") continue;
      const seq = Math.round((m.offset - start) / this.#chunk);
      const verdict =
        m.offset === written
          ? rx.receive(seq, m.data.length)
          : m.offset < written
            ? "stale"
            : "gap";
      if (verdict === "stale") continue;
      if (verdict === "gap") {
        this.#stats.sequenceErrors++;
        this.emit("credit:gap", { path, expected: written, got: m.offset });
        return false;
      }
      await fh.write(m.data, 0, m.data.length, written);
      hash.update(m.data);
      written += m.data.length;
      this.#stats.bytesReceived += m.data.length;
      progress(written);
      options.onProgress?.({ bytes: written, size: meta.size });
      rx.consume(m.data.length);
      if (rx.shouldGrant()) rx.grant();
      fill();
    }
    return true;
  }
}

function refusal(path: string, m: Extract<FileMessage, { command: "ERROR" }>): ZgError {
  return new ZgError("ZG_STORAGE", `${path}: ${m.status} ${m.reason}`, {
    details: { path, status: m.status, reason: m.reason },
  });
}

function hashPrefix(path: string, length: number, hash: Hash): Promise<void> {
  return new Promise((resolve, reject) => {
    createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1 << 20 })
      .on("data", (d) => hash.update(d))
      .on("error", reject)
      .on("end", () => resolve());
  });
}
