import * as zmq from "zeromq";
import { onTestFinished } from "vitest";

type FrameInput = Buffer | string | Uint8Array;

/** Which socket a {@link ScriptedPeer} uses. */
export type ScriptedPeerKind =
  "dealer" | "router" | "req" | "rep" | "pub" | "sub" | "push" | "pull";

/** Options of {@link ScriptedPeer}. */
export interface ScriptedPeerOptions {
  /** Routing id (dealer/router/req/rep). */
  routingId?: string;
  /** Connect to these endpoints. */
  connect?: string[];
  /** Bind these endpoints (read back from {@link ScriptedPeer.endpoints}). */
  bind?: string[];
  /** Subscriptions for a sub peer. @defaultValue [""] */
  subscribe?: string[];
  /** Extra socket options. */
  socketOptions?: Record<string, unknown>;
}

/**
 * A fake peer for tests: it sends exact frames, records what it receives, and
 * can go silent on command (it stops reading and sending, but keeps the
 * connection open, like a wedged process). Closed automatically at the end of
 * the test.
 */
export class ScriptedPeer {
  readonly socket: zmq.Socket;
  readonly received: Buffer[][] = [];
  endpoints: string[] = [];
  #silent = false;
  #waiters: (() => void)[] = [];
  #reading = false;

  private constructor(socket: zmq.Socket) {
    this.socket = socket;
  }

  /** Creates, binds/connects and starts reading. */
  static async create(
    kind: ScriptedPeerKind,
    options: ScriptedPeerOptions = {},
  ): Promise<ScriptedPeer> {
    const base = { linger: 0, ...(options.socketOptions ?? {}) } as Record<string, unknown>;
    if (options.routingId !== undefined) base["routingId"] = options.routingId;
    const ctor: Record<ScriptedPeerKind, new (o: Record<string, unknown>) => zmq.Socket> = {
      dealer: zmq.Dealer,
      router: zmq.Router,
      req: zmq.Request,
      rep: zmq.Reply,
      pub: zmq.Publisher,
      sub: zmq.Subscriber,
      push: zmq.Push,
      pull: zmq.Pull,
    };
    const socket = new ctor[kind](base);
    const peer = new ScriptedPeer(socket);
    try {
      onTestFinished(() => peer.close());
    } catch {
      /* outside a test: caller closes */
    }
    for (const ep of options.bind ?? []) {
      await socket.bind(ep);
      peer.endpoints.push(socket.lastEndpoint ?? ep);
    }
    for (const ep of options.connect ?? []) socket.connect(ep);
    if (kind === "sub")
      for (const t of options.subscribe ?? [""]) (socket as zmq.Subscriber).subscribe(t);
    if (kind !== "pub" && kind !== "push") peer.#startReading();
    return peer;
  }

  #startReading(): void {
    if (this.#reading) return;
    this.#reading = true;
    const sock = this.socket as zmq.Socket & { receive(): Promise<Buffer[]> };
    void (async () => {
      while (!this.socket.closed && !this.#silent) {
        try {
          const msg = await sock.receive();
          if (this.#silent) break;
          this.received.push(msg);
          const w = this.#waiters;
          this.#waiters = [];
          for (const f of w) f();
        } catch {
          break;
        }
      }
      this.#reading = false;
    })();
  }

  /** Sends one multipart message (a no-op while silent). */
  async send(...frames: FrameInput[]): Promise<void> {
    if (this.#silent) return;
    await (this.socket as zmq.Socket & { send(m: FrameInput[]): Promise<void> }).send(frames);
  }

  /** Stops reading and sending; the connection stays open. */
  silence(): void {
    this.#silent = true;
  }

  /** Resumes reading and sending after {@link silence}. */
  resume(): void {
    this.#silent = false;
    this.#startReading();
  }

  /**
   * Waits for the next received message matching `predicate` (searching from
   * `from`, default: messages not yet taken) and returns it.
   */
  async receive({
    timeout = 2000,
    predicate,
  }: { timeout?: number; predicate?: (m: Buffer[]) => boolean } = {}): Promise<Buffer[]> {
    const deadline = performance.now() + timeout;
    for (;;) {
      const i = this.received.findIndex((m) => predicate === undefined || predicate(m));
      if (i >= 0) return this.received.splice(i, 1)[0] as Buffer[];
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`scripted peer: no matching message within ${timeout} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    this.#silent = true;
    if (!this.socket.closed) this.socket.close();
  }
}
