import nacl from "tweetnacl";
import { ProtocolError, systemClock, type Clock } from "@zg/core/pure";

/** Version marker of a wrapped group-key bundle (ADR 4). */
export const BUNDLE_MAGIC = "ZGK1";

/**
 * Default grace window, 2000 ms: after a newer epoch of a topic is known, the
 * previous one is still accepted this long (battery G5: "old epoch refused
 * after the grace window (e.g. 2 s)").
 */
export const DEFAULT_GRACE_WINDOW = 2000;

const MAGIC = Buffer.from(BUNDLE_MAGIC);

/** An unwrapped group key. */
export interface GroupKey {
  topic: string;
  epoch: number;
  key: Uint8Array;
}

function keyPlaintext(topic: Buffer, epoch: number, key: Uint8Array): Uint8Array {
  const p = Buffer.alloc(32 + 4 + topic.length);
  p.set(key, 0);
  p.writeUInt32BE(epoch >>> 0, 32);
  topic.copy(p, 36);
  return p;
}

/**
 * Wraps a group key to one member with `box` (X25519 + XSalsa20-Poly1305):
 * `"ZGK1"` ‖ topic length ‖ topic ‖ epoch (u32) ‖ nonce (24) ‖ box(key ‖
 * epoch ‖ topic). The clear topic and epoch are repeated inside the box, so a
 * bundle cannot be relabelled. `shared` is `nacl.box.before(memberPublic,
 * serviceSecret)`, computed once per member.
 */
export function wrapGroupKey(
  shared: Uint8Array,
  k: GroupKey,
  randomBytes: (n: number) => Uint8Array = (n) => nacl.randomBytes(n),
): Buffer {
  const topic = Buffer.from(k.topic);
  const nonce = randomBytes(nacl.box.nonceLength);
  const box = nacl.box.after(keyPlaintext(topic, k.epoch, k.key), nonce, shared);
  const head = Buffer.alloc(4 + 1 + topic.length + 4);
  MAGIC.copy(head, 0);
  head[4] = topic.length;
  topic.copy(head, 5);
  head.writeUInt32BE(k.epoch >>> 0, 5 + topic.length);
  return Buffer.concat([head, nonce, box]);
}

/**
 * Unwraps a bundle with the member's secret key and the key service's public key.
 *
 * @throws {@link ProtocolError} when it is malformed, not from that service, or relabelled.
 */
export function unwrapGroupKey(bundle: Buffer, shared: Uint8Array): GroupKey {
  if (bundle.length < 5 || !MAGIC.equals(bundle.subarray(0, 4)))
    throw new ProtocolError(`not a ${BUNDLE_MAGIC} bundle`);
  const tlen = bundle[4] as number;
  const fixed = 5 + tlen + 4;
  if (bundle.length !== fixed + nacl.box.nonceLength + nacl.box.overheadLength + 36 + tlen) {
    throw new ProtocolError("bad bundle length");
  }
  const topic = bundle.subarray(5, 5 + tlen);
  const epoch = bundle.readUInt32BE(5 + tlen);
  const nonce = bundle.subarray(fixed, fixed + nacl.box.nonceLength);
  const plain = nacl.box.open.after(bundle.subarray(fixed + nacl.box.nonceLength), nonce, shared);
  if (!plain) throw new ProtocolError("bundle does not open: wrong service or member key");
  const inner = Buffer.from(plain);
  if (inner.readUInt32BE(32) !== epoch || !inner.subarray(36).equals(topic))
    throw new ProtocolError("bundle relabelled");
  return { topic: topic.toString("utf8"), epoch, key: inner.subarray(0, 32) };
}

interface EpochEntry {
  key: Uint8Array;
  /** When a newer epoch became known (monotonic ms), or undefined while current. */
  supersededAt: number | undefined;
}

/**
 * A member's group keys per topic and epoch, with the grace window: the
 * current epoch is always accepted, an older one only within `graceWindow`
 * ms after a newer one arrived, never after.
 */
export class KeyRing {
  readonly #topics = new Map<string, Map<number, EpochEntry>>();
  readonly #clock: Clock;
  readonly #grace: number;

  constructor({
    clock = systemClock,
    graceWindow = DEFAULT_GRACE_WINDOW,
  }: { clock?: Clock; graceWindow?: number } = {}) {
    this.#clock = clock;
    this.#grace = graceWindow;
  }

  /** Adds a key; a newer epoch starts the grace window of the older ones. Returns false if already known. */
  add(k: GroupKey): boolean {
    let epochs = this.#topics.get(k.topic);
    if (epochs === undefined) this.#topics.set(k.topic, (epochs = new Map<number, EpochEntry>()));
    if (epochs.has(k.epoch)) return false;
    const now = this.#clock.now();
    const current = this.current(k.topic);
    const newest = current === undefined || k.epoch > current.epoch;
    epochs.set(k.epoch, { key: k.key, supersededAt: newest ? undefined : now });
    if (newest) for (const [e, entry] of epochs) if (e !== k.epoch) entry.supersededAt ??= now;
    // Forget keys well past their grace.
    for (const [e, entry] of epochs) {
      if (entry.supersededAt !== undefined && now - entry.supersededAt > this.#grace * 4)
        epochs.delete(e);
    }
    return true;
  }

  /** The newest known epoch of a topic. */
  current(topic: string): GroupKey | undefined {
    const epochs = this.#topics.get(topic);
    if (epochs === undefined) return undefined;
    let best: number | undefined;
    for (const e of epochs.keys()) if (best === undefined || e > best) best = e;
    if (best === undefined) return undefined;
    return { topic, epoch: best, key: (epochs.get(best) as EpochEntry).key };
  }

  /** The key for (topic, epoch) if it is current or within its grace window. */
  keyFor(topic: string, epoch: number): Uint8Array | undefined {
    const entry = this.#topics.get(topic)?.get(epoch);
    if (entry === undefined) return undefined;
    if (entry.supersededAt !== undefined && this.#clock.now() - entry.supersededAt > this.#grace)
      return undefined;
    return entry.key;
  }
}
