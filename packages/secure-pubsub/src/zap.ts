import * as zmq from "zeromq";
import {
  assertLibzmq,
  Component,
  createRouter,
  durationOption,
  lingerOption,
  ProtocolError,
  SocketLoop,
  ZgError,
  type ComponentOptions,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { CertStore, DEFAULT_CERT_RELOAD_INTERVAL, type CertStoreChange } from "./cert-store.js";
import { z85Encode } from "./z85.js";

/** The endpoint libzmq sends ZAP requests to (27/ZAP), in the secured socket's context. */
export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

/** The only ZAP version (27/ZAP). */
export const ZAP_VERSION = "1.0";

/**
 * Default time a policy may take before the handler answers 500 for it,
 * 1000 ms: far below libzmq's 30 s `handshakeInterval`, so a hung policy
 * costs one refused handshake, never a stalled server (reliability battery §6.3).
 */
export const DEFAULT_ZAP_POLICY_TIMEOUT = 1000;

/** A decoded ZAP request (27/ZAP). */
export interface ZapRequest {
  /** Request id, echoed in the reply. */
  requestId: Buffer;
  /** The server socket's `zapDomain`. */
  domain: string;
  /** The client's address (IP for tcp). */
  address: string;
  /** The server socket's own routing id (not the client's; see README). */
  identity: Buffer;
  /** "NULL", "PLAIN", "CURVE" or "GSSAPI". */
  mechanism: string;
  /** Mechanism credentials: CURVE = one 32-byte public key; PLAIN = user, password. */
  credentials: Buffer[];
  /** For CURVE: the client's public key in Z85, else undefined. */
  curveKey: string | undefined;
}

/** A ZAP status code: 200 allow, 300 temporary failure, 400 denied, 500 internal error. */
export type ZapStatus = "200" | "300" | "400" | "500";

/** A ZAP reply. */
export interface ZapReply {
  requestId: Buffer;
  status: ZapStatus;
  text: string;
  userId: string;
}

/**
 * Decodes a ZAP request as a ROUTER handler receives it (routing id and empty
 * delimiter first).
 *
 * @throws {@link ProtocolError} for a missing delimiter, a wrong version or too
 * few frames. `details.requestId` is set when a reply can still be addressed.
 */
export function decodeZapRequest(frames: Message): ZapRequest {
  if (frames.length < 2 || (frames[1] as Buffer).length !== 0) {
    throw new ProtocolError("ZAP request without an empty delimiter");
  }
  const body = frames.slice(2);
  const requestId = body[1];
  if (body.length < 6) {
    throw new ProtocolError(`ZAP request has ${body.length} frames, needs at least 6`, {
      details: { requestId },
    });
  }
  const version = (body[0] as Buffer).toString("latin1");
  if (version !== ZAP_VERSION) {
    throw new ProtocolError(`ZAP version ${JSON.stringify(version)} is not 1.0`, {
      details: { requestId },
    });
  }
  const mechanism = (body[5] as Buffer).toString("latin1");
  const credentials = body.slice(6) as Buffer[];
  const key = credentials[0];
  return {
    requestId: body[1] as Buffer,
    domain: (body[2] as Buffer).toString("latin1"),
    address: (body[3] as Buffer).toString("latin1"),
    identity: body[4] as Buffer,
    mechanism,
    credentials,
    curveKey:
      mechanism === "CURVE" && credentials.length === 1 && key !== undefined && key.length === 32
        ? z85Encode(key)
        : undefined,
  };
}

const ascii255 = (s: string): Buffer =>
  Buffer.from(s.replace(/[^\x20-\x7e]/g, "?").slice(0, 255), "latin1");

/** Encodes a ZAP reply body (without routing id): `[""]["1.0"][id][status][text][user id][metadata]`. */
export function encodeZapReply(reply: ZapReply): Buffer[] {
  return [
    Buffer.alloc(0),
    Buffer.from(ZAP_VERSION),
    reply.requestId,
    Buffer.from(reply.status),
    ascii255(reply.text),
    ascii255(reply.userId),
    Buffer.alloc(0),
  ];
}

/** What a policy returns: a boolean, or a full decision. */
export type ZapDecision = boolean | { status: ZapStatus; text?: string; userId?: string };

/** Decides one ZAP request. May be async; whatever it throws becomes a 500 reply. */
export type ZapPolicy = (request: ZapRequest) => ZapDecision | Promise<ZapDecision>;

/** Events of a {@link ZapHandler}. */
export type ZapHandlerEvents = {
  /** A request answered 200. */
  "handshake:accepted": ZapDecisionEvent;
  /** A request answered 300, 400 or 500. */
  "handshake:refused": ZapDecisionEvent;
  /** The allow-list changed on a reload. `removed` keys are revoked: drop their live connections. */
  "keys:reloaded": CertStoreChange;
  /** Keys removed from the allow-list (also in `keys:reloaded`); see {@link SecureServer}. */
  "keys:revoked": { keys: string[] };
};

/** Payload of the `handshake:*` events of a {@link ZapHandler}. */
export interface ZapDecisionEvent {
  /** The server socket's ZAP domain. */
  domain: string;
  /** The client's security mechanism. */
  mechanism: string;
  /** The client's address. */
  address: string;
  /** The client's Z85 CURVE key (CURVE only). */
  key: string | undefined;
  /** The status answered. */
  status: ZapStatus;
}

/** Counters of a {@link ZapHandler}. */
export interface ZapHandlerStats {
  requests: number;
  allowed: number;
  denied: number;
  /** Policies that threw or timed out (answered 500). */
  policyErrors: number;
  /** Malformed requests (answered 500 when addressable, else dropped). */
  malformed: number;
  /** Keys currently allowed by the certificate store, if any. */
  allowedKeys: number;
  reloads: number;
}

/** Options of {@link ZapHandler}. */
export interface ZapHandlerOptions extends ComponentOptions, LingerOptions {
  /**
   * The zeromq.js context the secured sockets use (the handler must share it).
   * @defaultValue zeromq.js's default context
   */
  context?: zmq.Context;
  /** Allow-list: a directory of public certificates, or a {@link CertStore}. Admits CURVE keys in it. */
  allow?: string | CertStore;
  /** A custom policy, consulted instead of the allow-list (exactly one of `allow`, `policy`). */
  policy?: ZapPolicy;
  /**
   * Only these ZAP domains are answered 200; others get 400.
   * @defaultValue any domain
   */
  domains?: readonly string[];
  /** Allow-list reload period in ms. @defaultValue {@link DEFAULT_CERT_RELOAD_INTERVAL} */
  reloadInterval?: number;
  /** Time a policy may take, ms. @defaultValue {@link DEFAULT_ZAP_POLICY_TIMEOUT} */
  policyTimeout?: number;
}

const handlers = new WeakMap<zmq.Context, ZapHandler>();

/**
 * The running ZAP handler of a context, if any. {@link curveServerOptions}
 * uses it to refuse a secured server whose context has no handler.
 */
export function zapHandlerOf(context: zmq.Context = zmq.context): ZapHandler | undefined {
  const h = handlers.get(context);
  return h !== undefined && h.state === "running" ? h : undefined;
}

/**
 * The ZAP handler (27/ZAP) of one zeromq.js context: a ROUTER on
 * `inproc://zeromq.zap.01` that answers **every** request (a throwing or hung
 * policy is answered 500, a malformed request 500), so no handshake ever waits
 * on it. With `allow`, it admits exactly the CURVE keys of a certificate
 * directory (Ironhouse) and reloads the directory when it changes, emitting
 * `keys:revoked` for keys that disappeared. One per context: `start()` refuses a
 * second. Start it **before** any secured server socket.
 *
 * @example
 * ```ts
 * const zap = new ZapHandler({ allow: "/etc/zg/allowed" });
 * await zap.start();
 * const server = new zmq.Router({ linger: 0, ...curveServerOptions({ secretKey, domain: "global" }) });
 * ```
 */
export class ZapHandler extends Component<ZapHandlerEvents, ZapHandlerStats> {
  readonly #linger: number;
  /** The context this handler serves. */
  readonly context: zmq.Context;
  /** The allow-list, when configured with `allow`. */
  readonly store: CertStore | undefined;
  readonly #policy: ZapPolicy;
  readonly #domains: Set<string> | undefined;
  readonly #reloadInterval: number;
  readonly #policyTimeout: number;
  #loop: SocketLoop | undefined;
  readonly #stats = {
    requests: 0,
    allowed: 0,
    denied: 0,
    policyErrors: 0,
    malformed: 0,
    reloads: 0,
  };

  constructor(options: ZapHandlerOptions) {
    super("zap", options);
    this.#linger = lingerOption(options.linger);
    const hasAllow = options.allow !== undefined;
    const hasPolicy = options.policy !== undefined;
    if (hasAllow === hasPolicy) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        "ZapHandler needs exactly one of `allow` or `policy`",
      );
    }
    if (hasPolicy && typeof options.policy !== "function") {
      throw new ZgError("ZG_INVALID_ARGUMENT", "policy must be a function");
    }
    this.context = options.context ?? zmq.context;
    this.#reloadInterval = durationOption(
      "reloadInterval",
      options.reloadInterval,
      DEFAULT_CERT_RELOAD_INTERVAL,
      {
        min: 10,
      },
    );
    this.#policyTimeout = durationOption(
      "policyTimeout",
      options.policyTimeout,
      DEFAULT_ZAP_POLICY_TIMEOUT,
      {
        min: 1,
      },
    );
    if (options.domains !== undefined) {
      if (
        !Array.isArray(options.domains) ||
        options.domains.some((d) => typeof d !== "string" || d === "")
      ) {
        throw new ZgError("ZG_INVALID_ARGUMENT", "domains must be non-empty strings");
      }
      this.#domains = new Set(options.domains);
    }
    if (hasAllow) {
      const allow = options.allow as string | CertStore;
      this.store =
        typeof allow === "string" ? new CertStore(allow, { logger: this.logger }) : allow;
      const store = this.store;
      this.#policy = (r) =>
        r.mechanism === "CURVE" && r.curveKey !== undefined && store.has(r.curveKey);
    } else {
      this.store = undefined;
      this.#policy = options.policy as ZapPolicy;
    }
  }

  stats(): ZapHandlerStats {
    return { ...this.#stats, allowedKeys: this.store?.size ?? 0 };
  }

  /**
   * Rescans the allow-list now (it is also rescanned every `reloadInterval`).
   * Emits `keys:reloaded` and, for removed keys, `keys:revoked`.
   */
  reload(): CertStoreChange {
    if (this.store === undefined) return { added: [], removed: [] };
    const change = this.store.reload();
    if (change.added.length + change.removed.length > 0) {
      this.#stats.reloads++;
      this.emit("keys:reloaded", change);
      if (change.removed.length > 0) this.emit("keys:revoked", { keys: change.removed });
    }
    return change;
  }

  protected async onStart(): Promise<void> {
    assertLibzmq({ curve: true }); // battery F9: patched libzmq with CURVE
    const existing = handlers.get(this.context);
    if (existing !== undefined && existing !== this && !existing.stopping) {
      throw new ZgError("ZG_STATE", "a ZAP handler is already running in this zeromq context");
    }
    handlers.set(this.context, this);
    this.own(() => {
      if (handlers.get(this.context) === this) handlers.delete(this.context);
    });
    this.store?.reload({ force: true });
    const socket = createRouter({ linger: this.#linger, context: this.context, mandatory: false });
    this.own(socket);
    try {
      await socket.bind(ZAP_ENDPOINT);
    } catch (error) {
      throw new ZgError(
        "ZG_SOCKET",
        `cannot bind ${ZAP_ENDPOINT}: is another ZAP handler bound in this context?`,
        {
          cause: error,
        },
      );
    }
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "zap",
        logger: this.logger,
        onMessage: (m) => this.#onRequest(m),
      }).start(),
    );
    if (this.store !== undefined) this.setInterval(() => this.reload(), this.#reloadInterval);
  }

  #onRequest(frames: Message): void {
    this.#stats.requests++;
    const routingId = frames[0] as Buffer;
    let request: ZapRequest;
    try {
      request = decodeZapRequest(frames);
    } catch (error) {
      this.#stats.malformed++;
      const requestId = (error as ProtocolError).details?.["requestId"];
      this.logger.warn("malformed ZAP request", { error: String(error) });
      if (Buffer.isBuffer(requestId)) {
        this.#reply(routingId, { requestId, status: "500", text: "malformed request", userId: "" });
      }
      return;
    }
    // Each request is decided on its own: a slow policy never delays the others.
    void this.#decide(routingId, request);
  }

  async #decide(routingId: Buffer, request: ZapRequest): Promise<void> {
    let status: ZapStatus;
    let text: string;
    let userId = "";
    try {
      if (this.#domains !== undefined && !this.#domains.has(request.domain)) {
        status = "400";
        text = "unknown domain";
      } else {
        const decision = await this.#withTimeout(request);
        if (typeof decision === "boolean") {
          status = decision ? "200" : "400";
          text = decision ? "OK" : "denied";
        } else {
          status = ["200", "300", "400", "500"].includes(decision.status) ? decision.status : "500";
          text = decision.text ?? (status === "200" ? "OK" : "denied");
          userId = decision.userId ?? "";
        }
        if (status === "200" && userId === "") userId = request.curveKey ?? "";
      }
    } catch (error) {
      this.#stats.policyErrors++;
      this.logger.warn("ZAP policy failed; denying", { error: String(error) });
      status = "500";
      text = "policy error";
    }
    if (status === "200") this.#stats.allowed++;
    else this.#stats.denied++;
    this.emit(status === "200" ? "handshake:accepted" : "handshake:refused", {
      domain: request.domain,
      mechanism: request.mechanism,
      address: request.address,
      key: request.curveKey,
      status,
    });
    this.#reply(routingId, { requestId: request.requestId, status, text, userId });
  }

  #withTimeout(request: ZapRequest): Promise<ZapDecision> {
    return new Promise<ZapDecision>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new ZgError("ZG_TIMEOUT", `policy took over ${this.#policyTimeout} ms`)),
        this.#policyTimeout,
      );
      Promise.resolve()
        .then(() => this.#policy(request))
        .then(resolve, reject)
        .finally(() => clearTimeout(t));
    });
  }

  #reply(routingId: Buffer, reply: ZapReply): void {
    this.#loop?.post([routingId, ...encodeZapReply(reply)]);
  }
}
