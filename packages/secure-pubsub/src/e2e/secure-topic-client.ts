import type * as zmq from "zeromq";
import { Component, ZgError, type ComponentOptions } from "@zg/core";
import { SecurePubSubClient } from "../pubsub/client.js";
import type { Revocations } from "../pubsub/token.js";
import { z85Encode } from "../z85.js";
import { KeyClient } from "./key-service.js";
import { E2ESession } from "./session.js";
import type { OpenRefusal } from "./envelope.js";

/** Events of a {@link SecureTopicClient}. */
export type SecureTopicEvents = {
  /** An authentic, fresh, decrypted message. */
  "message:decrypted": {
    topic: string;
    sender: string;
    epoch: number;
    seq: bigint;
    payload: Uint8Array;
  };
  /** A batch or message refused by the end-to-end checks. */
  "message:rejected": { topic: string; reason: OpenRefusal };
};

/** Options of {@link SecureTopicClient}. */
export interface SecureTopicClientOptions extends ComponentOptions {
  /** The entitled pub-sub broker. */
  broker: string;
  /** The key service. */
  keyService: string;
  /** This identity's Z85 CURVE secret key. */
  secretKey: string;
  /** Its entitlement token. */
  token: Uint8Array;
  /** The key service's Z85 CURVE public key (bundles are boxed from it). */
  servicePublicKey: string;
  /** Trusted token issuers (to check publishers' tokens). */
  issuers: Iterable<string>;
  /** Use CURVE to the broker with this server key. */
  brokerServerKey?: string;
  /** Use CURVE to the key service (its public key is `servicePublicKey`). @defaultValue false */
  keyServiceCurve?: boolean;
  revocations?: Revocations;
  graceWindow?: number;
  /** Report sent counts to the key service every this many messages. @defaultValue 1000 */
  reportEvery?: number;
  refreshInterval?: number;
  requestTimeout?: number;
  context?: zmq.Context;
}

/**
 * End-to-end encrypted pub-sub for one identity: an {@link E2ESession}, a
 * {@link KeyClient} to the key service and a {@link SecurePubSubClient} to
 * the broker. `publish` seals a signed batch under the topic's current epoch;
 * received batches are opened, and an unknown epoch triggers one fetch from
 * the key service (a rotation racing its push, or a returning member).
 * The broker only ever forwards ciphertext.
 */
export class SecureTopicClient extends Component<
  SecureTopicEvents,
  { sent: number; decrypted: number; rejected: number }
> {
  /** The end-to-end state. */
  readonly session: E2ESession;
  /** The broker connection. */
  readonly pubsub: SecurePubSubClient;
  /** The key service connection. */
  readonly keys: KeyClient;
  readonly #reportEvery: number;
  readonly #unreported = new Map<string, number>();
  readonly #stats = { sent: 0, decrypted: 0, rejected: 0 };

  constructor(o: SecureTopicClientOptions) {
    super("secure-topic-client", o);
    this.#reportEvery = o.reportEvery ?? 1000;
    this.session = new E2ESession({
      secretKey: o.secretKey,
      token: o.token,
      servicePublicKey: o.servicePublicKey,
      issuers: o.issuers,
      ...(o.revocations ? { revocations: o.revocations } : {}),
      ...(o.graceWindow === undefined ? {} : { graceWindow: o.graceWindow }),
    });
    const common = {
      ...(o.logger ? { logger: o.logger } : {}),
      ...(o.context ? { context: o.context } : {}),
      ...(o.requestTimeout === undefined ? {} : { requestTimeout: o.requestTimeout }),
    };
    this.pubsub = new SecurePubSubClient({
      broker: o.broker,
      secretKey: o.secretKey,
      token: o.token,
      ...(o.brokerServerKey ? { serverKey: o.brokerServerKey } : {}),
      ...(o.refreshInterval === undefined ? {} : { refreshInterval: o.refreshInterval }),
      ...common,
    });
    this.keys = new KeyClient({
      keyService: o.keyService,
      session: this.session,
      token: o.token,
      ...(o.keyServiceCurve
        ? { curve: { serverKey: o.servicePublicKey, secretKey: o.secretKey } }
        : {}),
      ...common,
    });
  }

  stats(): { sent: number; decrypted: number; rejected: number } {
    return { ...this.#stats };
  }

  /** Fetches the topic's keys, then subscribes at the broker (exact topics). */
  async subscribe(topic: string): Promise<void> {
    await this.keys.fetch(topic);
    const r = await this.pubsub.subscribe(topic);
    if (r.code !== 200)
      throw new ZgError("ZG_STATE", `subscribe refused: ${r.code} ${r.text}`, {
        details: { status: r.code },
      });
  }

  /** Seals `payloads` as one signed batch (fetching the topic's key first if needed) and publishes it. */
  async publish(
    topic: string,
    payloads: readonly Uint8Array[],
    { ack = false } = {},
  ): Promise<void> {
    if (this.session.ring.current(topic) === undefined) await this.keys.fetch(topic);
    const frames = this.session.seal(topic, payloads);
    this.#stats.sent += payloads.length;
    const r = await this.pubsub.publish(topic, frames, { ack });
    if (r !== undefined && r.code !== 200)
      throw new ZgError("ZG_STATE", `publish refused: ${r.code} ${r.text}`, {
        details: { status: r.code },
      });
    const n = (this.#unreported.get(topic) ?? 0) + payloads.length;
    if (n >= this.#reportEvery) {
      this.#unreported.set(topic, 0);
      void this.keys.report(topic, n).catch(() => undefined);
    } else this.#unreported.set(topic, n);
  }

  protected async onStart(): Promise<void> {
    this.own(this.keys);
    this.own(this.pubsub);
    await this.keys.start();
    this.pubsub.on("message:received", (m) => void this.#receive(m.topic, m.payload));
    await this.pubsub.start();
  }

  async #receive(topic: string, frames: Buffer[]): Promise<void> {
    let r = this.session.open(frames);
    if (!r.ok && r.reason === "epoch") {
      try {
        await this.keys.fetch(topic);
      } catch {
        /* not entitled any more, or the service is away: stays rejected */
      }
      r = this.session.open(frames);
    }
    if (!r.ok) {
      this.#stats.rejected++;
      this.emit("message:rejected", { topic, reason: r.reason });
      return;
    }
    for (const x of r.refused) {
      this.#stats.rejected++;
      this.emit("message:rejected", { topic, reason: x.reason });
    }
    const sender = z85Encode(r.header.sender);
    for (const m of r.messages) {
      this.#stats.decrypted++;
      this.emit("message:decrypted", {
        topic,
        sender,
        epoch: r.header.epoch,
        seq: m.seq,
        payload: m.payload,
      });
    }
  }
}
