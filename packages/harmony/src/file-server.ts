import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, realpath, stat, type FileHandle } from "node:fs/promises";
import { isAbsolute, join, sep } from "node:path";
import {
  bindAll,
  Component,
  createRouter,
  endpointsOption,
  identityKey,
  integerOption,
  lingerOption,
  SocketLoop,
  ZgError,
  type BoundEndpoints,
  type ComponentOptions,
  type Frame,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { decodeFile, encodeFile, type FileMessage, type FileStatus } from "./protocol/file.js";

/** Largest chunk a client may ask for in one FETCH, bytes. Project value: 4 × fileio3's 250 000-byte `CHUNK_SIZE`, rounded to 1 MiB. */
export const MAX_FILE_CHUNK = 1_048_576;

/**
 * Most bytes a file server reads for one client before that client's chunks
 * were handed to libzmq; a FETCH beyond it is answered `429`. Project value: 8 MiB.
 */
export const DEFAULT_SERVER_CLIENT_BUFFER = 8_388_608;

/**
 * Send high-water mark of the file server's ROUTER, in messages per client:
 * a client that stops reading costs at most this many chunks in libzmq
 * (fileio3 sets PIPELINE × 2 as its sanity check). Project value.
 */
export const DEFAULT_SERVER_SEND_HWM = 64;

/** Options of {@link FileServer}. */
export interface FileServerOptions extends ComponentOptions, LingerOptions {
  /** Directory served; requests cannot leave it. */
  root: string;
  /** Endpoints to bind. @defaultValue `["tcp://127.0.0.1:*"]` */
  endpoints?: string | readonly string[];
  /** Per-client read buffer bound, bytes. @defaultValue {@link DEFAULT_SERVER_CLIENT_BUFFER} */
  clientBuffer?: number;
  /** ROUTER send high-water mark, messages. @defaultValue {@link DEFAULT_SERVER_SEND_HWM} */
  sendHighWaterMark?: number;
}

/** Events of a {@link FileServer}. */
export interface FileServerEvents {
  /** A request was refused with a status (path escape, missing file, …). */
  "request:refused": { path: string; status: FileStatus; reason: string };
  /** Bad input from the network, dropped. */
  "protocol:invalid": { reason: string };
}

/** Counters of a {@link FileServer}. */
export interface FileServerStats {
  opens: number;
  chunks: number;
  bytesSent: number;
  /** Requests answered with an ERROR status. */
  refused: number;
  /** Chunks libzmq would not take (client gone or its HWM full): the client re-requests them. */
  dropped: number;
  /** Bytes read and not yet handed to libzmq now (level). */
  buffered: number;
  /** Clients with buffered bytes now (level). */
  clients: number;
  protocolErrors: number;
}

type Resolved =
  { path: string; size: number; mtime: number } | { status: FileStatus; reason: string };

/**
 * The file server of chapter 7's `fileio3`, grown into what the chapter says a
 * real protocol needs: a metadata answer first (size, mtime, SHA-256), chunk
 * requests by offset (so a client resumes after a disconnect or a server
 * restart), several files per connection, and a root directory that no request
 * can leave (`..`, absolute paths and symlinks out are refused with `403`).
 * Stateless per request: what a client may have in flight is its own credit;
 * the server bounds what it buffers per client (`clientBuffer`) and what libzmq
 * queues per client (`sendHighWaterMark`). Owns its socket.
 *
 * @example
 * ```ts
 * const server = new FileServer({ root: "/srv/files" });
 * const { endpoints } = await server.start();
 * ```
 */
export class FileServer extends Component<FileServerEvents, FileServerStats, BoundEndpoints> {
  readonly #linger: number;
  readonly #options: FileServerOptions;
  readonly #endpoints: string[];
  readonly #clientBuffer: number;
  readonly #hwm: number;
  #root = "";
  #loop: SocketLoop | undefined;
  readonly #buffered = new Map<string, number>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #handles = new Map<
    string,
    { fh: Promise<FileHandle>; timer: ReturnType<typeof setTimeout> | undefined }
  >();
  readonly #hashes = new Map<string, { size: number; mtime: number; sha: Promise<Buffer> }>();
  readonly #stats = {
    opens: 0,
    chunks: 0,
    bytesSent: 0,
    refused: 0,
    dropped: 0,
    protocolErrors: 0,
  };
  #bufferedTotal = 0;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: FileServerOptions) {
    super("FileServer", options);
    this.#linger = lingerOption(options.linger);
    if (typeof options.root !== "string" || options.root === "")
      throw new ZgError("ZG_INVALID_ARGUMENT", "root must be a directory path");
    this.#options = options;
    this.#endpoints = endpointsOption("endpoints", options.endpoints ?? ["tcp://127.0.0.1:*"]);
    this.#clientBuffer = integerOption(
      "clientBuffer",
      options.clientBuffer,
      DEFAULT_SERVER_CLIENT_BUFFER,
      {
        min: MAX_FILE_CHUNK,
      },
    );
    this.#hwm = integerOption(
      "sendHighWaterMark",
      options.sendHighWaterMark,
      DEFAULT_SERVER_SEND_HWM,
      {
        min: 1,
      },
    );
  }

  stats(): FileServerStats {
    return { ...this.#stats, buffered: this.#bufferedTotal, clients: this.#buffered.size };
  }

  protected async onStart(): Promise<BoundEndpoints> {
    this.#root = await realpath(this.#options.root);
    if (!(await stat(this.#root)).isDirectory())
      throw new ZgError("ZG_INVALID_ARGUMENT", `root ${this.#options.root} is not a directory`);
    const router = createRouter({
      linger: this.#linger,
      sendHighWaterMark: this.#hwm,
      maxMessageSize: 65_536, // requests are small
    });
    this.#loop = this.own(
      new SocketLoop(router, {
        name: "file-server",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
      }),
    );
    const bound = await bindAll(router, this.#endpoints);
    this.#loop.start();
    return { endpoints: bound };
  }

  #onMessage(m: Message): void {
    const route = m[0];
    if (route === undefined) return;
    let msg: FileMessage;
    try {
      msg = decodeFile(m.slice(1));
    } catch (error) {
      this.#stats.protocolErrors++;
      this.emit("protocol:invalid", { reason: (error as Error).message });
      return;
    }
    if (msg.command === "OPEN") void this.track(this.#open(route, msg.req, msg.path));
    else if (msg.command === "FETCH") this.#fetch(route, msg);
    else {
      this.#stats.protocolErrors++;
      this.emit("protocol:invalid", { reason: `unexpected ${msg.command} from a client` });
    }
  }

  #reply(route: Frame, m: FileMessage): Promise<string> {
    return this.#loop?.send([route, ...encodeFile(m)]) ?? Promise.resolve("closed");
  }

  #refuse(route: Frame, req: number, path: string, status: FileStatus, reason: string): void {
    this.#stats.refused++;
    this.emit("request:refused", { path, status, reason });
    void this.#reply(route, { command: "ERROR", req, status, reason });
  }

  async #resolve(rel: string): Promise<Resolved> {
    if (rel.includes("\0")) return { status: "400", reason: "path contains NUL" };
    if (isAbsolute(rel) || /^[a-zA-Z]:/.test(rel) || rel.startsWith("\\"))
      return { status: "403", reason: "absolute paths are refused" };
    if (rel.split(/[\\/]+/).includes(".."))
      return { status: "403", reason: "path escapes the root (..)" };
    let real: string;
    try {
      real = await realpath(join(this.#root, rel));
    } catch {
      return { status: "404", reason: "no such file" };
    }
    if (!real.startsWith(this.#root + sep))
      return { status: "403", reason: "path leads out of the root (symlink)" };
    try {
      const s = await stat(real);
      if (!s.isFile()) return { status: "404", reason: "not a regular file" };
      return { path: real, size: s.size, mtime: Math.floor(s.mtimeMs) };
    } catch {
      return { status: "404", reason: "no such file" };
    }
  }

  #sha(path: string, size: number, mtime: number): Promise<Buffer> {
    const cached = this.#hashes.get(path);
    if (cached && cached.size === size && cached.mtime === mtime) return cached.sha;
    const sha = new Promise<Buffer>((resolve, reject) => {
      const h = createHash("sha256");
      createReadStream(path, { highWaterMark: 1 << 20 })
        .on("data", (d) => h.update(d))
        .on("error", reject)
        .on("end", () => resolve(h.digest()));
    });
    sha.catch(() => this.#hashes.delete(path));
    if (this.#hashes.size >= 1024) this.#hashes.delete(this.#hashes.keys().next().value!);
    this.#hashes.set(path, { size, mtime, sha });
    return sha;
  }

  async #open(route: Frame, req: number, rel: string): Promise<void> {
    this.#stats.opens++;
    const r = await this.#resolve(rel);
    if ("status" in r) return this.#refuse(route, req, rel, r.status, r.reason);
    try {
      const sha256 = await this.#sha(r.path, r.size, r.mtime);
      void this.#reply(route, { command: "META", req, size: r.size, mtime: r.mtime, sha256 });
    } catch (error) {
      this.#refuse(route, req, rel, "500", `read error: ${(error as Error).message}`);
    }
  }

  #fetch(route: Frame, m: Extract<FileMessage, { command: "FETCH" }>): void {
    if (m.length === 0 || m.length > MAX_FILE_CHUNK)
      return this.#refuse(route, m.req, m.path, "400", `length must be 1..${MAX_FILE_CHUNK}`);
    const key = identityKey(route);
    const held = this.#buffered.get(key) ?? 0;
    if (held + m.length > this.#clientBuffer)
      return this.#refuse(
        route,
        m.req,
        m.path,
        "429",
        "too much requested at once: honour the credit",
      );
    this.#hold(key, m.length);
    // One client's chunks are read and sent in request order (reads complete out of order).
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#read(route, key, m));
    this.#chains.set(key, next);
    void this.track(
      next.finally(() => {
        if (this.#chains.get(key) === next) this.#chains.delete(key);
      }),
    );
  }

  #hold(key: string, bytes: number): void {
    const n = (this.#buffered.get(key) ?? 0) + bytes;
    this.#bufferedTotal += bytes;
    if (n <= 0) this.#buffered.delete(key);
    else this.#buffered.set(key, n);
  }

  async #read(
    route: Frame,
    key: string,
    m: Extract<FileMessage, { command: "FETCH" }>,
  ): Promise<void> {
    let handedOff = false;
    try {
      const r = await this.#resolve(m.path);
      if ("status" in r) return this.#refuse(route, m.req, m.path, r.status, r.reason);
      if (r.size !== m.size || r.mtime !== m.mtime)
        return this.#refuse(route, m.req, m.path, "409", "the file changed since META");
      const length = Math.max(0, Math.min(m.length, r.size - m.offset));
      const data = Buffer.allocUnsafe(length);
      if (length > 0) {
        const fh = await this.#handle(r.path);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(data, got, length - got, m.offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
      }
      this.#stats.chunks++;
      // Posted in request order; the next read starts at once, the buffer is released once libzmq has the chunk.
      handedOff = true;
      void this.#reply(route, { command: "CHUNK", req: m.req, offset: m.offset, data }).then(
        (outcome) => {
          if (outcome === "sent") this.#stats.bytesSent += length;
          else this.#stats.dropped++;
          this.#hold(key, -m.length);
        },
      );
    } catch (error) {
      this.#refuse(route, m.req, m.path, "500", `read error: ${(error as Error).message}`);
    } finally {
      if (!handedOff) this.#hold(key, -m.length);
    }
  }

  /** An open handle on `path`, shared by concurrent reads; closed after a second without use. */
  #handle(path: string): Promise<FileHandle> {
    let entry = this.#handles.get(path);
    if (entry === undefined) {
      const created = {
        fh: open(path, "r"),
        timer: undefined as ReturnType<typeof setTimeout> | undefined,
      };
      created.fh.catch(() => this.#handles.delete(path));
      this.#handles.set(path, created);
      entry = created;
    }
    const e = entry;
    if (e.timer !== undefined) clearTimeout(e.timer);
    e.timer = setTimeout(() => {
      if (this.#handles.get(path) === e) this.#handles.delete(path);
      e.fh.then((fh) => fh.close()).catch(() => {});
    }, 1000);
    return e.fh;
  }

  protected override onClose(): void {
    for (const e of this.#handles.values()) {
      if (e.timer !== undefined) clearTimeout(e.timer);
      e.fh.then((fh) => fh.close()).catch(() => {});
    }
    this.#handles.clear();
  }
}
