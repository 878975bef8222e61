import { createServer, type Server, type Socket } from "node:net";
import { DEFAULT_MDP_GATEWAY_SERVICE_CACHE, isHostPort, listenOn, MdpGateway } from "@zg/app-kit";
import {
  assertArgument,
  Component,
  durationOption,
  integerOption,
  type ComponentOptions,
} from "@zg/core";
import { DEFAULT_MDP_CLIENT_TIMEOUT } from "@zg/pirate";
import { LineSplitter } from "./line-splitter.js";

/** Open TCP connections before new ones are refused (project-chosen). */
export const DEFAULT_TCP_BRIDGE_MAX_CONNECTIONS = 1000;
/** Longest request line in bytes, without its end (project-chosen). */
export const DEFAULT_TCP_BRIDGE_MAX_LINE_LENGTH = 65_536;
/** A connection with no request for this long is closed, ms (project-chosen; 0 = never). */
export const DEFAULT_TCP_BRIDGE_IDLE_TIMEOUT = 60_000;
/** Request lines a connection may have waiting or in flight (project-chosen). */
export const DEFAULT_TCP_BRIDGE_MAX_PIPELINED = 16;
/** How long a service lookup (8/MMI `mmi.service`) is trusted, ms (project-chosen). */
export const TCP_BRIDGE_SERVICE_CACHE = DEFAULT_MDP_GATEWAY_SERVICE_CACHE;

/** The error codes of the `ERR <code> <text>` line. */
export type TcpBridgeErrorCode =
  | "unknown-service"
  | "timeout"
  | "unavailable"
  | "bad-request"
  | "busy"
  | "line-too-long"
  | "not-text"
  | "idle";

/** Options of {@link TcpBridge}. Durations in ms. */
export interface TcpBridgeOptions extends ComponentOptions {
  /** `host:port` to listen on (port 0 = any free port). */
  listen: string;
  /** The Majordomo broker's endpoint. */
  broker: string;
  /** Every line goes to this service; without it, a line is `<service> <payload>`. */
  service?: string;
  /** @defaultValue {@link DEFAULT_TCP_BRIDGE_MAX_CONNECTIONS} */
  maxConnections?: number;
  /** @defaultValue {@link DEFAULT_TCP_BRIDGE_MAX_LINE_LENGTH} */
  maxLineLength?: number;
  /** @defaultValue {@link DEFAULT_TCP_BRIDGE_IDLE_TIMEOUT} */
  idleTimeout?: number;
  /** Reply timeout per request. @defaultValue `DEFAULT_MDP_CLIENT_TIMEOUT` (2500 ms, Guide `mdcliapi`) */
  requestTimeout?: number;
  /** @defaultValue {@link DEFAULT_TCP_BRIDGE_MAX_PIPELINED} */
  maxPipelined?: number;
  /** Ask the broker (8/MMI) whether a service exists before sending to it. @defaultValue true */
  checkServices?: boolean;
}

/** Counters of a {@link TcpBridge}. */
export interface TcpBridgeStats {
  /** Open connections now. */
  clients: number;
  accepted: number;
  /** Connections refused beyond `maxConnections`. */
  refused: number;
  requests: number;
  replies: number;
  /** Requests answered with an `ERR` line (unknown service, timeout, unavailable). */
  failed: number;
  /** Connections closed for bad input (line too long, not text, too many pipelined). */
  protocolErrors: number;
  /** Connections closed after `idleTimeout`. */
  idleClosed: number;
  /** Requests waiting for a reply now. */
  inFlight: number;
}

/** Events of a {@link TcpBridge}. */
export interface TcpBridgeEvents {
  /** A connection sent bad input and was closed. */
  "protocol:invalid": { peer: string; reason: TcpBridgeErrorCode };
}

interface Connection {
  socket: Socket;
  peer: string;
  splitter: LineSplitter;
  queue: string[];
  busy: boolean;
  closing: boolean;
  idle: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Bridges line-based TCP clients to Majordomo services: one request line in,
 * one reply line out (`OK <reply>` or `ERR <code> <text>`), in order per
 * connection. A plain `node:net` server: connection, line-length, pipelining
 * and idle limits apply per connection, and bad input closes only that
 * connection, after one `ERR` line that says why.
 *
 * @example
 * ```ts
 * const bridge = new TcpBridge({ listen: "127.0.0.1:0", broker: "tcp://127.0.0.1:5555", service: "echo" });
 * const { address } = await bridge.start(); // printf 'hello\n' | nc 127.0.0.1 <port>  →  OK hello
 * ```
 */
export class TcpBridge extends Component<TcpBridgeEvents, TcpBridgeStats, { address: string }> {
  readonly #o: Required<Omit<TcpBridgeOptions, keyof ComponentOptions | "service">> & {
    service: string | undefined;
  };
  readonly #connections = new Set<Connection>();
  readonly #stats = {
    accepted: 0,
    refused: 0,
    requests: 0,
    replies: 0,
    failed: 0,
    protocolErrors: 0,
    idleClosed: 0,
    inFlight: 0,
  };
  #mdp: MdpGateway | undefined;
  #server: Server | undefined;

  constructor(options: TcpBridgeOptions) {
    super("TcpBridge", options);
    assertArgument(
      isHostPort(options.listen),
      `listen must be host:port, got ${JSON.stringify(options.listen)}`,
    );
    assertArgument(
      options.service === undefined || /^\S+$/.test(options.service),
      "service must be a non-empty name without spaces",
    );
    this.#o = {
      listen: options.listen,
      broker: options.broker,
      service: options.service,
      maxConnections: integerOption(
        "maxConnections",
        options.maxConnections,
        DEFAULT_TCP_BRIDGE_MAX_CONNECTIONS,
        { min: 1 },
      ),
      maxLineLength: integerOption(
        "maxLineLength",
        options.maxLineLength,
        DEFAULT_TCP_BRIDGE_MAX_LINE_LENGTH,
        { min: 1 },
      ),
      idleTimeout: durationOption(
        "idleTimeout",
        options.idleTimeout,
        DEFAULT_TCP_BRIDGE_IDLE_TIMEOUT,
      ),
      requestTimeout: durationOption(
        "requestTimeout",
        options.requestTimeout,
        DEFAULT_MDP_CLIENT_TIMEOUT,
        { min: 1 },
      ),
      maxPipelined: integerOption(
        "maxPipelined",
        options.maxPipelined,
        DEFAULT_TCP_BRIDGE_MAX_PIPELINED,
        {
          min: 1,
        },
      ),
      checkServices: options.checkServices ?? true,
    };
  }

  stats(): TcpBridgeStats {
    return { clients: this.#connections.size, ...this.#stats };
  }

  protected async onStart(): Promise<{ address: string }> {
    const mdp = this.own(
      new MdpGateway({
        broker: this.#o.broker,
        timeout: this.#o.requestTimeout,
        serviceCache: TCP_BRIDGE_SERVICE_CACHE,
        logger: this.logger,
      }),
    );
    await mdp.start();
    this.#mdp = mdp;
    // Half-open: a client that sends its lines and then FIN (`echo … | nc`) still gets its replies.
    const server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    this.own(() => this.#closeServer());
    const address = await listenOn(server, this.#o.listen);
    this.#server = server;
    return { address };
  }

  protected override onDrain(): void {
    this.#server?.close();
  }

  protected override inFlight(): number {
    return this.#stats.inFlight;
  }

  #accept(socket: Socket): void {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on("error", () => {}); // a reset by the peer ends the connection; nothing to report
    if (!this.accepting || this.#connections.size >= this.#o.maxConnections) {
      this.#stats.refused += 1;
      socket.end("ERR busy too many connections\n");
      socket.destroySoon();
      return;
    }
    this.#stats.accepted += 1;
    socket.setNoDelay(true);
    const c: Connection = {
      socket,
      peer,
      splitter: new LineSplitter(this.#o.maxLineLength),
      queue: [],
      busy: false,
      closing: false,
      idle: undefined,
    };
    this.#connections.add(c);
    this.#touch(c);
    socket.on("data", (chunk: Buffer) => this.#data(c, chunk));
    socket.on("close", () => {
      clearTimeout(c.idle);
      c.closing = true;
      this.#connections.delete(c);
    });
    socket.on("end", () => {
      // Half-close from the client (e.g. `nc -N`): answer what is queued, then end.
      c.closing = true;
      if (!c.busy) socket.end();
    });
  }

  #touch(c: Connection): void {
    clearTimeout(c.idle);
    if (this.#o.idleTimeout === 0) return;
    c.idle = setTimeout(() => {
      if (c.busy) return this.#touch(c);
      this.#stats.idleClosed += 1;
      this.#refuse(c, "idle", `no request for ${this.#o.idleTimeout} ms`, false);
    }, this.#o.idleTimeout);
  }

  #data(c: Connection, chunk: Buffer): void {
    if (c.closing) return;
    this.#touch(c);
    const result = c.splitter.push(chunk);
    c.queue.push(...result.lines);
    if (!result.ok) {
      c.queue.length = 0;
      const why =
        result.reason === "line-too-long"
          ? `a line is longer than ${this.#o.maxLineLength} bytes`
          : "a line is not UTF-8 text";
      return this.#refuse(c, result.reason, why, true);
    }
    if (c.queue.length > this.#o.maxPipelined) {
      c.queue.length = 0;
      return this.#refuse(c, "busy", `more than ${this.#o.maxPipelined} requests pipelined`, true);
    }
    void this.#serve(c);
  }

  /** Sends one ERR line and closes the connection. */
  #refuse(c: Connection, code: TcpBridgeErrorCode, text: string, protocol: boolean): void {
    if (c.closing && c.socket.destroyed) return;
    c.closing = true;
    if (protocol) {
      this.#stats.protocolErrors += 1;
      this.emit("protocol:invalid", { peer: c.peer, reason: code });
      this.logger.warn("bad input from a TCP client; connection closed", { peer: c.peer, code });
    }
    c.socket.end(`ERR ${code} ${text}\n`);
    // Unread input must not keep the connection: the peer has had its line.
    setTimeout(() => c.socket.destroy(), 1000).unref();
  }

  async #serve(c: Connection): Promise<void> {
    if (c.busy) return;
    c.busy = true;
    try {
      for (let line = c.queue.shift(); line !== undefined; line = c.queue.shift()) {
        const reply = await this.track(this.#request(line));
        if (c.socket.destroyed) return;
        if (!c.socket.write(`${reply}\n`)) {
          // A slow reader: take no more requests from it until its reply is read.
          c.socket.pause();
          await new Promise<void>((r) => c.socket.once("drain", r).once("close", r));
          c.socket.resume();
        }
      }
      if (c.closing && !c.socket.destroyed) c.socket.end();
    } finally {
      c.busy = false;
    }
  }

  async #request(line: string): Promise<string> {
    const mdp = this.#mdp;
    let service = this.#o.service;
    let payload = line;
    if (service === undefined) {
      const m = /^(\S+)(?: (.*))?$/s.exec(line);
      if (m === null) return "ERR bad-request expected <service> <payload>";
      service = m[1] ?? "";
      payload = m[2] ?? "";
    }
    if (mdp === undefined || !this.running) return "ERR unavailable the bridge is stopping";
    this.#stats.requests += 1;
    this.#stats.inFlight += 1;
    try {
      const out = await mdp.request(service, [payload], { checkService: this.#o.checkServices });
      if (!out.ok) {
        this.#stats.failed += 1;
        return `ERR ${out.code} ${out.message}`;
      }
      this.#stats.replies += 1;
      return `OK ${out.reply
        .map((f) => f.toString("utf8"))
        .join(" ")
        .replace(/[\r\n]/g, " ")}`;
    } finally {
      this.#stats.inFlight -= 1;
    }
  }

  async #closeServer(): Promise<void> {
    for (const c of this.#connections) {
      clearTimeout(c.idle);
      c.socket.destroy();
    }
    this.#connections.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
