import {
  createConnection,
  createServer,
  type AddressInfo,
  type Server,
  type Socket,
} from "node:net";

/** A direction through a {@link FaultProxy}: `up` is client → target, `down` is target → client. */
export type FaultDirection = "up" | "down";

/**
 * What a {@link FaultProxy} does to the bytes of one direction.
 *
 * - `pass`: forward at once.
 * - `blackhole`: stop forwarding, as if every packet were lost: the proxy
 *   stops reading, so the bytes wait in the kernel buffers and TCP
 *   backpressure builds up as during a real partition; the connection stays
 *   open. Back to `pass` (the partition heals) the held bytes flow again, in
 *   order, as TCP retransmission would deliver them.
 * - `delay`: forward each chunk `ms` later (order kept).
 * - `reset`: reset (TCP RST) every connection now and every new one at once.
 */
export type Fault =
  { mode: "pass" } | { mode: "blackhole" } | { mode: "delay"; ms: number } | { mode: "reset" };

/** Counters of a {@link FaultProxy}. */
export interface FaultProxyStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /** Bytes forwarded client → target. */
  bytesUp: number;
  /** Bytes forwarded target → client. */
  bytesDown: number;
  /** Connections reset by the proxy. */
  resets: number;
  /** Fault changes applied (each {@link FaultProxy.set} / {@link FaultProxy.partition} / {@link FaultProxy.heal} call). */
  faults: number;
}

interface Pipe {
  client: Socket;
  upstream: Socket;
  queues: Record<FaultDirection, { due: number; chunk: Buffer }[]>;
  timers: Record<FaultDirection, ReturnType<typeof setTimeout> | undefined>;
  /** The source of this direction sent FIN: end the sink once the queue is written. */
  ended: Record<FaultDirection, boolean>;
}

function parseTcp(endpoint: string): { host: string; port: number } {
  const m = /^(?:tcp:\/\/)?\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint);
  if (m === null) throw new Error(`FaultProxy: not a tcp host:port endpoint: ${endpoint}`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/**
 * A userspace TCP fault proxy for network faults between two processes on
 * one host (reliability-battery.md: partitions, slow links, resets): it
 * listens on `127.0.0.1:<ephemeral>` and forwards each connection to the
 * target, applying a {@link Fault} per direction. Point one side's
 * `connect()` at {@link endpoint} instead of the real address.
 *
 * The target may be set after the proxy starts ({@link setTarget}), so two
 * processes that must know each other's address can both be started
 * through proxies. Connections made before a target is set are held until
 * it is.
 *
 * @example
 * ```ts
 * const proxy = new FaultProxy();
 * const endpoint = await proxy.start();     // tcp://127.0.0.1:40123
 * proxy.setTarget(server.lastEndpoint);
 * proxy.partition();                        // blackhole both ways
 * proxy.heal();
 * await proxy.close();
 * ```
 */
export class FaultProxy {
  readonly #server: Server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
  readonly #pipes = new Set<Pipe>();
  readonly #fault: Record<FaultDirection, Fault> = { up: { mode: "pass" }, down: { mode: "pass" } };
  #target: { host: string; port: number } | undefined;
  #waiting: Socket[] = [];
  #endpoint: string | undefined;
  readonly #stats: FaultProxyStats = {
    accepted: 0,
    open: 0,
    bytesUp: 0,
    bytesDown: 0,
    resets: 0,
    faults: 0,
  };

  /** @param target - `tcp://host:port` or `host:port`; may be given later with {@link setTarget}. */
  constructor(target?: string) {
    if (target !== undefined) this.#target = parseTcp(target);
    this.#server.on("connection", (client) => this.#accept(client));
  }

  /** Starts listening; resolves with the proxy's endpoint, `tcp://127.0.0.1:<port>`. */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    this.#endpoint = `tcp://127.0.0.1:${port}`;
    return this.#endpoint;
  }

  /** The endpoint clients connect to (after {@link start}). */
  get endpoint(): string {
    if (this.#endpoint === undefined) throw new Error("FaultProxy: start() first");
    return this.#endpoint;
  }

  /** Sets (or changes) the target for new connections and releases held ones. */
  setTarget(target: string): void {
    this.#target = parseTcp(target);
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const c of waiting) if (!c.destroyed) this.#connect(c);
  }

  /** The current fault of each direction. */
  get fault(): Readonly<Record<FaultDirection, Fault>> {
    return { ...this.#fault };
  }

  /** Counters. */
  stats(): FaultProxyStats {
    return { ...this.#stats, open: this.#pipes.size };
  }

  /** Applies `fault` to one direction or both. */
  set(direction: FaultDirection | "both", fault: Fault): void {
    if (fault.mode === "delay" && !(fault.ms >= 0))
      throw new Error("FaultProxy: delay needs ms >= 0");
    this.#stats.faults++;
    for (const d of direction === "both" ? (["up", "down"] as const) : [direction]) {
      this.#fault[d] = fault;
    }
    if (fault.mode === "reset") {
      for (const p of [...this.#pipes]) this.#reset(p);
      return;
    }
    for (const p of this.#pipes) this.#flow(p);
  }

  /** Blackholes both directions (a partition). */
  partition(): void {
    this.set("both", { mode: "blackhole" });
  }

  /** Back to `pass` both ways; held bytes flow again. */
  heal(): void {
    this.set("both", { mode: "pass" });
  }

  /** Resets (TCP RST) every open connection once, without changing the faults. */
  resetConnections(): void {
    this.#stats.faults++;
    for (const p of [...this.#pipes]) this.#reset(p);
  }

  /** Closes the listener and every connection. Idempotent. */
  async close(): Promise<void> {
    for (const p of [...this.#pipes]) this.#destroy(p);
    for (const c of this.#waiting) c.destroy();
    this.#waiting = [];
    if (!this.#server.listening) return;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.#stats.accepted++;
    if (this.#fault.up.mode === "reset" || this.#fault.down.mode === "reset") {
      this.#stats.resets++;
      client.resetAndDestroy();
      return;
    }
    if (this.#target === undefined) {
      this.#waiting.push(client);
      client.once("close", () => {
        this.#waiting = this.#waiting.filter((c) => c !== client);
      });
      return;
    }
    this.#connect(client);
  }

  #connect(client: Socket): void {
    const target = this.#target as { host: string; port: number };
    client.pause();
    const upstream = createConnection({
      host: target.host,
      port: target.port,
      allowHalfOpen: true,
    });
    upstream.pause();
    const pipe: Pipe = {
      client,
      upstream,
      queues: { up: [], down: [] },
      timers: { up: undefined, down: undefined },
      ended: { up: false, down: false },
    };
    this.#pipes.add(pipe);
    // An error tears both sides down; a FIN is passed on (half-close) after the bytes ahead of it,
    // as the network would deliver them.
    const destroy = (): void => this.#destroy(pipe);
    client.on("error", destroy);
    upstream.on("error", destroy);
    client.on("end", () => this.#ended(pipe, "up"));
    upstream.on("end", () => this.#ended(pipe, "down"));
    const closed = (): void => {
      if (pipe.client.destroyed && pipe.upstream.destroyed) this.#destroy(pipe);
    };
    client.on("close", closed);
    upstream.on("close", closed);
    client.on("data", (chunk: Buffer) => this.#forward(pipe, "up", chunk));
    upstream.on("data", (chunk: Buffer) => this.#forward(pipe, "down", chunk));
    upstream.once("connect", () => this.#flow(pipe));
  }

  /** Pauses or resumes reading per direction according to the faults. */
  #flow(pipe: Pipe): void {
    if (pipe.upstream.connecting) return;
    const set = (source: Socket, fault: Fault): void => {
      if (fault.mode === "blackhole") source.pause();
      else source.resume();
    };
    set(pipe.client, this.#fault.up);
    set(pipe.upstream, this.#fault.down);
    for (const d of ["up", "down"] as const) this.#drain(pipe, d);
  }

  #forward(pipe: Pipe, direction: FaultDirection, chunk: Buffer): void {
    const fault = this.#fault[direction];
    const delayMs = fault.mode === "delay" ? fault.ms : 0;
    pipe.queues[direction].push({ due: performance.now() + delayMs, chunk });
    if (fault.mode === "blackhole") (direction === "up" ? pipe.client : pipe.upstream).pause();
    this.#drain(pipe, direction);
  }

  /** Writes the due chunks of one direction, in order; schedules the next. */
  #drain(pipe: Pipe, direction: FaultDirection): void {
    if (this.#fault[direction].mode === "blackhole") return;
    const queue = pipe.queues[direction];
    const sink = direction === "up" ? pipe.upstream : pipe.client;
    const now = performance.now();
    while (queue.length > 0 && (queue[0] as { due: number }).due <= now) {
      const { chunk } = queue.shift() as { chunk: Buffer };
      if (direction === "up") this.#stats.bytesUp += chunk.length;
      else this.#stats.bytesDown += chunk.length;
      if (!sink.destroyed) sink.write(chunk);
    }
    const next = queue[0];
    if (next === undefined && pipe.ended[direction] && !sink.destroyed) sink.end();
    if (next !== undefined && pipe.timers[direction] === undefined) {
      pipe.timers[direction] = setTimeout(
        () => {
          pipe.timers[direction] = undefined;
          this.#drain(pipe, direction);
        },
        Math.max(0, next.due - now),
      );
    }
  }

  #ended(pipe: Pipe, direction: FaultDirection): void {
    pipe.ended[direction] = true;
    this.#drain(pipe, direction);
  }

  #reset(pipe: Pipe): void {
    this.#stats.resets++;
    this.#pipes.delete(pipe);
    this.#clearTimers(pipe);
    if (!pipe.client.destroyed) pipe.client.resetAndDestroy();
    if (!pipe.upstream.destroyed) pipe.upstream.resetAndDestroy();
  }

  #destroy(pipe: Pipe): void {
    if (!this.#pipes.delete(pipe)) return;
    this.#clearTimers(pipe);
    pipe.client.destroy();
    pipe.upstream.destroy();
  }

  #clearTimers(pipe: Pipe): void {
    for (const d of ["up", "down"] as const) {
      if (pipe.timers[d] !== undefined) clearTimeout(pipe.timers[d]);
      pipe.timers[d] = undefined;
    }
  }
}
