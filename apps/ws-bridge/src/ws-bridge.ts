import { timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import * as zmq from "zeromq";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { isHostPort, listenOn, MdpGateway } from "@zg/app-kit";
import { CloneClient, type CloneAddress, type CloneChange } from "@zg/clone";
import {
  assertArgument,
  Component,
  durationOption,
  integerOption,
  SocketLoop,
  ZgError,
  type ComponentOptions,
} from "@zg/core";
import { DEFAULT_MDP_CLIENT_TIMEOUT } from "@zg/pirate";
import { snapshotMessages, subtreeAllowed } from "./clone.js";
import {
  decodeClientMessage,
  encodeFrame,
  type BridgeErrorCode,
  type ServerMessage,
} from "./protocol.js";

/** Largest WebSocket message a browser may send, bytes (project-chosen). */
export const DEFAULT_WS_BRIDGE_MAX_MESSAGE_SIZE = 1024 * 1024;
/** Requests a connection may have in flight (project-chosen). */
export const DEFAULT_WS_BRIDGE_MAX_IN_FLIGHT = 64;
/** Topics a connection may subscribe to (project-chosen). */
export const DEFAULT_WS_BRIDGE_MAX_SUBSCRIPTIONS = 32;
/**
 * Bytes a connection may leave unread before pub-sub messages to it are
 * dropped (counted), project-chosen: replies are bounded by `maxInFlight`, so
 * a slow browser never makes the bridge buffer without bound.
 */
export const DEFAULT_WS_BRIDGE_MAX_BUFFERED = 1024 * 1024;
/** Open WebSocket connections before new ones are refused (project-chosen). */
export const DEFAULT_WS_BRIDGE_MAX_CONNECTIONS = 1000;
/**
 * How long a first `clone-subscribe` of a subtree waits for the Clone
 * server's snapshot before it is answered `unavailable`, ms (project-chosen;
 * the client's `subscribeWait` alone is 1500 ms).
 */
export const DEFAULT_WS_BRIDGE_CLONE_SYNC_TIMEOUT = 10_000;
/** How often connections that lost Clone updates are checked for a re-sync, ms (project-chosen). */
export const WS_BRIDGE_CLONE_RESYNC_INTERVAL = 100;
/** Longest request timeout a browser may ask for, ms (project-chosen). */
export const MAX_WS_BRIDGE_REQUEST_TIMEOUT = 60_000;

/** WebSocket close codes the bridge uses (RFC 6455 §7.4.1). */
export const WS_CLOSE = {
  /** 1007: a message that is not the bridge's framing. */
  invalidPayload: 1007,
  /** 1008: a per-connection limit broken (in flight, subscriptions). */
  policy: 1008,
  /** 1009: a message over `maxMessageSize`. */
  tooBig: 1009,
  /** 1001: the bridge is stopping. */
  goingAway: 1001,
} as const;

/** Options of {@link WsBridge}. Durations in ms. */
export interface WsBridgeOptions extends ComponentOptions {
  /** `host:port` to serve on (port 0 = any free port). */
  listen: string;
  /** The Majordomo broker's endpoint (requests). */
  broker: string;
  /** PUB endpoints to connect a SUB socket to (subscriptions); none = no pub-sub. */
  publishers?: readonly string[];
  /**
   * Origins allowed to connect (exact, e.g. `https://app.example`), or `["*"]`.
   * @defaultValue none: only same-origin pages (Origin host = Host) and clients that send no Origin
   */
  allowedOrigins?: readonly string[];
  /** When set, a connection must present it (`?token=` or `Authorization: Bearer`). */
  token?: string;
  /** @defaultValue {@link DEFAULT_WS_BRIDGE_MAX_MESSAGE_SIZE} */
  maxMessageSize?: number;
  /** @defaultValue {@link DEFAULT_WS_BRIDGE_MAX_IN_FLIGHT} */
  maxInFlight?: number;
  /** @defaultValue {@link DEFAULT_WS_BRIDGE_MAX_SUBSCRIPTIONS} */
  maxSubscriptions?: number;
  /** @defaultValue {@link DEFAULT_WS_BRIDGE_MAX_BUFFERED} */
  maxBuffered?: number;
  /** @defaultValue {@link DEFAULT_WS_BRIDGE_MAX_CONNECTIONS} */
  maxConnections?: number;
  /** Default request timeout. @defaultValue `DEFAULT_MDP_CLIENT_TIMEOUT` (2500 ms, Guide `mdcliapi`) */
  requestTimeout?: number;
  /** Clone servers (one, or an HA pair) whose subtrees browsers may follow; none = no Clone. */
  clone?: readonly CloneAddress[];
  /**
   * Subtrees a browser may follow: a `clone-subscribe` prefix must start with
   * one of them (`"*"` allows any). Required with `clone`.
   */
  cloneSubtrees?: readonly string[];
  /** Let browsers `clone-set` (and delete) keys under a subtree they follow. @defaultValue false */
  cloneSet?: boolean;
  /** @defaultValue {@link DEFAULT_WS_BRIDGE_CLONE_SYNC_TIMEOUT} */
  cloneSyncTimeout?: number;
}

/** Counters of a {@link WsBridge}. */
export interface WsBridgeStats {
  /** Open connections now. */
  clients: number;
  accepted: number;
  /** Upgrades refused: bad origin, bad token, too many connections. */
  refused: number;
  requests: number;
  replies: number;
  /** Requests answered with an `error` message. */
  failed: number;
  /** Requests in flight now. */
  inFlight: number;
  /** Pub-sub messages and Clone updates delivered to connections. */
  delivered: number;
  /** Pub-sub messages and Clone updates not delivered to a connection over `maxBuffered`. */
  dropped: number;
  /** Clone subtrees followed now (one `CloneClient` each, shared by its connections). */
  subtrees: number;
  /** Fresh snapshots sent to connections that had lost Clone updates. */
  cloneResyncs: number;
  /** `clone-set` requests acknowledged by the Clone server. */
  cloneSets: number;
  /** Connections closed for bad input or a broken limit. */
  protocolErrors: number;
}

/** Events of a {@link WsBridge}. */
export interface WsBridgeEvents {
  /** A connection sent bad input or broke a limit and was closed. */
  "protocol:invalid": { peer: string; reason: string };
}

interface Connection {
  ws: WebSocket;
  peer: string;
  inFlight: number;
  topics: Set<string>;
  /** Clone prefix → its state on this connection. */
  clones: Map<string, CloneMember>;
}

interface CloneMember {
  /** Snapshot sent: updates flow. */
  ready: boolean;
  /** Updates were dropped: a fresh snapshot is due. */
  stale: boolean;
}

interface Subtree {
  client: CloneClient;
  members: Set<Connection>;
}

const PUBLIC = new URL("../public/", import.meta.url);
const STATIC: Readonly<Record<string, [string, string]>> = {
  "/": ["example.html", "text/html; charset=utf-8"],
  "/zg-ws.js": ["zg-ws.js", "text/javascript; charset=utf-8"],
};

/**
 * A WebSocket bridge: a browser calls Majordomo services (request/reply with
 * timeouts) and subscribes to pub-sub topics over one WebSocket, with the
 * JSON framing of `protocol.ts`. Per-connection limits (message size,
 * requests in flight, subscriptions), origin checking and optional token
 * authentication; bad input closes only that connection, with a reason.
 * Serves the browser client module at `/zg-ws.js` and an example page at `/`.
 *
 * @example
 * ```ts
 * const bridge = new WsBridge({ listen: "127.0.0.1:0", broker: "tcp://127.0.0.1:5555" });
 * const { url } = await bridge.start(); // ws://127.0.0.1:<port>/ws
 * ```
 */
export class WsBridge extends Component<
  WsBridgeEvents,
  WsBridgeStats,
  { url: string; page: string }
> {
  readonly #o: WsBridgeOptions;
  readonly #limits: {
    maxMessageSize: number;
    maxInFlight: number;
    maxSubscriptions: number;
    maxBuffered: number;
    maxConnections: number;
    requestTimeout: number;
  };
  readonly #connections = new Set<Connection>();
  /** topic → subscribed connections (the SUB socket holds one subscription per topic). */
  readonly #topics = new Map<string, Set<Connection>>();
  readonly #stats = {
    accepted: 0,
    refused: 0,
    requests: 0,
    replies: 0,
    failed: 0,
    inFlight: 0,
    delivered: 0,
    dropped: 0,
    protocolErrors: 0,
    cloneResyncs: 0,
    cloneSets: 0,
  };
  /** Clone prefix → its shared client and the connections following it. */
  readonly #subtrees = new Map<string, Subtree>();
  readonly #cloneSyncTimeout: number;
  #files = new Map<string, Buffer>();
  #mdp: MdpGateway | undefined;
  #sub: zmq.Subscriber | undefined;
  #server: Server | undefined;
  #wss: WebSocketServer | undefined;

  constructor(options: WsBridgeOptions) {
    super("WsBridge", options);
    assertArgument(
      isHostPort(options.listen),
      `listen must be host:port, got ${JSON.stringify(options.listen)}`,
    );
    assertArgument(
      options.token === undefined || options.token.length >= 8,
      "token must have ≥ 8 characters",
    );
    assertArgument(
      options.clone === undefined ||
        options.clone.length === 0 ||
        (options.cloneSubtrees ?? []).length > 0,
      "clone needs cloneSubtrees (the subtrees browsers may follow, or *)",
    );
    this.#o = options;
    this.#cloneSyncTimeout = durationOption(
      "cloneSyncTimeout",
      options.cloneSyncTimeout,
      DEFAULT_WS_BRIDGE_CLONE_SYNC_TIMEOUT,
      { min: 1 },
    );
    this.#limits = {
      maxMessageSize: integerOption(
        "maxMessageSize",
        options.maxMessageSize,
        DEFAULT_WS_BRIDGE_MAX_MESSAGE_SIZE,
        { min: 64 },
      ),
      maxInFlight: integerOption(
        "maxInFlight",
        options.maxInFlight,
        DEFAULT_WS_BRIDGE_MAX_IN_FLIGHT,
        { min: 1 },
      ),
      maxSubscriptions: integerOption(
        "maxSubscriptions",
        options.maxSubscriptions,
        DEFAULT_WS_BRIDGE_MAX_SUBSCRIPTIONS,
        { min: 0 },
      ),
      maxBuffered: integerOption(
        "maxBuffered",
        options.maxBuffered,
        DEFAULT_WS_BRIDGE_MAX_BUFFERED,
        { min: 1 },
      ),
      maxConnections: integerOption(
        "maxConnections",
        options.maxConnections,
        DEFAULT_WS_BRIDGE_MAX_CONNECTIONS,
        { min: 1 },
      ),
      requestTimeout: durationOption(
        "requestTimeout",
        options.requestTimeout,
        DEFAULT_MDP_CLIENT_TIMEOUT,
        { min: 1, max: MAX_WS_BRIDGE_REQUEST_TIMEOUT },
      ),
    };
  }

  stats(): WsBridgeStats {
    return { clients: this.#connections.size, subtrees: this.#subtrees.size, ...this.#stats };
  }

  protected async onStart(): Promise<{ url: string; page: string }> {
    for (const [file] of Object.values(STATIC))
      this.#files.set(file, await readFile(new URL(file, PUBLIC)));
    const mdp = this.own(
      new MdpGateway({
        broker: this.#o.broker,
        timeout: this.#limits.requestTimeout,
        logger: this.logger,
      }),
    );
    await mdp.start();
    this.#mdp = mdp;

    if (this.#o.publishers !== undefined && this.#o.publishers.length > 0) {
      const sub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 10_000 });
      for (const p of this.#o.publishers) sub.connect(p);
      this.#sub = sub;
      this.own(
        new SocketLoop(sub, {
          name: "subscriber",
          logger: this.logger,
          onMessage: (m) => this.#published(m),
        }).start(),
      );
    }

    if (this.#cloneEnabled) {
      this.own(() => this.#closeSubtrees());
      this.setInterval(() => this.#resyncStale(), WS_BRIDGE_CLONE_RESYNC_INTERVAL);
    }

    const wss = new WebSocketServer({ noServer: true, maxPayload: this.#limits.maxMessageSize });
    this.#wss = wss;
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const entry = STATIC[path];
      const body = entry === undefined ? undefined : this.#files.get(entry[0]);
      if (req.method !== "GET" || entry === undefined || body === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
        return;
      }
      res.writeHead(200, { "content-type": entry[1], "cache-control": "no-store" }).end(body);
    });
    server.on("upgrade", (req, socket, head) => this.#upgrade(req, socket, head));
    this.own(() => this.#closeServer());
    const shown = await listenOn(server, this.#o.listen);
    this.#server = server;
    return { url: `ws://${shown}/ws`, page: `http://${shown}/` };
  }

  protected override onDrain(): void {
    this.#server?.close();
  }

  protected override inFlight(): number {
    return this.#stats.inFlight;
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => {});
    const refuse = (status: number, text: string): void => {
      this.#stats.refused += 1;
      socket.end(
        `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${text}\n`,
      );
    };
    const url = new URL(req.url ?? "/", "http://bridge");
    if (url.pathname !== "/ws") return refuse(404, "Not Found");
    if (!this.accepting) return refuse(503, "Service Unavailable");
    if (!this.#originAllowed(req)) return refuse(403, "Forbidden origin");
    if (!this.#tokenValid(req, url)) return refuse(401, "Unauthorized");
    if (this.#connections.size >= this.#limits.maxConnections)
      return refuse(503, "Too many connections");
    const wss = this.#wss;
    if (wss === undefined) return refuse(503, "Service Unavailable");
    wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req));
  }

  #originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    const allowed = this.#o.allowedOrigins ?? [];
    if (allowed.includes("*")) return true;
    if (origin === undefined) return true; // not a browser: token authentication applies
    if (allowed.includes(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  #tokenValid(req: IncomingMessage, url: URL): boolean {
    const token = this.#o.token;
    if (token === undefined) return true;
    const auth = req.headers.authorization;
    const given =
      url.searchParams.get("token") ?? (auth?.startsWith("Bearer ") ? auth.slice(7) : undefined);
    if (given === undefined) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #accept(ws: WebSocket, req: IncomingMessage): void {
    this.#stats.accepted += 1;
    const c: Connection = {
      ws,
      peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      inFlight: 0,
      topics: new Set(),
      clones: new Map(),
    };
    this.#connections.add(c);
    ws.on("error", (error) => {
      // ws reports a message over maxPayload (1009) and bad frames (1002/1007) here, then closes.
      this.#protocolError(c, error.message, undefined);
    });
    ws.on("message", (data, isBinary) => this.#message(c, data, isBinary));
    ws.on("close", () => {
      this.#connections.delete(c);
      for (const topic of c.topics) this.#unsubscribe(c, topic);
      for (const prefix of c.clones.keys()) this.#leave(c, prefix);
      c.clones.clear();
    });
  }

  #send(c: Connection, message: ServerMessage): void {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(message));
  }

  #protocolError(c: Connection, reason: string, code: number | undefined): void {
    if (!this.#connections.has(c)) return;
    this.#stats.protocolErrors += 1;
    this.emit("protocol:invalid", { peer: c.peer, reason });
    this.logger.warn("bad input from a WebSocket client; connection closed", {
      peer: c.peer,
      reason,
    });
    this.#connections.delete(c);
    for (const topic of c.topics) this.#unsubscribe(c, topic);
    c.topics.clear();
    for (const prefix of c.clones.keys()) this.#leave(c, prefix);
    c.clones.clear();
    if (code !== undefined && c.ws.readyState === c.ws.OPEN) c.ws.close(code, reason.slice(0, 120));
    setTimeout(() => c.ws.terminate(), 1000).unref();
  }

  #message(c: Connection, data: RawData, isBinary: boolean): void {
    if (!this.#connections.has(c)) return;
    if (isBinary)
      return this.#protocolError(
        c,
        "binary messages are not the bridge's framing",
        WS_CLOSE.invalidPayload,
      );
    const text = Buffer.isBuffer(data)
      ? data.toString("utf8")
      : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString("utf8");
    const m = decodeClientMessage(text);
    if ("error" in m) return this.#protocolError(c, m.error, WS_CLOSE.invalidPayload);
    if (m.type === "request") {
      if (this.#overInFlight(c)) return;
      void this.track(this.#request(c, m.id, m.service, m.body, m.timeout));
      return;
    }
    if (m.type === "clone-subscribe" || m.type === "clone-unsubscribe" || m.type === "clone-set") {
      if (!this.#cloneEnabled)
        return this.#error(c, m.id, "no-clone", "the bridge has no Clone servers");
      if (m.type === "clone-subscribe") return this.#cloneSubscribe(c, m.id, m.prefix);
      if (m.type === "clone-unsubscribe") {
        if (c.clones.delete(m.prefix)) this.#leave(c, m.prefix);
        this.#send(c, { type: "clone-unsubscribed", id: m.id, prefix: m.prefix });
        return;
      }
      if (this.#overInFlight(c)) return;
      void this.track(this.#cloneSet(c, m.id, m.key, m.value, m.ttl));
      return;
    }
    if (this.#sub === undefined)
      return this.#error(c, m.id, "no-pubsub", "the bridge has no publishers");
    if (m.type === "subscribe") {
      if (!c.topics.has(m.topic) && this.#subscriptions(c) >= this.#limits.maxSubscriptions)
        return this.#protocolError(
          c,
          `more than ${this.#limits.maxSubscriptions} subscriptions`,
          WS_CLOSE.policy,
        );
      c.topics.add(m.topic);
      let set = this.#topics.get(m.topic);
      if (set === undefined) {
        set = new Set();
        this.#topics.set(m.topic, set);
        this.#sub.subscribe(m.topic);
      }
      set.add(c);
      this.#send(c, { type: "subscribed", id: m.id, topic: m.topic });
    } else {
      c.topics.delete(m.topic);
      this.#unsubscribe(c, m.topic);
      this.#send(c, { type: "unsubscribed", id: m.id, topic: m.topic });
    }
  }

  /** Closes `c` (1008) when it already has `maxInFlight` requests in flight. */
  #overInFlight(c: Connection): boolean {
    if (c.inFlight < this.#limits.maxInFlight) return false;
    this.#protocolError(
      c,
      `more than ${this.#limits.maxInFlight} requests in flight`,
      WS_CLOSE.policy,
    );
    return true;
  }

  get #cloneEnabled(): boolean {
    return this.#o.clone !== undefined && this.#o.clone.length > 0;
  }

  /** Pub-sub topics and Clone subtrees of a connection: one limit counts both. */
  #subscriptions(c: Connection): number {
    return c.topics.size + c.clones.size;
  }

  #cloneSubscribe(c: Connection, id: number, prefix: string): void {
    if (!subtreeAllowed(prefix, this.#o.cloneSubtrees ?? []))
      return this.#error(c, id, "forbidden", `subtree ${JSON.stringify(prefix)} is not allowed`);
    if (c.clones.has(prefix))
      return this.#error(c, id, "bad-request", `already following ${JSON.stringify(prefix)}`);
    if (this.#subscriptions(c) >= this.#limits.maxSubscriptions)
      return this.#protocolError(
        c,
        `more than ${this.#limits.maxSubscriptions} subscriptions`,
        WS_CLOSE.policy,
      );
    const member: CloneMember = { ready: false, stale: false };
    c.clones.set(prefix, member);
    const subtree = this.#join(c, prefix);
    void this.track(
      subtree.client.waitSynced({ timeout: this.#cloneSyncTimeout }).then(
        () => {
          if (c.clones.get(prefix) !== member || !this.#connections.has(c)) return;
          // The map now holds everything applied so far; every later change is forwarded.
          member.ready = true;
          this.#sendSnapshot(c, id, prefix, subtree.client, false);
        },
        (error: unknown) => {
          if (c.clones.get(prefix) !== member) return;
          c.clones.delete(prefix);
          this.#leave(c, prefix);
          this.#error(
            c,
            id,
            "unavailable",
            `no snapshot of ${prefix}: ${(error as Error).message}`,
          );
        },
      ),
    );
  }

  /** The shared client of `prefix` (created on first use), with `c` as a member. */
  #join(c: Connection, prefix: string): Subtree {
    let subtree = this.#subtrees.get(prefix);
    if (subtree === undefined) {
      const client = new CloneClient({
        servers: this.#o.clone ?? [],
        subtree: prefix,
        logger: this.logger,
      });
      const created: Subtree = { client, members: new Set() };
      subtree = created;
      this.#subtrees.set(prefix, created);
      client.on("update:applied", (change) => this.#cloneChanged(prefix, created, change));
      void client.closed.then((error) => {
        if (this.#subtrees.get(prefix) !== created) return;
        // The client stopped on its own (fatal error): its followers are told and dropped.
        this.#subtrees.delete(prefix);
        this.logger.warn("Clone client stopped", { prefix, error: error?.message });
        for (const m of created.members) {
          m.clones.delete(prefix);
          this.#error(
            m,
            null,
            "unavailable",
            `subtree ${prefix} stopped: ${error?.message ?? "closed"}`,
          );
        }
      });
      client.start().catch(() => {}); // a failed start resolves `closed` with the error
    }
    subtree.members.add(c);
    return subtree;
  }

  /** `c` no longer follows `prefix`; the last one to leave closes the shared client. */
  #leave(c: Connection, prefix: string): void {
    const subtree = this.#subtrees.get(prefix);
    if (subtree === undefined) return;
    subtree.members.delete(c);
    if (subtree.members.size > 0) return;
    this.#subtrees.delete(prefix);
    void subtree.client.close();
  }

  #sendSnapshot(
    c: Connection,
    id: number | null,
    prefix: string,
    client: CloneClient,
    resync: boolean,
  ): void {
    for (const m of snapshotMessages(id, prefix, client.sequence, client.entries(prefix), resync))
      this.#send(c, m);
  }

  #cloneChanged(prefix: string, subtree: Subtree, change: CloneChange): void {
    let text: string | undefined;
    for (const c of subtree.members) {
      const member = c.clones.get(prefix);
      if (member === undefined || !member.ready) continue;
      if (member.stale || c.ws.bufferedAmount > this.#limits.maxBuffered) {
        // Dropped: the connection gets a fresh snapshot once its buffer has room.
        member.stale = true;
        this.#stats.dropped += 1;
        continue;
      }
      text ??= JSON.stringify({
        type: "clone-update",
        prefix,
        key: change.key,
        value: change.value === undefined ? null : encodeFrame(change.value),
        sequence: String(change.sequence),
      } satisfies ServerMessage);
      if (c.ws.readyState !== c.ws.OPEN) continue;
      c.ws.send(text);
      this.#stats.delivered += 1;
    }
  }

  /** Connections that lost Clone updates get a fresh snapshot once they have read enough. */
  #resyncStale(): void {
    for (const [prefix, subtree] of this.#subtrees)
      for (const c of subtree.members) {
        const member = c.clones.get(prefix);
        if (member?.stale !== true || c.ws.bufferedAmount > this.#limits.maxBuffered) continue;
        member.stale = false;
        this.#stats.cloneResyncs += 1;
        this.#sendSnapshot(c, null, prefix, subtree.client, true);
      }
  }

  async #cloneSet(
    c: Connection,
    id: number,
    key: string,
    value: Buffer | null,
    ttl: number | undefined,
  ): Promise<void> {
    if (this.#o.cloneSet !== true)
      return this.#error(c, id, "forbidden", "clone-set is off (--clone-set)");
    const prefix = [...c.clones.keys()].find((p) => key.startsWith(p) && c.clones.get(p)?.ready);
    const subtree = prefix === undefined ? undefined : this.#subtrees.get(prefix);
    if (subtree === undefined)
      return this.#error(
        c,
        id,
        "forbidden",
        `follow a subtree holding ${JSON.stringify(key)} first`,
      );
    c.inFlight += 1;
    this.#stats.inFlight += 1;
    try {
      const sequence =
        value === null
          ? await subtree.client.delete(key)
          : await subtree.client.set(key, value, ttl === undefined ? {} : { ttl });
      this.#stats.cloneSets += 1;
      this.#send(c, { type: "clone-acked", id, sequence: String(sequence) });
    } catch (error) {
      const code =
        ZgError.isInstance(error) && error.code === "ZG_TIMEOUT"
          ? "timeout"
          : ZgError.isInstance(error) && error.code === "ZG_INVALID_ARGUMENT"
            ? "bad-request"
            : "unavailable";
      this.#error(c, id, code, (error as Error).message);
    } finally {
      c.inFlight -= 1;
      this.#stats.inFlight -= 1;
    }
  }

  async #closeSubtrees(): Promise<void> {
    const all = [...this.#subtrees.values()];
    this.#subtrees.clear();
    await Promise.all(all.map((s) => s.client.close()));
  }

  #unsubscribe(c: Connection, topic: string): void {
    const set = this.#topics.get(topic);
    if (set === undefined) return;
    set.delete(c);
    if (set.size === 0) {
      this.#topics.delete(topic);
      // Connections close after the SUB socket while the bridge stops: nothing to unsubscribe then.
      if (!this.stopping && this.#sub?.closed === false) this.#sub.unsubscribe(topic);
    }
  }

  #error(c: Connection, id: number | null, code: BridgeErrorCode, message: string): void {
    this.#send(c, { type: "error", id, code, message });
  }

  async #request(
    c: Connection,
    id: number,
    service: string,
    body: Buffer[],
    timeout: number | undefined,
  ): Promise<void> {
    const mdp = this.#mdp;
    if (mdp === undefined) return;
    c.inFlight += 1;
    this.#stats.inFlight += 1;
    this.#stats.requests += 1;
    try {
      const t = Math.min(timeout ?? this.#limits.requestTimeout, MAX_WS_BRIDGE_REQUEST_TIMEOUT);
      const out = await mdp.request(service, body, { timeout: t });
      if (!out.ok) {
        this.#stats.failed += 1;
        return this.#error(c, id, out.code, out.message);
      }
      this.#stats.replies += 1;
      this.#send(c, { type: "reply", id, body: out.reply.map(encodeFrame) });
    } finally {
      c.inFlight -= 1;
      this.#stats.inFlight -= 1;
    }
  }

  #published(message: Buffer[]): void {
    const head = message[0];
    if (head === undefined) return;
    let frames: ReturnType<typeof encodeFrame>[] | undefined;
    for (const [topic, set] of this.#topics) {
      if (!head.subarray(0, Buffer.byteLength(topic)).equals(Buffer.from(topic))) continue;
      frames ??= message.map(encodeFrame);
      const text = JSON.stringify({ type: "message", topic, frames } satisfies ServerMessage);
      for (const c of set) {
        if (c.ws.bufferedAmount > this.#limits.maxBuffered) {
          this.#stats.dropped += 1;
          continue;
        }
        c.ws.send(text);
        this.#stats.delivered += 1;
      }
    }
  }

  async #closeServer(): Promise<void> {
    for (const c of this.#connections) c.ws.close(WS_CLOSE.goingAway, "bridge stopping");
    for (const c of this.#connections) c.ws.terminate();
    this.#connections.clear();
    this.#wss?.close();
    const server = this.#server;
    this.#server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
