import nacl from "tweetnacl";
import { durationOption, integerOption, systemClock, type Clock } from "@zg/core/pure";
import { z85Decode } from "../z85.js";
import { boxBefore } from "../crypto.js";
import { mayPublish, maySubscribe, RevocationList, verifyToken } from "../pubsub/token.js";
import { parsePattern, parseTopic } from "../pubsub/topics.js";
import { wrapGroupKey } from "./keys.js";

/** Default timer rotation period, 10 minutes (project choice: bounds the exposure of one leaked epoch key). */
export const DEFAULT_ROTATE_INTERVAL = 600_000;

/** Default rotation after this many messages reported under one epoch, 1 000 000 (project choice; random 24-byte nonces stay far from collision). */
export const DEFAULT_ROTATE_AFTER = 1_000_000;

/** Default epochs kept per topic for returning members, 1000. */
export const DEFAULT_EPOCH_HISTORY = 1000;

/** Why an epoch was started. */
export type RotationReason = "created" | "removal" | "revocation" | "timer" | "messages" | "manual";

/** A new epoch and its key wrapped to each remaining member (Z85 CURVE key → bundle). */
export interface Rotation {
  topic: string;
  epoch: number;
  reason: RotationReason;
  bundles: Map<string, Buffer>;
}

/** The answer to a key request. */
export type KeyAnswer =
  | { code: 200; bundles: Buffer[]; member: string; publisher: boolean }
  | { code: 400 | 401 | 403; reason: string };

interface Epoch {
  epoch: number;
  key: Uint8Array;
  members: Set<string>;
  created: number;
  messages: number;
}

/** Options of {@link KeyServiceCore}. */
export interface KeyServiceCoreOptions {
  /** The service's Z85 CURVE secret key (X25519: bundles are boxed from it). */
  secretKey: string;
  /** Trusted token issuers (Ed25519, Z85). */
  issuers: Iterable<string>;
  revocations?: RevocationList;
  /** @defaultValue {@link DEFAULT_ROTATE_INTERVAL} */
  rotateInterval?: number;
  /** @defaultValue {@link DEFAULT_ROTATE_AFTER} */
  rotateAfter?: number;
  /** @defaultValue {@link DEFAULT_EPOCH_HISTORY} */
  epochHistory?: number;
  clock?: Clock;
  /** Wall clock for token expiry. @defaultValue Date.now */
  now?: () => number;
  randomBytes?: (n: number) => Uint8Array;
}

/**
 * The group-key service as a pure state machine: per topic a chain of epochs,
 * each with a fresh 32-byte key and the set of members (CURVE keys of
 * entitled tokens) it was given to. A member obtains the keys of every kept
 * epoch it belonged to ("disconnected security": a returning member catches
 * up, but never receives an epoch started after its removal). Rotation is
 * mandatory on removal and revocation, and also happens on a timer
 * ({@link tick}) and after `rotateAfter` reported messages.
 * Joining does not rotate: a new member can read the rest of the current epoch.
 */
export class KeyServiceCore {
  readonly revocations: RevocationList;
  readonly #secret: Uint8Array;
  readonly #issuers: Set<string>;
  readonly #clock: Clock;
  readonly #now: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #rotateInterval: number;
  readonly #rotateAfter: number;
  readonly #history: number;
  readonly #topics = new Map<string, Epoch[]>();
  readonly #shared = new Map<string, Uint8Array>();
  readonly #tokens = new Map<string, string>(); // token id → CURVE key
  readonly #signKeys = new Map<string, string>(); // Ed25519 key → CURVE key
  #rotations = 0;

  constructor(o: KeyServiceCoreOptions) {
    this.#secret = z85Decode(o.secretKey);
    this.#issuers = new Set(o.issuers);
    this.revocations = o.revocations ?? new RevocationList();
    this.#clock = o.clock ?? systemClock;
    this.#now = o.now ?? Date.now;
    this.#random = o.randomBytes ?? ((n) => nacl.randomBytes(n));
    this.#rotateInterval = durationOption(
      "rotateInterval",
      o.rotateInterval,
      DEFAULT_ROTATE_INTERVAL,
      { min: 10 },
    );
    this.#rotateAfter = integerOption("rotateAfter", o.rotateAfter, DEFAULT_ROTATE_AFTER, {
      min: 1,
    });
    this.#history = integerOption("epochHistory", o.epochHistory, DEFAULT_EPOCH_HISTORY, {
      min: 1,
    });
  }

  /** Counters. */
  stats(): { topics: number; rotations: number; members: number } {
    let members = 0;
    for (const e of this.#topics.values()) members += e[e.length - 1]?.members.size ?? 0;
    return { topics: this.#topics.size, rotations: this.#rotations, members };
  }

  /** The current epoch number of a topic (0 if none). */
  epoch(topic: string): number {
    const e = this.#topics.get(topic);
    return e?.[e.length - 1]?.epoch ?? 0;
  }

  /** The CURVE keys of the current epoch's members. */
  members(topic: string): string[] {
    const e = this.#topics.get(topic);
    return [...(e?.[e.length - 1]?.members ?? [])];
  }

  /**
   * Answers a member's request for the keys of `topic` from epoch `since`:
   * verifies the token (issuer, signature, expiry, revocation; it must bind a
   * CURVE key), checks a publish or subscribe right on the topic, adds the
   * member to the current epoch, and returns its bundles.
   */
  request(token: Uint8Array, topicText: string, since = 0): KeyAnswer {
    let topic: string;
    try {
      topic = parseTopic(topicText);
    } catch (e) {
      return { code: 400, reason: (e as Error).message };
    }
    const check = verifyToken(token, {
      issuers: this.#issuers,
      now: this.#now(),
      revocations: this.revocations,
    });
    if (!check.ok) return { code: 401, reason: `token ${check.reason}` };
    const t = check.token;
    if (t.curve === undefined) return { code: 401, reason: "token binds no CURVE key" };
    if (!maySubscribe(t, parsePattern(topic)) && !mayPublish(t, topic))
      return { code: 403, reason: "not entitled" };
    this.#tokens.set(t.id, t.curve);
    this.#signKeys.set(t.key, t.curve);
    let epochs = this.#topics.get(topic);
    if (epochs === undefined) {
      epochs = [];
      this.#topics.set(topic, epochs);
      this.#start(topic, new Set([t.curve]), "created");
    } else {
      (epochs[epochs.length - 1] as Epoch).members.add(t.curve);
    }
    const shared = this.#sharedKey(t.curve);
    const bundles = epochs
      .filter((e) => e.epoch >= since && e.members.has(t.curve as string))
      .map((e) => wrapGroupKey(shared, { topic, epoch: e.epoch, key: e.key }, this.#random));
    return { code: 200, bundles, member: t.curve, publisher: mayPublish(t, topic) };
  }

  /**
   * Removes a member (CURVE key) from one topic or all, rotating each topic it
   * belonged to: the new key goes to the remaining members only.
   */
  remove(curveKey: string, topic?: string, reason: RotationReason = "removal"): Rotation[] {
    const out: Rotation[] = [];
    for (const [t, epochs] of this.#topics) {
      if (topic !== undefined && t !== topic) continue;
      const current = epochs[epochs.length - 1] as Epoch;
      if (!current.members.has(curveKey)) continue;
      const members = new Set(current.members);
      members.delete(curveKey);
      out.push(this.#start(t, members, reason));
    }
    return out;
  }

  /** Revokes a token id or key (CURVE or Ed25519): refused from now on, and removed with rotation. */
  revoke(what: { tokenId?: string; key?: string }): Rotation[] {
    if (what.tokenId !== undefined) this.revocations.revokeToken(what.tokenId);
    if (what.key !== undefined) this.revocations.revokeKey(what.key);
    const curve = new Set<string>();
    if (what.tokenId !== undefined && this.#tokens.has(what.tokenId))
      curve.add(this.#tokens.get(what.tokenId) as string);
    if (what.key !== undefined) {
      curve.add(this.#signKeys.get(what.key) ?? what.key);
    }
    for (const c of curve) this.revocations.revokeKey(c);
    return [...curve].flatMap((c) => this.remove(c, undefined, "revocation"));
  }

  /** Starts a new epoch of `topic` for the current members. */
  rotate(topic: string, reason: RotationReason = "manual"): Rotation | undefined {
    const epochs = this.#topics.get(topic);
    if (epochs === undefined) return undefined;
    return this.#start(topic, new Set((epochs[epochs.length - 1] as Epoch).members), reason);
  }

  /** Counts messages a publisher reports under the current epoch; rotates after `rotateAfter`. */
  noteMessages(topic: string, count: number): Rotation | undefined {
    const epochs = this.#topics.get(topic);
    const current = epochs?.[epochs.length - 1];
    if (current === undefined) return undefined;
    current.messages += Math.max(0, count);
    return current.messages >= this.#rotateAfter ? this.rotate(topic, "messages") : undefined;
  }

  /** Rotates every topic whose current epoch is older than `rotateInterval`. */
  tick(): Rotation[] {
    const now = this.#clock.now();
    const out: Rotation[] = [];
    for (const [t, epochs] of this.#topics) {
      const current = epochs[epochs.length - 1] as Epoch;
      if (now - current.created >= this.#rotateInterval)
        out.push(this.rotate(t, "timer") as Rotation);
    }
    return out;
  }

  #sharedKey(curve: string): Uint8Array {
    let s = this.#shared.get(curve);
    if (s === undefined) {
      s = boxBefore(z85Decode(curve), this.#secret);
      this.#shared.set(curve, s);
    }
    return s;
  }

  #start(topic: string, members: Set<string>, reason: RotationReason): Rotation {
    const epochs = this.#topics.get(topic) as Epoch[];
    const epoch = (epochs[epochs.length - 1]?.epoch ?? 0) + 1;
    const e: Epoch = {
      epoch,
      key: this.#random(nacl.secretbox.keyLength),
      members,
      created: this.#clock.now(),
      messages: 0,
    };
    epochs.push(e);
    if (epochs.length > this.#history) epochs.splice(0, epochs.length - this.#history);
    if (reason !== "created") this.#rotations++;
    const bundles = new Map<string, Buffer>();
    for (const m of members)
      bundles.set(m, wrapGroupKey(this.#sharedKey(m), { topic, epoch, key: e.key }, this.#random));
    return { topic, epoch, reason, bundles };
  }
}
