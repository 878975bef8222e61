import type * as zmq from "zeromq";
import nacl from "tweetnacl";
import {
  Component,
  createDealer,
  deferred,
  durationOption,
  ExpiryTable,
  lingerOption,
  SocketLoop,
  toFrame,
  ZgError,
  type Clock,
  type ComponentOptions,
  type Deferred,
  type FrameLike,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { signingKeyPair } from "../cert.js";
import { ed25519Sign } from "../crypto.js";
import { curveClientOptions } from "../secure-server.js";
import { isZ85Key, z85Encode } from "../z85.js";
import { DEFAULT_REFRESH_INTERVAL, DEFAULT_REQUEST_TIMEOUT } from "./constants.js";
import {
  decodeBroker,
  encodeClient,
  loginTranscript,
  type ClientMessage,
  type StatusCode,
} from "./wire.js";

/** A status answer. */
export interface StatusReply {
  code: StatusCode;
  text: string;
}

/** A delivered publication. */
export interface Publication {
  topic: string;
  /** The publisher's Ed25519 key (Z85), as authenticated by its login. */
  publisher: string;
  payload: Buffer[];
}

/** Events of a {@link SecurePubSubClient}. */
export type ClientEvents = {
  /** A publication arrived. */
  "message:received": Publication;
  /** The broker ended the session (401: flushed, revoked or token expired). */
  "session:lost": { reason: string };
  /** The client logged in again after a lost session. */
  "session:restored": { subscriptions: number };
  /** A broker message that breaks the protocol (counted, dropped). */
  "protocol:invalid": { reason: string };
};

/** Counters of a {@link SecurePubSubClient}. */
export interface ClientStats {
  received: number;
  published: number;
  logins: number;
  sessionsLost: number;
  protocolErrors: number;
  timeouts: number;
}

/** Options of {@link SecurePubSubClient}. */
export interface SecurePubSubClientOptions extends ComponentOptions, LingerOptions {
  /** The broker's endpoint. Required; the deprecated `endpoint` is read when it is absent. */
  broker?: string;
  /** @deprecated Since 0.2: use {@link SecurePubSubClientOptions.broker} (same meaning). */
  endpoint?: string;
  /** This identity's Z85 CURVE secret key (its login signing key is derived from it). */
  secretKey: string;
  /** The entitlement token issued for this identity. */
  token: Uint8Array;
  /** Time source of request timeouts. @defaultValue systemClock */
  clock?: Clock;
  /** The broker's CURVE public key: set it to use CURVE (required when the broker uses it). */
  serverKey?: string;
  /** PING when nothing was sent for this long, ms. @defaultValue {@link DEFAULT_REFRESH_INTERVAL} */
  refreshInterval?: number;
  /** Time a request waits for its status, ms. @defaultValue {@link DEFAULT_REQUEST_TIMEOUT} */
  requestTimeout?: number;
  /** Log in again (and resubscribe) after the broker ends the session. @defaultValue true */
  relogin?: boolean;
  /** zeromq.js context. */
  context?: zmq.Context;
}

/**
 * A client of the entitled pub-sub service (a DEALER): logs in by signing the
 * broker's challenge, subscribes, publishes, receives `message:received`, and
 * refreshes its entry with PINGs. `start()` resolves once logged in.
 */
export class SecurePubSubClient extends Component<ClientEvents, ClientStats> {
  readonly #linger: number;
  readonly #o: SecurePubSubClientOptions;
  readonly #broker: string;
  readonly #sign: ReturnType<typeof signingKeyPair>;
  readonly #refresh: number;
  readonly #timeout: number;
  #loop: SocketLoop | undefined;
  #token: Uint8Array;
  #nextId = 1;
  #lastSent = 0;
  #relogging: Promise<void> | undefined;
  readonly #pending = new Map<string, Deferred<Message>>();
  #expiry: ExpiryTable<string> | undefined;
  readonly #subscriptions = new Set<string>();
  readonly #stats = {
    received: 0,
    published: 0,
    logins: 0,
    sessionsLost: 0,
    protocolErrors: 0,
    timeouts: 0,
  };

  constructor(options: SecurePubSubClientOptions) {
    super("secure-pubsub-client", options);
    this.#linger = lingerOption(options.linger);
    const broker = options?.broker ?? options?.endpoint;
    if (typeof broker !== "string") throw new ZgError("ZG_INVALID_ARGUMENT", "broker is required");
    this.#broker = broker;
    if (!isZ85Key(options.secretKey))
      throw new ZgError("ZG_INVALID_ARGUMENT", "secretKey must be a Z85 CURVE key");
    if (!(options.token instanceof Uint8Array))
      throw new ZgError("ZG_INVALID_ARGUMENT", "token must be bytes");
    if (options.serverKey !== undefined && !isZ85Key(options.serverKey)) {
      throw new ZgError("ZG_INVALID_ARGUMENT", "serverKey must be a Z85 CURVE key");
    }
    this.#o = options;
    this.#sign = signingKeyPair(options.secretKey);
    this.#token = options.token;
    this.#refresh = durationOption(
      "refreshInterval",
      options.refreshInterval,
      DEFAULT_REFRESH_INTERVAL,
      { min: 10 },
    );
    this.#timeout = durationOption(
      "requestTimeout",
      options.requestTimeout,
      DEFAULT_REQUEST_TIMEOUT,
      { min: 1 },
    );
  }

  /** This client's Ed25519 public key (Z85), the `publisher` its messages carry. */
  get publicKey(): string {
    return z85Encode(this.#sign.publicKey);
  }

  stats(): ClientStats {
    return { ...this.#stats };
  }

  /** Subscribes to an exact topic or a `prefix*`. Resolves with the status (200, 401, 403, 429…). */
  async subscribe(pattern: string): Promise<StatusReply> {
    const r = await this.#request({ cmd: "subscribe", requestId: this.#rid(), pattern });
    if (r.code === 200) this.#subscriptions.add(pattern);
    return r;
  }

  /** Unsubscribes (404 if not subscribed). */
  async unsubscribe(pattern: string): Promise<StatusReply> {
    this.#subscriptions.delete(pattern);
    return this.#request({ cmd: "unsubscribe", requestId: this.#rid(), pattern });
  }

  /**
   * Publishes on `topic`. With `ack`, resolves with the broker's status;
   * without, it is fire-and-forget (a refusal still arrives as a status and
   * is counted by the broker) and resolves `undefined`.
   */
  async publish(
    topic: string,
    payload: FrameLike | readonly FrameLike[],
    { ack = false } = {},
  ): Promise<StatusReply | undefined> {
    const frames = (Array.isArray(payload) ? payload : [payload]).map((f: FrameLike) => {
      const b = toFrame(f);
      return Buffer.isBuffer(b) ? b : Buffer.from(b);
    });
    this.#stats.published++;
    if (ack)
      return this.#request({ cmd: "publish", requestId: this.#rid(), topic, payload: frames });
    this.#post({ cmd: "publish", requestId: Buffer.alloc(0), topic, payload: frames });
    return undefined;
  }

  /** Replaces the token (a refresh before expiry) by logging in again on the same connection. */
  async refreshToken(token: Uint8Array): Promise<void> {
    this.#token = token;
    await this.#login();
  }

  protected async onStart(): Promise<void> {
    const socket = createDealer({
      linger: this.#linger,
      reconnectInterval: 100,
      ...(this.#o.context === undefined ? {} : { context: this.#o.context }),
    });
    this.own(socket);
    if (this.#o.serverKey !== undefined) {
      Object.assign(
        socket,
        curveClientOptions({ serverKey: this.#o.serverKey, secretKey: this.#o.secretKey }),
      );
    }
    this.#expiry = this.own(
      new ExpiryTable<string>({
        ...(this.#o.clock === undefined ? {} : { clock: this.#o.clock }),
        onExpire: (rid) => {
          this.#stats.timeouts++;
          this.#pending
            .get(rid)
            ?.reject(new ZgError("ZG_TIMEOUT", `no status within ${this.#timeout} ms`));
          this.#pending.delete(rid);
        },
      }),
    );
    socket.connect(this.#broker);
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "secure-pubsub-client",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
      }).start(),
    );
    this.own(() => {
      for (const d of this.#pending.values()) d.reject(new ZgError("ZG_CLOSED", "client closed"));
      this.#pending.clear();
    });
    await this.#login();
    this.setInterval(
      () => {
        if (
          this.running &&
          performance.now() - this.#lastSent >= this.#refresh &&
          this.#relogging === undefined
        ) {
          this.#request({ cmd: "ping", requestId: this.#rid() }).then(
            (r) => {
              if (r.code === 401) this.#lost(r.text);
            },
            () => undefined,
          );
        }
      },
      Math.max(10, Math.floor(this.#refresh / 2)),
    );
  }

  async #login(): Promise<void> {
    const challenge = await this.#requestRaw({ cmd: "hello", requestId: this.#rid() });
    const c = decodeBroker(challenge);
    if (c.cmd !== "challenge") {
      const text = c.cmd === "status" ? `${c.code} ${c.text}` : c.cmd;
      throw new ZgError("ZG_STATE", `login refused: ${text}`, {
        details: { status: c.cmd === "status" ? c.code : undefined },
      });
    }
    const signature = ed25519Sign(
      loginTranscript(c.nonce, nacl.hash(this.#token)),
      this.#sign.secretKey,
    );
    const r = await this.#request({
      cmd: "login",
      requestId: this.#rid(),
      token: Buffer.from(this.#token),
      signature: Buffer.from(signature),
    });
    if (r.code !== 200) {
      throw new ZgError("ZG_STATE", `login refused: ${r.code} ${r.text}`, {
        details: { status: r.code },
      });
    }
    this.#stats.logins++;
  }

  #lost(reason: string): void {
    if (this.#relogging !== undefined || !this.running) return;
    this.#stats.sessionsLost++;
    this.emit("session:lost", { reason });
    if (this.#o.relogin === false) return;
    this.#relogging = (async () => {
      try {
        await this.#login();
        for (const s of this.#subscriptions)
          await this.#request({ cmd: "subscribe", requestId: this.#rid(), pattern: s });
        this.emit("session:restored", { subscriptions: this.#subscriptions.size });
      } catch (error) {
        this.logger.warn("re-login failed", { error: String(error) });
        if (this.running) this.fail(error as Error);
      } finally {
        this.#relogging = undefined;
      }
    })();
  }

  #onMessage(frames: Message): void {
    let m;
    try {
      m = decodeBroker(frames);
    } catch (error) {
      this.#stats.protocolErrors++;
      this.emit("protocol:invalid", { reason: (error as Error).message });
      return;
    }
    if (m.cmd === "message") {
      this.#stats.received++;
      this.emit("message:received", {
        topic: m.topic,
        publisher: z85Encode(m.publisher),
        payload: m.payload,
      });
      return;
    }
    const rid = m.requestId.toString("latin1");
    const d = this.#pending.get(rid);
    if (d !== undefined) {
      this.#pending.delete(rid);
      this.#expiry?.delete(rid);
      d.resolve(frames);
      return;
    }
    if (m.cmd === "status" && m.requestId.length === 0 && m.code === 401) this.#lost(m.text);
    else if (m.cmd === "status" && m.code !== 200)
      this.logger.debug("refused", { code: m.code, text: m.text });
  }

  #rid(): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(this.#nextId++ >>> 0);
    return b;
  }

  #post(m: ClientMessage): void {
    this.#lastSent = performance.now();
    this.#loop?.post(encodeClient(m));
  }

  #requestRaw(m: ClientMessage): Promise<Message> {
    const rid = m.requestId.toString("latin1");
    const d = deferred<Message>();
    this.#pending.set(rid, d);
    this.#expiry?.set(rid, this.#timeout);
    this.#post(m);
    return d.promise;
  }

  async #request(m: ClientMessage): Promise<StatusReply> {
    const r = decodeBroker(await this.#requestRaw(m));
    if (r.cmd !== "status") throw new ZgError("ZG_PROTOCOL", `expected a status, got ${r.cmd}`);
    return { code: r.code, text: r.text };
  }
}
