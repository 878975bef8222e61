import type * as zmq from "zeromq";
import {
  bindAll,
  Component,
  createDealer,
  createRouter,
  deferred,
  ExpiryTable,
  identityKey,
  lingerOption,
  ProtocolError,
  SocketLoop,
  ZgError,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type Deferred,
  type Frame,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { curveClientOptions, curveServerOptions } from "../secure-server.js";
import type { ZapHandler } from "../zap.js";
import { DEFAULT_REQUEST_TIMEOUT } from "../pubsub/constants.js";
import { mayPublish, verifyToken } from "../pubsub/token.js";
import { KeyServiceCore, type KeyServiceCoreOptions, type Rotation } from "./key-service-core.js";
import { reportTranscript, type E2ESession } from "./session.js";
import { ed25519Verify } from "../crypto.js";
import { z85Decode } from "../z85.js";

/** How far a REPORT's timestamp may be from the service's clock, 30 s. */
const REPORT_FRESHNESS = 30_000;

/** Version marker of the key-service protocol (ADR 4). */
export const KEYS_MAGIC = "ZGKS01";

const MAGIC = Buffer.from(KEYS_MAGIC);
const GET = 0x01;
const REPORT = 0x02;
const KEYS = 0x81;
const PUSH = 0x82;
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** Events of a {@link KeyService}. */
export type KeyServiceEvents = {
  /** A new epoch was started and pushed to the members watching the topic. */
  "epoch:rotated": { topic: string; epoch: number; reason: string; members: number };
  /** A request that breaks the protocol (counted, dropped). */
  "protocol:invalid": { reason: string };
};

/** Options of {@link KeyService}. */
export interface KeyServiceOptions
  extends ComponentOptions, LingerOptions, Omit<KeyServiceCoreOptions, "clock"> {
  /** @defaultValue ["tcp://127.0.0.1:*"] */
  endpoints?: readonly string[];
  /** Fail-closed CURVE transport, as for the broker. */
  curve?: { handler: ZapHandler; domain: string };
  context?: zmq.Context;
}

/**
 * The group-key service on a ROUTER (`ZGKS01`): members GET the wrapped keys
 * of a topic (their token is the credential; bundles are boxed to the
 * token's CURVE key, so only its holder can open them), publishers REPORT
 * message counts, and every rotation is pushed to the members that asked for
 * the topic. It can run apart from the broker, which never sees a group key.
 */
export class KeyService extends Component<
  KeyServiceEvents,
  ReturnType<KeyServiceCore["stats"]> & { protocolErrors: number },
  BoundEndpoints
> {
  readonly #linger: number;
  /** The state machine. */
  readonly core: KeyServiceCore;
  readonly #o: KeyServiceOptions;
  readonly #issuers: Set<string>;
  #loop: SocketLoop | undefined;
  readonly #watchers = new Map<string, Map<string, Buffer>>();
  readonly #lastReport = new Map<string, number>();
  #protocolErrors = 0;

  constructor(options: KeyServiceOptions) {
    super("key-service", options);
    this.#linger = lingerOption(options.linger);
    this.#o = options;
    this.#issuers = new Set(options.issuers);
    this.core = new KeyServiceCore(options);
  }

  stats(): ReturnType<KeyServiceCore["stats"]> & { protocolErrors: number } {
    return { ...this.core.stats(), protocolErrors: this.#protocolErrors };
  }

  /** Revokes a token id or key, rotating (and pushing) every topic it was a member of. */
  revoke(what: { tokenId?: string; key?: string }): Rotation[] {
    const rs = this.core.revoke(what);
    for (const r of rs) this.#push(r);
    return rs;
  }

  /** Removes a member (CURVE key) from a topic (or all), rotating. */
  remove(curveKey: string, topic?: string): Rotation[] {
    const rs = this.core.remove(curveKey, topic);
    for (const r of rs) this.#push(r);
    return rs;
  }

  /** Rotates a topic now. */
  rotate(topic: string): Rotation | undefined {
    const r = this.core.rotate(topic, "manual");
    if (r) this.#push(r);
    return r;
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const context = this.#o.context;
    const socket = createRouter({
      linger: this.#linger,
      ...(context === undefined ? {} : { context }),
    });
    this.own(socket);
    const c = this.#o.curve;
    if (c !== undefined) {
      Object.assign(
        socket,
        curveServerOptions({
          secretKey: this.#o.secretKey,
          domain: c.domain,
          ...(context === undefined ? {} : { context }),
        }),
      );
      const onRevoked = ({ keys }: { keys: string[] }): void => {
        for (const key of keys) this.revoke({ key });
      };
      c.handler.on("keys:revoked", onRevoked);
      this.own(() => c.handler.off("keys:revoked", onRevoked));
    }
    const endpoints = await bindAll(socket, this.#o.endpoints ?? ["tcp://127.0.0.1:*"]);
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "key-service",
        logger: this.logger,
        onMessage: (m) => this.#handle(m),
      }).start(),
    );
    const every = Math.max(10, Math.floor((this.#o.rotateInterval ?? 600_000) / 4));
    this.setInterval(() => {
      for (const r of this.core.tick()) this.#push(r);
    }, every);
    return { endpoints };
  }

  #handle(frames: Message): void {
    const id = frames[0] as Buffer;
    try {
      if (
        frames.length < 4 ||
        !MAGIC.equals(frames[1] as Buffer) ||
        (frames[2] as Buffer).length !== 1
      ) {
        throw new ProtocolError("not a ZGKS01 request");
      }
      const cmd = (frames[2] as Buffer)[0];
      const rid = frames[3] as Buffer;
      const [token, topicF, n, proof] = frames.slice(4) as (Buffer | undefined)[];
      if (
        frames.length !== (cmd === REPORT ? 8 : 7) ||
        token === undefined ||
        topicF === undefined ||
        n === undefined ||
        n.length !== 4 ||
        rid.length > 8
      ) {
        throw new ProtocolError("bad ZGKS01 arguments");
      }
      const topic = topicF.toString("utf8");
      if (cmd === GET) {
        const a = this.core.request(token, topic, n.readUInt32BE(0));
        if (a.code !== 200) return this.#reply(id, rid, a.code, a.reason, []);
        let w = this.#watchers.get(topic);
        if (w === undefined) this.#watchers.set(topic, (w = new Map<string, Buffer>()));
        w.set(a.member, id);
        return this.#reply(id, rid, 200, "OK", a.bundles);
      }
      if (cmd === REPORT) {
        const check = verifyToken(token, {
          issuers: this.#issuers,
          now: Date.now(),
          revocations: this.core.revocations,
        });
        if (!check.ok) return this.#reply(id, rid, 401, `token ${check.reason}`, []);
        if (!mayPublish(check.token, topic))
          return this.#reply(id, rid, 403, "not entitled to publish", []);
        // The token is a public credential: the report must be signed by its key, fresh, and newer than the last.
        const at =
          proof !== undefined && proof.length === 72 ? Number(proof.readBigUInt64BE(0)) : NaN;
        const last = this.#lastReport.get(check.token.key) ?? 0;
        const count = n.readUInt32BE(0);
        if (
          !(Math.abs(Date.now() - at) <= REPORT_FRESHNESS) ||
          !(at > last) ||
          !ed25519Verify(
            reportTranscript(topic, count, at),
            (proof as Buffer).subarray(8),
            z85Decode(check.token.key),
          )
        ) {
          return this.#reply(id, rid, 401, "bad report proof", []);
        }
        this.#lastReport.set(check.token.key, at);
        const r = this.core.noteMessages(topic, count);
        if (r) this.#push(r);
        return this.#reply(id, rid, 200, "OK", []);
      }
      throw new ProtocolError(`unknown command ${String(cmd)}`);
    } catch (error) {
      this.#protocolErrors++;
      this.emit("protocol:invalid", { reason: String(error) });
    }
  }

  #reply(id: Buffer, rid: Buffer, code: number, text: string, bundles: Buffer[]): void {
    this.#loop?.post([
      id,
      MAGIC,
      Buffer.from([KEYS]),
      rid,
      Buffer.from(String(code)),
      Buffer.from(text),
      ...bundles,
    ]);
  }

  #push(r: Rotation): void {
    const w = this.#watchers.get(r.topic);
    // Watchers that are no longer members (removed, revoked) get nothing.
    if (w !== undefined) {
      for (const [member, id] of [...w]) {
        const b = r.bundles.get(member);
        if (b === undefined) w.delete(member);
        else this.#loop?.post([id, MAGIC, Buffer.from([PUSH]), Buffer.alloc(0), b]);
      }
    }
    this.emit("epoch:rotated", {
      topic: r.topic,
      epoch: r.epoch,
      reason: r.reason,
      members: r.bundles.size,
    });
  }
}

/** Events of a {@link KeyClient}. */
export type KeyClientEvents = {
  /** A pushed epoch key was added to the session. */
  "epoch:received": { topic: string; epoch: number };
  /** A reply or push that breaks the protocol or does not open (counted, dropped). */
  "protocol:invalid": { reason: string };
};

/** Options of {@link KeyClient}. */
export interface KeyClientOptions extends ComponentOptions, LingerOptions {
  /**
   * The {@link KeyService}'s endpoint. Required; the deprecated `endpoint` is
   * read when it is absent.
   */
  keyService?: string;
  /** @deprecated Since 0.2: use {@link KeyClientOptions.keyService} (same meaning). */
  endpoint?: string;
  /** Time source of request timeouts. @defaultValue systemClock */
  clock?: Clock;
  /** The member's session: bundles are opened into its key ring. */
  session: E2ESession;
  /** The member's token (its credential at the key service). */
  token: Uint8Array;
  /** With CURVE: the service's public key and the member's secret key. */
  curve?: { serverKey: string; secretKey: string };
  requestTimeout?: number;
  context?: zmq.Context;
}

/** A member's connection to the {@link KeyService} (a DEALER). */
export class KeyClient extends Component<
  KeyClientEvents,
  { fetched: number; pushed: number; protocolErrors: number }
> {
  readonly #linger: number;
  readonly #o: KeyClientOptions;
  readonly #keyService: string;
  #loop: SocketLoop | undefined;
  #next = 1;
  #lastReportAt = 0;
  readonly #pending = new Map<string, Deferred<Message>>();
  #expiry: ExpiryTable<string> | undefined;
  readonly #stats = { fetched: 0, pushed: 0, protocolErrors: 0 };

  constructor(options: KeyClientOptions) {
    super("key-client", options);
    this.#linger = lingerOption(options.linger);
    const keyService = options?.keyService ?? options?.endpoint;
    if (typeof keyService !== "string" || options.session === undefined) {
      throw new ZgError("ZG_INVALID_ARGUMENT", "keyService and session are required");
    }
    this.#keyService = keyService;
    this.#o = options;
  }

  stats(): { fetched: number; pushed: number; protocolErrors: number } {
    return { ...this.#stats };
  }

  /**
   * Fetches the keys of `topic` from epoch `since` into the session.
   *
   * @returns the epochs received.
   * @throws {@link ZgError} `ZG_STATE` with `details.status` when refused, `ZG_TIMEOUT`.
   */
  async fetch(topic: string, since = 0): Promise<number[]> {
    const r = await this.#request(GET, topic, since);
    const code = Number(String(r[3]));
    if (code !== 200)
      throw new ZgError("ZG_STATE", `key request refused: ${code} ${String(r[4])}`, {
        details: { status: code },
      });
    const epochs: number[] = [];
    for (const b of r.slice(5) as Buffer[]) {
      try {
        epochs.push(this.#o.session.addBundle(b).epoch);
        this.#stats.fetched++;
      } catch (error) {
        this.#stats.protocolErrors++;
        this.emit("protocol:invalid", { reason: String(error) });
      }
    }
    return epochs;
  }

  /** Reports `count` messages sent on `topic` (the service rotates after `rotateAfter`). */
  async report(topic: string, count: number): Promise<void> {
    const at = Math.max(Date.now(), this.#lastReportAt + 1);
    this.#lastReportAt = at;
    const proof = Buffer.alloc(8 + 64);
    proof.writeBigUInt64BE(BigInt(at), 0);
    proof.set(this.#o.session.reportProof(topic, count, at), 8);
    const r = await this.#request(REPORT, topic, count, proof);
    const code = Number(String(r[3]));
    if (code !== 200) {
      throw new ZgError("ZG_STATE", `report refused: ${code} ${String(r[4])}`, {
        details: { status: code },
      });
    }
  }

  protected onStart(): Promise<void> {
    const ctx = this.#o.context;
    const socket = createDealer({
      linger: this.#linger,
      reconnectInterval: 100,
      ...(ctx === undefined ? {} : { context: ctx }),
    });
    this.own(socket);
    if (this.#o.curve) Object.assign(socket, curveClientOptions(this.#o.curve));
    const timeout = this.#o.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT;
    this.#expiry = this.own(
      new ExpiryTable<string>({
        ...(this.#o.clock === undefined ? {} : { clock: this.#o.clock }),
        onExpire: (rid) => {
          this.#pending
            .get(rid)
            ?.reject(
              new ZgError("ZG_TIMEOUT", `no answer from the key service within ${timeout} ms`),
            );
          this.#pending.delete(rid);
        },
      }),
    );
    this.own(() => {
      for (const d of this.#pending.values())
        d.reject(new ZgError("ZG_CLOSED", "key client closed"));
      this.#pending.clear();
    });
    socket.connect(this.#keyService);
    this.#loop = this.own(
      new SocketLoop(socket, {
        name: "key-client",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
      }).start(),
    );
    return Promise.resolve();
  }

  #onMessage(m: Message): void {
    if (m.length < 4 || !MAGIC.equals(m[0] as Buffer)) {
      this.#stats.protocolErrors++;
      return;
    }
    const cmd = (m[1] as Buffer)[0];
    if (cmd === PUSH && m.length === 4) {
      try {
        const k = this.#o.session.addBundle(m[3] as Buffer);
        this.#stats.pushed++;
        this.emit("epoch:received", { topic: k.topic, epoch: k.epoch });
      } catch (error) {
        this.#stats.protocolErrors++;
        this.emit("protocol:invalid", { reason: String(error) });
      }
      return;
    }
    const rid = identityKey(m[2] as Buffer);
    const d = this.#pending.get(rid);
    if (cmd === KEYS && d !== undefined && m.length >= 5) {
      this.#pending.delete(rid);
      this.#expiry?.delete(rid);
      d.resolve(m);
      return;
    }
    this.#stats.protocolErrors++;
  }

  #request(cmd: number, topic: string, n: number, proof?: Buffer): Promise<Message> {
    const rid = u32(this.#next++);
    const key = identityKey(rid);
    const d = deferred<Message>();
    this.#pending.set(key, d);
    this.#expiry?.set(key, this.#o.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT);
    const frames: Frame[] = [
      MAGIC,
      Buffer.from([cmd]),
      rid,
      Buffer.from(this.#o.token),
      Buffer.from(topic),
      u32(n),
      ...(proof === undefined ? [] : [proof]),
    ];
    this.#loop?.post(frames);
    return d.promise;
  }
}
