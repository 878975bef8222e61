import * as zmq from "zeromq";
import {
  bindAll,
  Component,
  createSocket,
  SocketLoop,
  ZgError,
  type BaseSocketOptions,
  type BoundEndpoints,
  type ComponentOptions,
  type FrameLike,
  type Message,
  type SocketLoopStats,
} from "@zg/core";
import { isZ85Key, z85Decode, z85Encode } from "./z85.js";
import { zapHandlerOf, type ZapHandler } from "./zap.js";
import { x25519PublicKey } from "./crypto.js";

/** Socket options of a fail-closed CURVE server (Ironhouse). */
export interface CurveServerSocketOptions {
  curveServer: true;
  curveSecretKey: string;
  curvePublicKey: string;
  zapDomain: string;
  zapEnforceDomain: true;
}

/** Input of {@link curveServerOptions}. */
export interface CurveServerConfig {
  /** The server's Z85 CURVE secret key. */
  secretKey: string;
  /** The ZAP domain, non-empty (an empty domain with enforcement skips ZAP: fail open). */
  domain: string;
  /** The socket's context; must have a running {@link ZapHandler}. @defaultValue zeromq.js's default context */
  context?: zmq.Context;
}

/** The Z85 public key of a Z85 CURVE secret key. */
export function curvePublicKey(secretKey: string): string {
  return z85Encode(x25519PublicKey(z85Decode(secretKey)));
}

/**
 * Socket options for a CURVE server that **fails closed**: a ZAP handler is
 * running in its context, the domain is non-empty and `zapEnforceDomain` is
 * on, the only row of libzmq 4.3.5's table where an absent or crashed
 * handler refuses every handshake (reliability battery §6.2).
 *
 * @throws {@link ZgError} `ZG_STATE` when no ZAP handler runs in the context;
 * `ZG_INVALID_ARGUMENT` for an empty domain or a malformed key.
 */
export function curveServerOptions(config: CurveServerConfig): CurveServerSocketOptions {
  if (!isZ85Key(config?.secretKey)) {
    throw new ZgError("ZG_INVALID_ARGUMENT", "secretKey must be a 40-character Z85 CURVE key");
  }
  if (typeof config.domain !== "string" || config.domain.length === 0) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      "a CURVE server needs a non-empty ZAP domain (an empty one fails open)",
    );
  }
  if (zapHandlerOf(config.context) === undefined) {
    throw new ZgError(
      "ZG_STATE",
      "no running ZapHandler in this context: start one before any CURVE server",
    );
  }
  return {
    curveServer: true,
    curveSecretKey: config.secretKey,
    curvePublicKey: curvePublicKey(config.secretKey),
    zapDomain: config.domain,
    zapEnforceDomain: true,
  };
}

/** Socket options of a CURVE client that authenticates the server by its public key. */
export function curveClientOptions(config: { serverKey: string; secretKey: string }): {
  curveServerKey: string;
  curveSecretKey: string;
  curvePublicKey: string;
} {
  if (!isZ85Key(config?.serverKey) || !isZ85Key(config.secretKey)) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      "serverKey and secretKey must be 40-character Z85 CURVE keys",
    );
  }
  return {
    curveServerKey: config.serverKey,
    curveSecretKey: config.secretKey,
    curvePublicKey: curvePublicKey(config.secretKey),
  };
}

/**
 * Checks a live socket against the fail-closed row: CURVE server, non-empty
 * `zapDomain`, `zapEnforceDomain`, and a running ZAP handler in its context.
 *
 * @throws {@link ZgError} `ZG_STATE` naming the first unmet condition.
 */
export function assertFailClosed(socket: zmq.Socket): void {
  const s = socket as zmq.Socket & {
    curveServer?: boolean;
    zapDomain?: string | null;
    zapEnforceDomain?: boolean;
  };
  if (s.curveServer !== true) throw new ZgError("ZG_STATE", "socket is not a CURVE server");
  if (!s.zapDomain) throw new ZgError("ZG_STATE", "socket has an empty zapDomain (fails open)");
  if (s.zapEnforceDomain !== true)
    throw new ZgError("ZG_STATE", "socket has zapEnforceDomain off (fails open)");
  if (zapHandlerOf(socket.context) === undefined) {
    throw new ZgError("ZG_STATE", "no running ZapHandler in the socket's context");
  }
}

/** A zeromq.js socket class a {@link SecureServer} can bind. */
export type ServerSocketClass = new (options?: zmq.SocketOptions<zmq.Socket>) => zmq.Socket;

/** Options of {@link SecureServer}. */
export interface SecureServerOptions extends ComponentOptions {
  /** The running ZAP handler of the socket's context (required: no handler, no server). */
  handler: ZapHandler;
  /** The socket class, e.g. `zmq.Router`. */
  socket: ServerSocketClass;
  /** Endpoints to bind, e.g. `["tcp://127.0.0.1:*"]`. */
  endpoints: readonly string[];
  /** The server's Z85 CURVE secret key. */
  secretKey: string;
  /** Non-empty ZAP domain. */
  domain: string;
  /** Other socket options (linger is required). */
  socketOptions: BaseSocketOptions & Record<string, unknown>;
  /** Handler of received messages (omit for write-only sockets). */
  onMessage?: (message: Message) => void | Promise<void>;
  /**
   * Whether to reset the socket when the handler revokes keys (drops every
   * connection; the allowed peers reconnect through ZAP, revoked ones are
   * refused). Turn off only if the application kicks revoked peers itself.
   * @defaultValue true
   */
  resetOnRevoke?: boolean;
}

/** Events of a {@link SecureServer}. */
export type SecureServerEvents = {
  /** The socket was recreated (all connections dropped) because keys were revoked. */
  "connections:dropped": { revoked: string[] };
};

/** Counters of a {@link SecureServer}. */
export interface SecureServerStats extends SocketLoopStats {
  /** Socket resets after revocations. */
  resets: number;
}

/**
 * An Ironhouse server socket that fails closed and enforces revocation.
 * Construction refuses a missing handler, an empty domain or a bad key;
 * `start()` refuses a handler that is not running in the socket's context,
 * and checks the bound socket with {@link assertFailClosed}.
 *
 * ZAP gates only new handshakes and zeromq.js cannot close one connection of
 * a bound socket (`unbind` keeps accepted connections), so when the handler
 * emits `keys:revoked` the server **recreates its socket** on the same endpoints:
 * every connection drops, allowed clients reconnect (libzmq retries after
 * `reconnectInterval`) and revoked ones are refused by ZAP. Messages queued
 * in the old socket are lost; applications that cannot afford that kick
 * peers themselves (the entitled pub-sub broker does, by login).
 */
export class SecureServer extends Component<SecureServerEvents, SecureServerStats, BoundEndpoints> {
  readonly #o: SecureServerOptions;
  #loop: SocketLoop | undefined;
  #endpoints: string[] = [];
  #resets = 0;
  #resetting: Promise<void> | undefined;
  readonly #retired: SocketLoopStats[] = [];

  constructor(options: SecureServerOptions) {
    super("secure-server", options);
    if (options?.handler === undefined) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        "a SecureServer needs a ZapHandler (no handler fails open)",
      );
    }
    if (typeof options.domain !== "string" || options.domain.length === 0) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        "a SecureServer needs a non-empty ZAP domain (an empty one fails open)",
      );
    }
    if (!isZ85Key(options.secretKey)) {
      throw new ZgError("ZG_INVALID_ARGUMENT", "secretKey must be a 40-character Z85 CURVE key");
    }
    if (typeof options.socket !== "function")
      throw new ZgError("ZG_INVALID_ARGUMENT", "socket must be a socket class");
    if (!Array.isArray(options.endpoints) || options.endpoints.length === 0) {
      throw new ZgError("ZG_INVALID_ARGUMENT", "endpoints must be a non-empty array");
    }
    if (typeof options.socketOptions?.linger !== "number") {
      throw new ZgError("ZG_INVALID_ARGUMENT", "socketOptions.linger is required");
    }
    this.#o = options;
  }

  /** The bound endpoints (real ports). */
  get endpoints(): readonly string[] {
    return this.#endpoints;
  }

  /** The server's Z85 public key (give it to clients as `curveServerKey`). */
  get publicKey(): string {
    return curvePublicKey(this.#o.secretKey);
  }

  stats(): SecureServerStats {
    const live = this.#loop?.stats();
    const sum = {
      received: 0,
      sent: 0,
      unreachable: 0,
      timeouts: 0,
      overflows: 0,
      sendErrors: 0,
      protocolErrors: 0,
      handlerErrors: 0,
      queued: 0,
    };
    for (const s of [...this.#retired, ...(live ? [live] : [])]) {
      for (const k of Object.keys(sum) as (keyof SocketLoopStats)[]) sum[k] += s[k];
    }
    sum.queued = live?.queued ?? 0;
    return { ...sum, resets: this.#resets };
  }

  /** Queues a message on the socket (see `SocketLoop.post`). False if refused. */
  post(message: readonly FrameLike[]): boolean {
    return this.#loop?.post(message) ?? false;
  }

  /** Drops every connection now by recreating the socket (see the class notes). */
  async reset(revoked: string[] = []): Promise<void> {
    if (!this.running) return;
    const previous = this.#resetting ?? Promise.resolve();
    this.#resetting = previous.then(() => this.#reset(revoked));
    await this.#resetting;
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const handler = this.#o.handler;
    const context = this.#o.socketOptions.context ?? zmq.context;
    if (handler.state !== "running" || handler.context !== context) {
      throw new ZgError(
        "ZG_STATE",
        "the ZapHandler must be running in the server socket's context before start()",
      );
    }
    this.#endpoints = await this.#open(this.#o.endpoints);
    const onRevoked = ({ keys }: { keys: string[] }): void => {
      if (this.#o.resetOnRevoke !== false) void this.reset(keys);
    };
    handler.on("keys:revoked", onRevoked);
    this.own(() => handler.off("keys:revoked", onRevoked));
    this.own(async () => {
      await this.#resetting?.catch(() => undefined);
      await this.#loop?.close();
    });
    return { endpoints: [...this.#endpoints] };
  }

  async #open(endpoints: readonly string[]): Promise<string[]> {
    const socket = createSocket<zmq.Socket>(this.#o.socket, {
      ...this.#o.socketOptions,
      ...curveServerOptions({
        secretKey: this.#o.secretKey,
        domain: this.#o.domain,
        ...(this.#o.socketOptions.context === undefined
          ? {}
          : { context: this.#o.socketOptions.context }),
      }),
    });
    try {
      assertFailClosed(socket);
      const bound = await bindAll(socket, endpoints);
      this.#loop = new SocketLoop(socket, {
        name: "secure-server",
        logger: this.logger,
        ...(this.#o.onMessage === undefined ? {} : { onMessage: this.#o.onMessage }),
      }).start();
      return bound;
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  async #reset(revoked: string[]): Promise<void> {
    if (!this.running) return;
    const loop = this.#loop;
    this.#loop = undefined;
    if (loop !== undefined) {
      this.#retired.push(loop.stats());
      await loop.close();
    }
    // Rebind the concrete endpoints the clients know; a port taken meanwhile is fatal.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#open(this.#endpoints);
        break;
      } catch (error) {
        if (attempt >= 20 || this.stopping) {
          this.fail(error as Error);
          return;
        }
        await new Promise((r) => setTimeout(r, 25)); // the old listener may still be closing
      }
    }
    this.#resets++;
    this.logger.info("socket reset after revocation", { revoked: revoked.length });
    this.emit("connections:dropped", { revoked });
  }
}
