import {
  encodeDecimal,
  ExpiryTable,
  identityKey,
  PendingRequests,
  systemClock,
  ZgError,
  type Clock,
  type Frame,
  type Message,
} from "@zg/core";
import { decodeFlpClientInbound, encodeFlpPing, encodeFlpRequest } from "./protocol.js";

/** Options of {@link FlpClientCore}. Durations in ms. */
export interface FlpClientCoreOptions {
  /** Server endpoints in priority order; each is also that server's identity. */
  endpoints: readonly string[];
  pingInterval: number;
  serverTtl: number;
  resendInterval: number;
  /** Ping interval for servers not yet heard from (or expired). */
  connectPing: number;
  /** Writes one message on the client ROUTER. */
  send: (message: Message) => void;
  onServerAlive?: (endpoint: string) => void;
  onServerExpired?: (endpoint: string, reason: "ttl" | "unreachable") => void;
  clock?: Clock | undefined;
}

/** Counters of an {@link FlpClientCore}. */
export interface FlpClientCoreStats {
  requests: number;
  replies: number;
  failures: number;
  resends: number;
  staleReplies: number;
  pingsSent: number;
}

interface Server {
  endpoint: string;
  id: Frame;
  alive: boolean;
}

interface Request {
  sequence: number;
  control: Frame;
  body: Message;
  sends: number;
  timeout: number;
}

/**
 * The pure 10/FLP client (Freelance model 3, Guide `flcliapi`) on the
 * deadline engine: each server's next PING and its TTL are deadlines in two
 * {@link ExpiryTable}s, each request a {@link PendingRequests} entry that
 * re-sends every `resendInterval` to the next live server until its global
 * timeout. Nothing polls; no socket (the owner executes `send` and feeds
 * {@link receive} and {@link sendFailed}).
 *
 * @internal
 */
export class FlpClientCore {
  readonly #o: FlpClientCoreOptions;
  readonly #clock: Clock;
  readonly #servers = new Map<string, Server>();
  readonly #order: Server[] = [];
  readonly #pingDue: ExpiryTable<string>;
  readonly #ttl: ExpiryTable<string>;
  readonly #pending: PendingRequests<string, Message, Request>;
  #sequence = 0;
  readonly #stats = { replies: 0, failures: 0, resends: 0, staleReplies: 0, pingsSent: 0 };

  constructor(options: FlpClientCoreOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#pingDue = new ExpiryTable<string>({
      clock: this.#clock,
      granularity: 1,
      onExpire: (key) => this.#ping(key),
    });
    this.#ttl = new ExpiryTable<string>({
      clock: this.#clock,
      granularity: 1,
      onExpire: (key) => {
        const s = this.#servers.get(key);
        if (s !== undefined) this.#markDead(s, "ttl");
      },
    });
    this.#pending = new PendingRequests<string, Message, Request>({
      clock: this.#clock,
      onFailure: (_key, reason) => {
        if (reason === "timeout") this.#stats.failures++;
      },
      timeoutError: (_key, _attempts, r) =>
        new ZgError("ZG_TIMEOUT", `no reply from any server within ${r.timeout} ms`, {
          details: { endpoints: [...this.#o.endpoints], timeout: r.timeout, sends: r.sends },
        }),
    });
    for (const endpoint of options.endpoints) {
      const s: Server = { endpoint, id: Buffer.from(endpoint), alive: false };
      this.#servers.set(identityKey(s.id), s);
      this.#order.push(s);
    }
  }

  /** Starts pinging every server at once. */
  start(): void {
    for (const s of this.#order) this.#ping(identityKey(s.id));
  }

  /** Endpoints of the servers in the active list, in priority order. */
  activeServers(): string[] {
    return this.#order.filter((s) => s.alive).map((s) => s.endpoint);
  }

  /** Counters. */
  stats(): FlpClientCoreStats {
    return { ...this.#stats, requests: this.#pending.stats().added };
  }

  /** Sends `body` to the first live server (re-sent to the next every `resendInterval`) until `timeout`. */
  request(body: Message, timeout: number, signal: AbortSignal | undefined): Promise<Message> {
    const sequence = ++this.#sequence;
    const control = encodeDecimal(sequence);
    const key = identityKey(control);
    const request: Request = { sequence, control, body, sends: 0, timeout };
    return this.#pending
      .add(key, {
        timeout: Math.min(this.#o.resendInterval, timeout),
        attempts: Infinity,
        deadline: timeout,
        ...(signal === undefined ? {} : { signal }),
        context: request,
        send: () => this.#send(request),
      })
      .then((reply) => {
        this.#stats.replies++;
        return reply;
      });
  }

  /**
   * Handles one message from a server. Never throws: anything malformed or
   * unexpected is counted in `staleReplies`.
   */
  receive(message: Message): void {
    let m;
    try {
      m = decodeFlpClientInbound(message);
    } catch {
      this.#stats.staleReplies++;
      return;
    }
    const s = this.#servers.get(identityKey(m.server));
    if (s === undefined) {
      this.#stats.staleReplies++;
      return;
    }
    this.#ttl.set(identityKey(s.id), this.#o.serverTtl);
    if (!s.alive) {
      s.alive = true;
      this.#pingDue.set(identityKey(s.id), this.#o.pingInterval);
      this.#o.onServerAlive?.(s.endpoint);
      // Requests that found no live server go out now.
      for (const key of [...this.#pending.keys()])
        if (this.#pending.context(key)?.sends === 0) this.#pending.retry(key);
    }
    if (m.type === "pong") return;
    if (!this.#pending.resolve(identityKey(m.control), m.body)) this.#stats.staleReplies++;
  }

  /** A send failed (the server is unroutable): drop it from the active list; re-send a request it carried. */
  sendFailed(message: Message): void {
    const id = message[0];
    const s = id === undefined ? undefined : this.#servers.get(identityKey(id));
    if (s === undefined) return;
    this.#markDead(s, "unreachable");
    const control = message[1];
    if (control !== undefined) this.#pending.retry(identityKey(control));
  }

  /** Fails pending requests with `ZG_CLOSED` and stops every timer. */
  close(): void {
    this.#pending.close(new ZgError("ZG_CLOSED", "client closed"));
    this.#pingDue.close();
    this.#ttl.close();
  }

  #send(r: Request): void {
    const alive = this.#order.filter((s) => s.alive);
    if (alive.length === 0) return; // sent when a server answers a PING
    const server = alive[r.sends % alive.length] as Server;
    if (r.sends > 0) this.#stats.resends++;
    r.sends++;
    this.#o.send(encodeFlpRequest(server.id, r.control, r.body));
  }

  #ping(key: string): void {
    const s = this.#servers.get(key);
    if (s === undefined) return;
    this.#stats.pingsSent++;
    this.#pingDue.set(key, s.alive ? this.#o.pingInterval : this.#o.connectPing);
    this.#o.send(encodeFlpPing(s.id));
  }

  #markDead(s: Server, reason: "ttl" | "unreachable"): void {
    if (!s.alive) return;
    s.alive = false;
    const key = identityKey(s.id);
    this.#ttl.delete(key);
    this.#pingDue.set(key, 0);
    this.#o.onServerExpired?.(s.endpoint, reason);
  }
}
