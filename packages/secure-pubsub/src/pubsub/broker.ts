import type * as zmq from "zeromq";
import {
  bindAll,
  Component,
  createRouter,
  lingerOption,
  SocketLoop,
  ZgError,
  type BoundEndpoints,
  type ComponentOptions,
  type Frame,
  type LingerOptions,
  type SocketLoopStats,
} from "@zg/core";
import { curveServerOptions } from "../secure-server.js";
import type { ZapHandler } from "../zap.js";
import {
  BrokerCore,
  type BrokerCoreOptions,
  type BrokerEvents,
  type BrokerStats,
} from "./broker-core.js";

/** Options of {@link SecurePubSubBroker}. */
export interface SecurePubSubBrokerOptions
  extends ComponentOptions, LingerOptions, Omit<BrokerCoreOptions, "send" | "logger"> {
  /** Endpoints to bind. @defaultValue ["tcp://127.0.0.1:*"] */
  endpoints?: readonly string[];
  /**
   * Transport security (Ironhouse): the running ZAP handler of the context,
   * the broker's CURVE secret key and a non-empty ZAP domain. Without it the
   * broker runs on plain ZMTP (tests, or a trusted network): logins and
   * tokens still authenticate, but traffic is readable on the wire.
   */
  curve?: { handler: ZapHandler; secretKey: string; domain: string };
  /** zeromq.js context. @defaultValue the default context */
  context?: zmq.Context;
  /** Sees every message in and out (routing id first), e.g. to record traffic. */
  tap?: (direction: "in" | "out", frames: readonly Frame[]) => void;
  /** ROUTER send high-water mark per client. @defaultValue 1000 */
  sendHighWaterMark?: number;
}

/** Counters of a {@link SecurePubSubBroker}. */
export interface SecurePubSubBrokerStats extends BrokerStats {
  socket: SocketLoopStats | undefined;
}

/**
 * The authenticated, entitled pub-sub service of the Guide author's notes:
 * a ROUTER (one copy routed per entitled identity, never PUB fan-out), in
 * front of a {@link BrokerCore}. With `curve`, it is a fail-closed CURVE
 * server, and keys the ZAP handler revokes are also kicked here (the
 * connection is told 401 and removed from both tables), without resetting
 * the socket for everyone else.
 */
export class SecurePubSubBroker extends Component<
  BrokerEvents,
  SecurePubSubBrokerStats,
  BoundEndpoints
> {
  readonly #linger: number;
  /** The state machine (tables, revocation). */
  readonly core: BrokerCore;
  readonly #o: SecurePubSubBrokerOptions;
  #loop: SocketLoop | undefined;

  constructor(options: SecurePubSubBrokerOptions) {
    super("secure-pubsub-broker", options);
    this.#linger = lingerOption(options.linger);
    if (options?.curve !== undefined) {
      const c = options.curve;
      if (c.handler === undefined)
        throw new ZgError("ZG_INVALID_ARGUMENT", "curve.handler is required");
      if (typeof c.domain !== "string" || c.domain === "") {
        throw new ZgError(
          "ZG_INVALID_ARGUMENT",
          "curve.domain must be non-empty (an empty one fails open)",
        );
      }
    }
    this.#o = options;
    this.core = new BrokerCore({
      ...options,
      logger: this.logger,
      send: (identity, frames) => this.#send(identity, frames),
    });
    for (const type of [
      "client:joined",
      "client:expired",
      "client:revoked",
      "request:refused",
      "protocol:invalid",
    ] as const) {
      this.core.on(type, (e) => this.emit(type, e as never));
    }
  }

  stats(): SecurePubSubBrokerStats {
    return { ...this.core.stats(), socket: this.#loop?.stats() };
  }

  /** See {@link BrokerCore.revoke}. */
  revoke(what: { tokenId?: string; key?: string }): number {
    return this.core.revoke(what);
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const c = this.#o.curve;
    const context = this.#o.context;
    const socket = createRouter({
      linger: this.#linger,
      sendHighWaterMark: this.#o.sendHighWaterMark ?? 1000,
      ...(context === undefined ? {} : { context }),
    });
    this.own(socket);
    if (c !== undefined) {
      Object.assign(
        socket,
        curveServerOptions({
          secretKey: c.secretKey,
          domain: c.domain,
          ...(context === undefined ? {} : { context }),
        }),
      );
      const onRevoked = ({ keys }: { keys: string[] }): void => {
        for (const key of keys) this.core.revoke({ key });
      };
      c.handler.on("keys:revoked", onRevoked);
      this.own(() => c.handler.off("keys:revoked", onRevoked));
    }
    const endpoints = await bindAll(socket, this.#o.endpoints ?? ["tcp://127.0.0.1:*"]);
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "secure-pubsub",
        logger: this.logger,
        onMessage: (m) => {
          this.#o.tap?.("in", m);
          this.core.handle(m);
        },
        onSendFailure: (m, outcome) => {
          if (outcome === "unreachable" && m[0] !== undefined) this.core.drop(m[0]);
        },
      }).start(),
    );
    this.own(() => this.core.close());
    return { endpoints };
  }

  #send(identity: Frame, frames: Frame[]): void {
    const m = [identity, ...frames];
    this.#o.tap?.("out", m);
    this.#loop?.post(m);
  }
}
