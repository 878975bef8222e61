import type { Writable } from "node:stream";
import * as zmq from "zeromq";
import {
  bindAll,
  Component,
  connectAll,
  createDealer,
  createRouter,
  createSocket,
  durationOption,
  ExpiryTable,
  identityKey,
  integerOption,
  lingerOption,
  SocketLoop,
  systemClock,
  validateEndpoint,
  ZgError,
  type Clock,
  type ComponentOptions,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { CaptureSink, type CaptureSinkStats } from "./capture.js";
import {
  DEFAULT_CAPTURE_BUFFER,
  DEFAULT_DUMP_FRAME_BYTES,
  DEFAULT_TRACE_MAX_PEERS,
  DEFAULT_TRACE_PEER_IDLE,
} from "./constants.js";
import { formatDump, toJsonLine, type TraceDirection, type TraceRecord } from "./record.js";

/**
 * The socket pair of a {@link TraceProxy}:
 * - `router-dealer`: frontend ROUTER; one backend DEALER per frontend peer
 *   (with the peer's routing id when it is printable), so a ROUTER broker behind
 *   the proxy sees each peer as its own connection and the frames unchanged;
 * - `xsub-xpub`: frontend XSUB (towards publishers), backend XPUB (towards
 *   subscribers); subscriptions travel backend → frontend;
 * - `pull-push`: frontend PULL, backend PUSH, one way.
 */
export type TraceMode = "router-dealer" | "xsub-xpub" | "pull-push";

/** Options of {@link TraceProxy}. */
export interface TraceProxyOptions extends ComponentOptions, LingerOptions {
  mode: TraceMode;
  /**
   * Frontend endpoints. `@endpoint` binds, `>endpoint` connects (czmq's
   * notation); a bare endpoint binds.
   */
  frontend: string | readonly string[];
  /** Backend endpoints; a bare endpoint connects. `router-dealer` needs connect endpoints only. */
  backend: string | readonly string[];
  /** Where to write the JSONL capture (one line per message). */
  jsonl?: Writable;
  /** Where to write the readable dump. */
  dump?: Writable;
  /** Records each sink buffers before dropping new ones. @defaultValue {@link DEFAULT_CAPTURE_BUFFER} */
  captureBuffer?: number;
  /** Bytes per frame shown in the dump. @defaultValue {@link DEFAULT_DUMP_FRAME_BYTES} */
  dumpFrameBytes?: number;
  /** `router-dealer`: most peers with a backend DEALER. @defaultValue {@link DEFAULT_TRACE_MAX_PEERS} */
  maxPeers?: number;
  /** `router-dealer`: close a silent peer's DEALER after this many ms; 0 = never. @defaultValue {@link DEFAULT_TRACE_PEER_IDLE} */
  peerIdle?: number;
  /** Called with every record, synchronously, before it reaches the sinks (tests, custom sinks). */
  onRecord?: (record: TraceRecord) => void;
  /** ms `close()` waits for the sinks to write what they hold. @defaultValue 1000 */
  flushTimeout?: number;
  /** Monotonic clock for `t`. @defaultValue systemClock */
  clock?: Clock;
}

/** Counters of a {@link TraceProxy}. */
export interface TraceProxyStats {
  /** Messages forwarded frontend → backend / backend → frontend. */
  forwarded: { f2b: number; b2f: number };
  /** Messages that could not be forwarded (socket queue full, peer unreachable, peer limit). */
  notForwarded: number;
  /** Records handed to the sinks. */
  captured: number;
  jsonl?: CaptureSinkStats;
  dump?: CaptureSinkStats;
  /** `router-dealer`: peers with a backend DEALER now; refused at the limit; closed when idle. */
  peers: number;
  peersRefused: number;
  peersIdled: number;
  /** `onRecord` calls that threw (logged). */
  recordHandlerErrors: number;
  /** Times the frontend reader paused because the backend's send queue was full (backpressure). */
  pauses: number;
}

interface Split {
  bind: string[];
  connect: string[];
}

function split(name: string, value: string | readonly string[], bare: "bind" | "connect"): Split {
  const list = typeof value === "string" ? [value] : [...value];
  if (list.length === 0)
    throw new ZgError("ZG_INVALID_ARGUMENT", `${name} needs at least one endpoint`);
  const out: Split = { bind: [], connect: [] };
  for (const raw of list) {
    if (typeof raw !== "string")
      throw new ZgError("ZG_INVALID_ARGUMENT", `${name}: not a ZeroMQ endpoint`);
    const how = raw.startsWith("@") ? "bind" : raw.startsWith(">") ? "connect" : bare;
    const e = validateEndpoint(
      name,
      raw.startsWith("@") || raw.startsWith(">") ? raw.slice(1) : raw,
    );
    out[how].push(e);
  }
  return out;
}

interface PeerLink {
  id: Buffer;
  loop: SocketLoop;
}

/** Send-queue depth at which the reader waits for the writer (checked every 64 messages; the queue bound is 10 000). */
const BACKPRESSURE_QUEUE = 1000;

const MODES: readonly TraceMode[] = ["router-dealer", "xsub-xpub", "pull-push"];

/**
 * The Guide's "queue device that prints out message parts" (notes; ch. 5
 * Espresso): a transparent proxy between a frontend and a backend that
 * forwards every message unchanged and captures each one, as JSONL and as a
 * readable dump. Written on `SocketLoop`s, not zeromq.js `Proxy` (which holds
 * a libuv thread and exposes no messages). Capture never slows forwarding: a
 * sink that cannot keep up drops records (counted), never messages.
 *
 * @example
 * ```ts
 * const proxy = new TraceProxy({ mode: "router-dealer", frontend: "tcp://127.0.0.1:*", backend: brokerEndpoint, dump: process.stderr });
 * const { frontend } = await proxy.start();
 * ```
 */
export class TraceProxy extends Component<
  Record<never, never>,
  TraceProxyStats,
  { frontend: string[]; backend: string[] }
> {
  readonly #linger: number;
  readonly #o: TraceProxyOptions;
  readonly #front: Split;
  readonly #back: Split;
  readonly #clock: Clock;
  readonly #maxPeers: number;
  readonly #peerIdle: number;
  readonly #flushTimeout: number;
  readonly #jsonl: CaptureSink | undefined;
  readonly #dump: CaptureSink | undefined;
  #origin = 0;
  #seq = 0;
  #frontLoop: SocketLoop | undefined;
  readonly #peers = new Map<string, PeerLink>();
  #idle: ExpiryTable<string> | undefined;
  readonly #stats = {
    f2b: 0,
    b2f: 0,
    notForwarded: 0,
    captured: 0,
    peersRefused: 0,
    peersIdled: 0,
    recordHandlerErrors: 0,
    pauses: 0,
  };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: TraceProxyOptions) {
    super("TraceProxy", options);
    this.#linger = lingerOption(options.linger);
    if (!MODES.includes(options.mode)) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `mode must be one of ${MODES.join(", ")}, got ${String(options.mode)}`,
      );
    }
    this.#o = options;
    this.#front = split("frontend", options.frontend, "bind");
    this.#back = split("backend", options.backend, "connect");
    if (options.mode === "router-dealer" && this.#back.bind.length > 0) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        "backend: router-dealer connects one DEALER per peer; give connect endpoints only",
      );
    }
    this.#clock = options.clock ?? systemClock;
    this.#maxPeers = integerOption("maxPeers", options.maxPeers, DEFAULT_TRACE_MAX_PEERS, {
      min: 1,
    });
    this.#peerIdle = durationOption("peerIdle", options.peerIdle, DEFAULT_TRACE_PEER_IDLE);
    this.#flushTimeout = durationOption("flushTimeout", options.flushTimeout, 1000);
    const limit = integerOption("captureBuffer", options.captureBuffer, DEFAULT_CAPTURE_BUFFER, {
      min: 1,
    });
    const bytes = integerOption(
      "dumpFrameBytes",
      options.dumpFrameBytes,
      DEFAULT_DUMP_FRAME_BYTES,
      { min: 1 },
    );
    this.#jsonl =
      options.jsonl === undefined ? undefined : new CaptureSink(options.jsonl, toJsonLine, limit);
    this.#dump =
      options.dump === undefined
        ? undefined
        : new CaptureSink(options.dump, (r) => formatDump(r, bytes), limit);
  }

  protected async onStart(): Promise<{ frontend: string[]; backend: string[] }> {
    this.#origin = this.#clock.now();
    // Released last (own() is LIFO): the sinks get what the loops captured before they closed.
    this.own(async () => {
      await Promise.all([
        this.#jsonl?.flush(this.#flushTimeout),
        this.#dump?.flush(this.#flushTimeout),
      ]);
    });
    switch (this.#o.mode) {
      case "router-dealer":
        return this.#startRouter();
      case "xsub-xpub":
        return this.#startPair(
          createSocket(zmq.XSubscriber, { linger: this.#linger }),
          createSocket(zmq.XPublisher, { linger: this.#linger }),
          true,
        );
      case "pull-push":
        return this.#startPair(
          createSocket(zmq.Pull, { linger: this.#linger }),
          createSocket(zmq.Push, { linger: this.#linger }),
          false,
        );
    }
  }

  async #bindConnect(socket: zmq.Socket, s: Split): Promise<string[]> {
    const bound = await bindAll(socket, s.bind);
    connectAll(socket, s.connect);
    return [...bound, ...s.connect];
  }

  async #startPair(
    front: zmq.Socket,
    back: zmq.Socket,
    bothWays: boolean,
  ): Promise<{ frontend: string[]; backend: string[] }> {
    const frontLoop: SocketLoop = this.own(
      new SocketLoop(front, {
        name: "trace-frontend",
        logger: this.logger,
        onMessage: (m) => this.#forward("f2b", undefined, m, backLoop),
        onSendFailure: () => void this.#stats.notForwarded++,
      }),
    );
    const backLoop: SocketLoop = this.own(
      new SocketLoop(back, {
        name: "trace-backend",
        logger: this.logger,
        onSendFailure: () => void this.#stats.notForwarded++,
        ...(bothWays
          ? { onMessage: (m: Message) => this.#forward("b2f", undefined, m, frontLoop) }
          : {}),
      }),
    );
    this.#frontLoop = frontLoop;
    const frontend = await this.#bindConnect(front, this.#front);
    const backend = await this.#bindConnect(back, this.#back);
    frontLoop.start();
    backLoop.start();
    return { frontend, backend };
  }

  async #startRouter(): Promise<{ frontend: string[]; backend: string[] }> {
    const router = createRouter({ linger: this.#linger });
    const frontLoop = this.own(
      new SocketLoop(router, {
        name: "trace-frontend",
        logger: this.logger,
        onMessage: (m) => this.#fromPeer(m),
        onSendFailure: () => void this.#stats.notForwarded++,
      }),
    );
    this.#frontLoop = frontLoop;
    this.own(() => this.#closePeers());
    if (this.#peerIdle > 0) {
      this.#idle = this.own(
        new ExpiryTable<string>({
          clock: this.#clock,
          granularity: Math.min(1000, Math.max(10, this.#peerIdle / 10)),
          onExpire: (key) => {
            const p = this.#peers.get(key);
            this.#peers.delete(key);
            this.#stats.peersIdled++;
            void p?.loop.close();
          },
        }),
      );
    }
    const frontend = await this.#bindConnect(router, this.#front);
    frontLoop.start();
    return { frontend, backend: [...this.#back.connect] };
  }

  #fromPeer(m: Message): void | Promise<void> {
    const id = m[0];
    if (id === undefined || m.length < 2) return; // a ROUTER always gives [id, …]; an empty message has nothing to forward
    const key = identityKey(id);
    let peer = this.#peers.get(key);
    if (peer === undefined) {
      if (this.#peers.size >= this.#maxPeers) {
        this.#stats.peersRefused++;
        this.#stats.notForwarded++;
        this.logger.warn("peer limit reached; message from a new peer dropped", {
          maxPeers: this.#maxPeers,
        });
        return;
      }
      peer = this.#openPeer(id, key);
    }
    this.#idle?.set(key, this.#peerIdle);
    return this.#forward("f2b", id, m.slice(1), peer.loop);
  }

  #openPeer(id: Buffer, key: string): PeerLink {
    const printable = id.length > 0 && id[0] !== 0 && id.every((c) => c >= 0x20 && c <= 0x7e);
    const dealer = createDealer({
      linger: this.#linger,
      ...(printable ? { routingId: id.toString("latin1") } : {}),
    });
    const idCopy = Buffer.from(id);
    const loop = new SocketLoop(dealer, {
      name: "trace-backend-peer",
      logger: this.logger,
      onMessage: (reply) => {
        if (this.#peers.get(key)?.loop === loop) this.#idle?.set(key, this.#peerIdle);
        // Towards the ROUTER: never waits (mandatory, sendTimeout 0); a vanished or slow peer is counted.
        void this.#forward("b2f", idCopy, reply, this.#frontLoop as SocketLoop, idCopy, false);
      },
      onSendFailure: () => void this.#stats.notForwarded++,
    });
    connectAll(dealer, this.#back.connect);
    loop.start();
    const link = { id: idCopy, loop };
    this.#peers.set(key, link);
    return link;
  }

  async #closePeers(): Promise<void> {
    const loops = [...this.#peers.values()].map((p) => p.loop.close());
    this.#peers.clear();
    await Promise.all(loops);
  }

  /**
   * Forwards one message and captures it. With `backpressure`, when the
   * target's send queue holds {@link BACKPRESSURE_QUEUE} messages the returned
   * promise makes the reader wait until it is written out (a slow backend
   * pauses the frontend, as zmq_proxy does) instead of overflowing it.
   */
  #forward(
    dir: TraceDirection,
    peer: Buffer | undefined,
    frames: Message,
    to: SocketLoop,
    prefix?: Buffer,
    backpressure = true,
  ): void | Promise<void> {
    const record: TraceRecord = {
      seq: ++this.#seq,
      t: this.#clock.now() - this.#origin,
      wall: Date.now(),
      dir,
      ...(peer === undefined ? {} : { peer }),
      frames,
    };
    if (dir === "f2b") this.#stats.f2b++;
    else this.#stats.b2f++;
    to.post(prefix === undefined ? frames : [prefix, ...frames]);
    this.#capture(record);
    if (backpressure && (this.#seq & 63) === 0 && to.stats().queued >= BACKPRESSURE_QUEUE) {
      this.#stats.pauses++;
      return to.flush();
    }
  }

  #capture(record: TraceRecord): void {
    this.#stats.captured++;
    if (this.#o.onRecord !== undefined) {
      try {
        this.#o.onRecord(record);
      } catch (error) {
        this.#stats.recordHandlerErrors++;
        this.logger.error("onRecord threw", { error: String(error) });
      }
    }
    this.#jsonl?.push(record);
    this.#dump?.push(record);
  }

  stats(): TraceProxyStats {
    return {
      forwarded: { f2b: this.#stats.f2b, b2f: this.#stats.b2f },
      notForwarded: this.#stats.notForwarded,
      captured: this.#stats.captured,
      ...(this.#jsonl === undefined ? {} : { jsonl: this.#jsonl.stats() }),
      ...(this.#dump === undefined ? {} : { dump: this.#dump.stats() }),
      peers: this.#peers.size,
      peersRefused: this.#stats.peersRefused,
      peersIdled: this.#stats.peersIdled,
      recordHandlerErrors: this.#stats.recordHandlerErrors,
      pauses: this.#stats.pauses,
    };
  }
}
