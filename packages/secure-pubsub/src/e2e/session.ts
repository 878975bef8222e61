import { boxBefore, ed25519Sign } from "../crypto.js";
import { systemClock, ZgError, type Clock } from "@zg/core/pure";
import { signingKeyPair, type SigningKeyPair } from "../cert.js";
import { z85Decode, z85Encode } from "../z85.js";
import { mayPublish, verifyToken, type Revocations, type VerifiedToken } from "../pubsub/token.js";
import { openBatch, sealBatch, type OpenResult } from "./envelope.js";
import { KeyRing, unwrapGroupKey, type GroupKey } from "./keys.js";
import { ReplayWindow } from "./replay-window.js";

/** Options of {@link E2ESession}. */
export interface E2ESessionOptions {
  /** This member's Z85 CURVE secret key (unwraps bundles; its signing key is derived). */
  secretKey: string;
  /** This member's entitlement token (carried in its batches). */
  token: Uint8Array;
  /** The key service's Z85 CURVE public key. */
  servicePublicKey: string;
  /** Trusted issuers, to check publishers' tokens. */
  issuers: Iterable<string>;
  revocations?: Revocations;
  /** Previous-epoch acceptance after a rotation, ms. @defaultValue DEFAULT_GRACE_WINDOW */
  graceWindow?: number;
  clock?: Clock;
  now?: () => number;
  randomBytes?: (n: number) => Uint8Array;
}

/** Counters of an {@link E2ESession}. */
export interface E2ESessionStats {
  sealed: number;
  opened: number;
  /** Refusals by reason. */
  refused: Record<string, number>;
}

/**
 * One member's end-to-end state, with no sockets: its group keys
 * ({@link KeyRing}, fed with bundles from the key service), a sequence per
 * (topic, epoch) for what it sends, a {@link ReplayWindow} per (sender,
 * epoch) for what it receives, and a cache of verified publisher tokens.
 * `seal` makes a signed batch; `open` returns only authentic, fresh messages.
 */
export class E2ESession {
  /** The member's group keys. */
  readonly ring: KeyRing;
  readonly #signer: SigningKeyPair;
  readonly #shared: Uint8Array;
  readonly #token: Uint8Array;
  readonly #issuers: Set<string>;
  readonly #revocations: Revocations | undefined;
  readonly #now: () => number;
  readonly #random: ((n: number) => Uint8Array) | undefined;
  readonly #seq = new Map<string, bigint>();
  readonly #windows = new Map<string, ReplayWindow>();
  readonly #tokens = new Map<string, VerifiedToken | null>();
  readonly #stats: E2ESessionStats = { sealed: 0, opened: 0, refused: {} };

  constructor(o: E2ESessionOptions) {
    this.#signer = signingKeyPair(o.secretKey);
    this.#shared = boxBefore(z85Decode(o.servicePublicKey), z85Decode(o.secretKey));
    this.#token = o.token;
    this.#issuers = new Set(o.issuers);
    this.#revocations = o.revocations;
    this.#now = o.now ?? Date.now;
    this.#random = o.randomBytes;
    this.ring = new KeyRing({
      clock: o.clock ?? systemClock,
      ...(o.graceWindow === undefined ? {} : { graceWindow: o.graceWindow }),
    });
  }

  /** This member's Ed25519 public key, Z85. */
  get publicKey(): string {
    return z85Encode(this.#signer.publicKey);
  }

  stats(): E2ESessionStats {
    return { ...this.#stats, refused: { ...this.#stats.refused } };
  }

  /**
   * The proof a REPORT to the key service carries: an Ed25519 signature by this
   * member over {@link reportTranscript}`(topic, count, at)`.
   */
  reportProof(topic: string, count: number, at: number): Uint8Array {
    return ed25519Sign(reportTranscript(topic, count, at), this.#signer.secretKey);
  }

  /** Unwraps a key-service bundle into the ring. @throws ProtocolError for a bad bundle */
  addBundle(bundle: Buffer): GroupKey {
    const k = unwrapGroupKey(bundle, this.#shared);
    this.ring.add(k);
    return k;
  }

  /**
   * Seals payloads as one signed batch under the topic's current epoch.
   *
   * @throws {@link ZgError} `ZG_STATE` when no key of the topic is known.
   */
  seal(topic: string, payloads: readonly Uint8Array[]): Buffer[] {
    const k = this.ring.current(topic);
    if (k === undefined)
      throw new ZgError("ZG_STATE", `no group key for ${topic}: fetch it from the key service`);
    const id = `${topic}\0${k.epoch}`;
    const firstSeq = this.#seq.get(id) ?? 0n;
    this.#seq.set(id, firstSeq + BigInt(payloads.length));
    this.#stats.sealed += payloads.length;
    return sealBatch({
      topic,
      epoch: k.epoch,
      key: k.key,
      signer: this.#signer,
      firstSeq,
      payloads,
      token: this.#token,
      ...(this.#random === undefined ? {} : { randomBytes: this.#random }),
    });
  }

  /** Opens a batch; refusals are counted by reason. Never throws. */
  open(frames: readonly Buffer[]): OpenResult {
    const r = openBatch(frames, {
      keyFor: (t, e) => this.ring.keyFor(t, e),
      mayPublish: (sender, token, topic) => this.#mayPublish(sender, token, topic),
      accept: (sender, epoch, seq) => {
        const id = `${Buffer.from(sender).toString("latin1")}\0${epoch}`;
        let w = this.#windows.get(id);
        if (w === undefined) this.#windows.set(id, (w = new ReplayWindow()));
        return w.accept(seq);
      },
    });
    const count = (reason: string, n = 1): void => {
      this.#stats.refused[reason] = (this.#stats.refused[reason] ?? 0) + n;
    };
    if (!r.ok) count(r.reason);
    else {
      this.#stats.opened += r.messages.length;
      for (const x of r.refused) count(x.reason);
    }
    return r;
  }

  #mayPublish(sender: Uint8Array, token: Buffer, topic: string): boolean {
    const id = token.toString("base64");
    let t = this.#tokens.get(id);
    if (t === undefined) {
      const check = verifyToken(token, {
        issuers: this.#issuers,
        now: this.#now(),
        ...(this.#revocations ? { revocations: this.#revocations } : {}),
      });
      t = check.ok ? check.token : null;
      if (this.#tokens.size > 10_000) this.#tokens.clear();
      this.#tokens.set(id, t);
    }
    if (t === null || !(t.expires > this.#now())) return false;
    if (
      this.#revocations !== undefined &&
      (this.#revocations.tokenRevoked(t.id) || this.#revocations.keyRevoked(t.key))
    )
      return false;
    return t.key === z85Encode(sender) && mayPublish(t, topic);
  }
}

/** The bytes a REPORT proof signs: `"ZGKS01 report\0"` ‖ count (u32 BE) ‖ time (u64 BE, wall-clock ms) ‖ topic. */
export function reportTranscript(topic: string, count: number, at: number): Uint8Array {
  const head = Buffer.alloc(14 + 4 + 8);
  head.write("ZGKS01 report\0", 0, "latin1");
  head.writeUInt32BE(count >>> 0, 14);
  head.writeBigUInt64BE(BigInt(Math.floor(at)), 18);
  return Buffer.concat([head, Buffer.from(topic)]);
}
