import nacl from "tweetnacl";
import {
  ExpiryTable,
  identityFromKey,
  identityKey,
  integerOption,
  durationOption,
  isZgError,
  silentLogger,
  systemClock,
  TypedEmitter,
  type Clock,
  type Frame,
  type Logger,
  type Message,
} from "@zg/core/pure";
import { PresenceTracker } from "@zg/heartbeat";
import { z85Decode } from "../z85.js";
import { ed25519Verify } from "../crypto.js";
import {
  DEFAULT_LOGIN_TIMEOUT,
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_PENDING_LOGINS,
  DEFAULT_MAX_SUBSCRIPTIONS,
  DEFAULT_REFRESH_INTERVAL,
  DEFAULT_REFRESH_LIVENESS,
} from "./constants.js";
import {
  mayPublish,
  maySubscribe,
  RevocationList,
  verifyToken,
  type VerifiedToken,
} from "./token.js";
import { parsePattern, parseTopic } from "./topics.js";
import {
  decodeClient,
  encodeBroker,
  loginTranscript,
  NONCE_BYTES,
  type ClientMessage,
  type StatusCode,
} from "./wire.js";

/** Events of a {@link BrokerCore} (and of the broker component). */
export type BrokerEvents = {
  /** A client logged in (or refreshed its token). */
  "client:joined": { identity: string; key: string; tokenId: string };
  /** A client was flushed: silent for interval × liveness. */
  "client:expired": { identity: string; key: string };
  /** A client was kicked: its token or key was revoked, or its token expired. */
  "client:revoked": { identity: string; key: string; reason: string };
  /** A request was refused with a 4xx status. */
  "request:refused": { identity: string; cmd: string; code: StatusCode; reason: string };
  /** A message that breaks the protocol (counted, answered 400 when addressable, else dropped). */
  "protocol:invalid": { identity: string; reason: string };
};

/** Counters of a {@link BrokerCore}. */
export interface BrokerStats {
  clients: number;
  subscriptions: number;
  pendingLogins: number;
  logins: number;
  loginsRefused: number;
  published: number;
  delivered: number;
  refused: number;
  protocolErrors: number;
  expired: number;
  revoked: number;
}

/** Options of {@link BrokerCore}. */
export interface BrokerCoreOptions {
  /** Trusted token issuers: Ed25519 public keys, Z85. */
  issuers: Iterable<string>;
  /** Writes one message to a client (`identity` is its routing id). */
  send: (identity: Frame, frames: Frame[]) => void;
  /** Revocation list consulted at login and by {@link BrokerCore.revoke}. @defaultValue an empty list */
  revocations?: RevocationList;
  /** Refresh interval, ms. @defaultValue {@link DEFAULT_REFRESH_INTERVAL} */
  refreshInterval?: number;
  /** Missed intervals before a flush. @defaultValue {@link DEFAULT_REFRESH_LIVENESS} */
  liveness?: number;
  /** Challenge validity, ms. @defaultValue {@link DEFAULT_LOGIN_TIMEOUT} */
  loginTimeout?: number;
  /** @defaultValue {@link DEFAULT_MAX_CLIENTS} */
  maxClients?: number;
  /** @defaultValue {@link DEFAULT_MAX_PENDING_LOGINS} */
  maxPendingLogins?: number;
  /** @defaultValue {@link DEFAULT_MAX_SUBSCRIPTIONS} */
  maxSubscriptions?: number;
  /** Monotonic clock (liveness, challenges). @defaultValue systemClock */
  clock?: Clock;
  /** Wall clock for token expiry, ms since the epoch. @defaultValue Date.now */
  now?: () => number;
  /** Random bytes for challenges. @defaultValue nacl.randomBytes */
  randomBytes?: (n: number) => Uint8Array;
  logger?: Logger;
}

interface Connection {
  identity: Frame;
  token: VerifiedToken;
  publisher: Buffer;
  subscriptions: Set<string>;
}

/**
 * The entitled pub-sub broker as a pure state machine (no sockets): feed it
 * each ROUTER message with {@link handle}; it answers through `send`. It
 * keeps the notes' two tables: the **connection table** (routing id → key,
 * verified token, subscriptions; liveness in a `PresenceTracker`) and the
 * **routing table** (exact topic or prefix → routing ids), both built only
 * from verified tokens, and routes one copy of each publication to each
 * entitled, subscribed identity.
 */
export class BrokerCore extends TypedEmitter<BrokerEvents> {
  readonly #o: BrokerCoreOptions;
  readonly #issuers: Set<string>;
  readonly revocations: RevocationList;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #logger: Logger;
  readonly #maxClients: number;
  readonly #maxPending: number;
  readonly #maxSubs: number;
  readonly #loginTimeout: number;
  readonly #conns = new Map<string, Connection>();
  readonly #pending = new Map<string, Buffer>();
  readonly #pendingExpiry: ExpiryTable<string>;
  readonly #presence: PresenceTracker<string>;
  readonly #exact = new Map<string, Set<string>>();
  readonly #prefix = new Map<string, Set<string>>();
  #subscriptions = 0;
  readonly #stats = {
    logins: 0,
    loginsRefused: 0,
    published: 0,
    delivered: 0,
    refused: 0,
    protocolErrors: 0,
    expired: 0,
    revoked: 0,
  };

  constructor(options: BrokerCoreOptions) {
    super();
    this.#o = options;
    this.#issuers = new Set(options.issuers);
    this.revocations = options.revocations ?? new RevocationList();
    this.#now = options.now ?? Date.now;
    this.#random = options.randomBytes ?? ((n) => nacl.randomBytes(n));
    this.#logger = options.logger ?? silentLogger;
    this.#maxClients = integerOption("maxClients", options.maxClients, DEFAULT_MAX_CLIENTS, {
      min: 1,
    });
    this.#maxPending = integerOption(
      "maxPendingLogins",
      options.maxPendingLogins,
      DEFAULT_MAX_PENDING_LOGINS,
      { min: 1 },
    );
    this.#maxSubs = integerOption(
      "maxSubscriptions",
      options.maxSubscriptions,
      DEFAULT_MAX_SUBSCRIPTIONS,
      { min: 1 },
    );
    this.#loginTimeout = durationOption(
      "loginTimeout",
      options.loginTimeout,
      DEFAULT_LOGIN_TIMEOUT,
      { min: 1 },
    );
    const clock = options.clock ?? systemClock;
    this.#pendingExpiry = new ExpiryTable<string>({
      clock,
      onExpire: (id) => this.#pending.delete(id),
    });
    this.#presence = new PresenceTracker<string>({
      clock,
      interval: durationOption(
        "refreshInterval",
        options.refreshInterval,
        DEFAULT_REFRESH_INTERVAL,
        { min: 10 },
      ),
      liveness: integerOption("liveness", options.liveness, DEFAULT_REFRESH_LIVENESS, { min: 1 }),
    });
    this.#presence.on("peer:expired", ({ key }) => {
      const c = this.#conns.get(key);
      if (c === undefined) return;
      this.#stats.expired++;
      this.#remove(key);
      this.emit("client:expired", { identity: key, key: c.token.key });
    });
  }

  /** A snapshot of the counters. */
  stats(): BrokerStats {
    return {
      ...this.#stats,
      clients: this.#conns.size,
      subscriptions: this.#subscriptions,
      pendingLogins: this.#pending.size,
    };
  }

  /** The logged-in routing ids (latin1 keys) and their subject keys: the connection table. */
  connections(): { identity: string; key: string; tokenId: string; subscriptions: string[] }[] {
    return [...this.#conns].map(([identity, c]) => ({
      identity,
      key: c.token.key,
      tokenId: c.token.id,
      subscriptions: [...c.subscriptions],
    }));
  }

  /** Routing ids subscribed to something that matches `topic`: the routing table's answer. */
  route(topic: string): Set<string> {
    const out = new Set<string>(this.#exact.get(topic));
    for (const [stem, ids] of this.#prefix)
      if (topic.startsWith(stem)) for (const id of ids) out.add(id);
    return out;
  }

  /**
   * Revokes a token id or a subject key (Ed25519 or CURVE, Z85): future logins
   * with it are refused, and live connections using it are kicked (a 401
   * status, then removed from both tables).
   *
   * @returns how many connections were kicked.
   */
  revoke(what: { tokenId?: string; key?: string }): number {
    if (what.tokenId !== undefined) this.revocations.revokeToken(what.tokenId);
    if (what.key !== undefined) this.revocations.revokeKey(what.key);
    let kicked = 0;
    for (const [id, c] of [...this.#conns]) {
      const t = c.token;
      if (
        t.id === what.tokenId ||
        t.key === what.key ||
        (t.curve !== undefined && t.curve === what.key)
      ) {
        this.#kick(id, c, "revoked");
        kicked++;
      }
    }
    return kicked;
  }

  /** Forgets a client whose routing id became unreachable (the socket said EHOSTUNREACH). */
  drop(identity: Frame): void {
    const id = identityKey(identity);
    if (this.#conns.has(id)) this.#remove(id);
  }

  /** Handles one ROUTER message (`[routing id][ZGSP01][cmd][request id][args…]`). Never throws on input. */
  handle(frames: Message): void {
    const identity = frames[0];
    if (identity === undefined) return;
    const id = identityKey(identity);
    let m: ClientMessage;
    try {
      m = decodeClient(frames, 1);
    } catch (error) {
      this.#stats.protocolErrors++;
      const reason = error instanceof Error ? error.message : String(error);
      this.emit("protocol:invalid", { identity: id, reason });
      const rid = isZgError(error) ? error.details?.["requestId"] : undefined;
      if (Buffer.isBuffer(rid)) this.#status(identity, rid, 400, reason);
      return;
    }
    const conn = this.#conns.get(id);
    if (conn !== undefined) {
      if (!(conn.token.expires > this.#now())) {
        this.#kick(id, conn, "token expired");
        if (m.cmd !== "hello" && m.cmd !== "login") return;
      } else {
        this.#presence.seen(id);
      }
    }
    switch (m.cmd) {
      case "hello":
        return this.#hello(identity, id, m.requestId);
      case "login":
        return this.#login(identity, id, m);
      case "subscribe":
      case "unsubscribe":
        return this.#subscribe(identity, id, m);
      case "publish":
        return this.#publish(identity, id, m);
      case "ping":
        if (!this.#conns.has(id))
          return this.#refuse(identity, id, m.cmd, m.requestId, 401, "not logged in");
        if (m.requestId.length > 0) this.#status(identity, m.requestId, 200, "OK");
        return;
      case "logout":
        if (!this.#conns.has(id))
          return this.#refuse(identity, id, m.cmd, m.requestId, 401, "not logged in");
        this.#remove(id);
        this.#status(identity, m.requestId, 200, "logged out");
        return;
    }
  }

  /** Stops the timers; the tables are cleared. */
  close(): void {
    this.#presence.close();
    this.#pendingExpiry.close();
    this.#conns.clear();
    this.#exact.clear();
    this.#prefix.clear();
    this.#pending.clear();
    this.#subscriptions = 0;
  }

  #hello(identity: Frame, id: string, requestId: Buffer): void {
    if (!this.#pending.has(id) && this.#pending.size >= this.#maxPending) {
      return this.#refuse(identity, id, "hello", requestId, 429, "too many pending logins");
    }
    const nonce = Buffer.from(this.#random(NONCE_BYTES));
    this.#pending.set(id, nonce);
    this.#pendingExpiry.set(id, this.#loginTimeout);
    this.#o.send(identity, encodeBroker({ cmd: "challenge", requestId, nonce }));
  }

  #login(identity: Frame, id: string, m: Extract<ClientMessage, { cmd: "login" }>): void {
    const nonce = this.#pending.get(id);
    const refuse = (code: StatusCode, why: string): void => {
      this.#stats.loginsRefused++;
      this.#refuse(identity, id, "login", m.requestId, code, why);
    };
    if (nonce === undefined) return refuse(401, "no outstanding challenge");
    // A challenge is used once, whatever the outcome: a replayed login signature meets no nonce.
    this.#pending.delete(id);
    this.#pendingExpiry.delete(id);
    const check = verifyToken(m.token, {
      issuers: this.#issuers,
      now: this.#now(),
      revocations: this.revocations,
    });
    if (!check.ok) return refuse(401, `token ${check.reason}`);
    const token = check.token;
    const transcript = loginTranscript(nonce, nacl.hash(m.token));
    if (!ed25519Verify(transcript, m.signature, z85Decode(token.key))) {
      return refuse(401, "bad login signature");
    }
    const existing = this.#conns.get(id);
    if (existing !== undefined && existing.token.key !== token.key)
      return refuse(403, "connection bound to another key");
    if (existing === undefined && this.#conns.size >= this.#maxClients)
      return refuse(429, "too many clients");
    if (existing !== undefined) {
      existing.token = token; // refresh: keep only subscriptions the new token still covers
      for (const s of [...existing.subscriptions]) {
        if (!maySubscribe(token, parsePattern(s))) this.#unroute(id, existing, s);
      }
    } else {
      this.#conns.set(id, {
        identity: identityFromKey(id),
        token,
        publisher: Buffer.from(z85Decode(token.key)),
        subscriptions: new Set(),
      });
    }
    this.#presence.seen(id);
    this.#stats.logins++;
    this.emit("client:joined", { identity: id, key: token.key, tokenId: token.id });
    this.#status(identity, m.requestId, 200, "logged in");
  }

  #subscribe(
    identity: Frame,
    id: string,
    m: Extract<ClientMessage, { cmd: "subscribe" | "unsubscribe" }>,
  ): void {
    const c = this.#conns.get(id);
    if (c === undefined)
      return this.#refuse(identity, id, m.cmd, m.requestId, 401, "not logged in");
    let pattern;
    try {
      pattern = parsePattern(m.pattern);
    } catch (e) {
      return this.#refuse(identity, id, m.cmd, m.requestId, 400, (e as Error).message);
    }
    if (m.cmd === "unsubscribe") {
      if (!c.subscriptions.has(pattern.text))
        return this.#refuse(identity, id, m.cmd, m.requestId, 404, "not subscribed");
      this.#unroute(id, c, pattern.text);
      return this.#status(identity, m.requestId, 200, "unsubscribed");
    }
    if (!maySubscribe(c.token, pattern))
      return this.#refuse(identity, id, m.cmd, m.requestId, 403, "not entitled");
    if (!c.subscriptions.has(pattern.text)) {
      if (c.subscriptions.size >= this.#maxSubs)
        return this.#refuse(identity, id, m.cmd, m.requestId, 429, "too many subscriptions");
      c.subscriptions.add(pattern.text);
      this.#subscriptions++;
      const table = pattern.prefix ? this.#prefix : this.#exact;
      let ids = table.get(pattern.stem);
      if (ids === undefined) table.set(pattern.stem, (ids = new Set()));
      ids.add(id);
    }
    this.#status(identity, m.requestId, 200, "subscribed");
  }

  #publish(identity: Frame, id: string, m: Extract<ClientMessage, { cmd: "publish" }>): void {
    const c = this.#conns.get(id);
    if (c === undefined)
      return this.#refuse(identity, id, m.cmd, m.requestId, 401, "not logged in");
    let topic: string;
    try {
      topic = parseTopic(m.topic);
    } catch (e) {
      return this.#refuse(identity, id, m.cmd, m.requestId, 400, (e as Error).message);
    }
    if (!mayPublish(c.token, topic))
      return this.#refuse(identity, id, m.cmd, m.requestId, 403, "not entitled to publish");
    this.#stats.published++;
    const now = this.#now();
    let frames: Frame[] | undefined;
    for (const rid of this.route(topic)) {
      const r = this.#conns.get(rid);
      if (r === undefined) continue;
      if (!(r.token.expires > now)) {
        this.#kick(rid, r, "token expired");
        continue;
      }
      frames ??= encodeBroker({
        cmd: "message",
        topic,
        publisher: c.publisher,
        payload: m.payload,
      });
      this.#o.send(r.identity, frames);
      this.#stats.delivered++;
    }
    if (m.requestId.length > 0) this.#status(identity, m.requestId, 200, "published");
  }

  #unroute(id: string, c: Connection, text: string): void {
    const p = parsePattern(text);
    const table = p.prefix ? this.#prefix : this.#exact;
    const ids = table.get(p.stem);
    ids?.delete(id);
    if (ids?.size === 0) table.delete(p.stem);
    if (c.subscriptions.delete(text)) this.#subscriptions--;
  }

  #remove(id: string): void {
    const c = this.#conns.get(id);
    if (c === undefined) return;
    for (const s of [...c.subscriptions]) this.#unroute(id, c, s);
    this.#conns.delete(id);
    this.#presence.remove(id);
  }

  #kick(id: string, c: Connection, reason: string): void {
    this.#stats.revoked++;
    this.#remove(id);
    this.#status(c.identity, Buffer.alloc(0), 401, reason);
    this.#logger.info("client kicked", { key: c.token.key, reason });
    this.emit("client:revoked", { identity: id, key: c.token.key, reason });
  }

  #refuse(
    identity: Frame,
    id: string,
    cmd: string,
    requestId: Buffer,
    code: StatusCode,
    reason: string,
  ): void {
    this.#stats.refused++;
    this.emit("request:refused", { identity: id, cmd, code, reason });
    this.#status(identity, requestId, code, reason);
  }

  #status(identity: Frame, requestId: Buffer, code: StatusCode, text: string): void {
    this.#o.send(identity, encodeBroker({ cmd: "status", requestId, code, text }));
  }
}
