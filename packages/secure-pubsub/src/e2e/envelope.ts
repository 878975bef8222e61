import { createHash } from "node:crypto";
import nacl from "tweetnacl";
import { ProtocolError } from "@zg/core/pure";
import type { SigningKeyPair } from "../cert.js";
import { ed25519Sign, ed25519Verify } from "../crypto.js";

/** Version marker of an end-to-end encrypted batch (ADR 4): the first 4 bytes of its header frame. */
export const BATCH_MAGIC = "ZGX1";

/** Most messages in one signed batch. */
export const MAX_BATCH_MESSAGES = 1024;

/** The clear header of a batch: what the signature binds to every ciphertext. */
export interface BatchHeader {
  topic: string;
  epoch: number;
  /** The sender's Ed25519 public key (32 bytes). */
  sender: Uint8Array;
  /** Sequence of the first message; message i has `firstSeq + i`. Per (sender, epoch), from 0. */
  firstSeq: bigint;
  /** Number of messages. */
  count: number;
}

const MAGIC = Buffer.from(BATCH_MAGIC);

/** Encodes a batch header: `"ZGX1"` ‖ topic length (1) ‖ topic ‖ epoch (u32 BE) ‖ sender (32) ‖ first seq (u64 BE) ‖ count (u16 BE). */
export function encodeBatchHeader(h: BatchHeader): Buffer {
  const topic = Buffer.from(h.topic);
  if (topic.length === 0 || topic.length > 255)
    throw new ProtocolError("topic must be 1-255 bytes");
  const b = Buffer.alloc(4 + 1 + topic.length + 4 + 32 + 8 + 2);
  let o = MAGIC.copy(b, 0);
  b[o++] = topic.length;
  o += topic.copy(b, o);
  o = b.writeUInt32BE(h.epoch >>> 0, o);
  o += Buffer.from(h.sender).copy(b, o);
  o = b.writeBigUInt64BE(h.firstSeq, o);
  b.writeUInt16BE(h.count, o);
  return b;
}

/** Decodes a batch header. @throws {@link ProtocolError} */
export function decodeBatchHeader(b: Buffer): BatchHeader {
  if (b.length < 4 + 1 + 1 + 4 + 32 + 8 + 2 || !MAGIC.equals(b.subarray(0, 4))) {
    throw new ProtocolError(`not a ${BATCH_MAGIC} batch`);
  }
  const tlen = b[4] as number;
  if (b.length !== 4 + 1 + tlen + 4 + 32 + 8 + 2 || tlen === 0)
    throw new ProtocolError("bad batch header length");
  let o = 5;
  const topic = b.toString("utf8", o, o + tlen);
  o += tlen;
  const epoch = b.readUInt32BE(o);
  o += 4;
  const sender = b.subarray(o, o + 32);
  o += 32;
  const firstSeq = b.readBigUInt64BE(o);
  const count = b.readUInt16BE(o + 8);
  if (count === 0 || count > MAX_BATCH_MESSAGES) throw new ProtocolError("bad batch count");
  return { topic, epoch, sender, firstSeq, count };
}

/** The parts of a sealed batch before signing. */
export interface SealInput {
  topic: string;
  epoch: number;
  /** The 32-byte group key of (topic, epoch). */
  key: Uint8Array;
  /** The sender's signing pair. */
  signer: SigningKeyPair;
  firstSeq: bigint;
  payloads: readonly Uint8Array[];
  /** The sender's entitlement token, carried so receivers can check its publish right. */
  token: Uint8Array;
  /** Random source (tests). @defaultValue nacl.randomBytes */
  randomBytes?: (n: number) => Uint8Array;
}

/**
 * Seals a batch: each payload with `secretbox` under the group key and a
 * fresh random 24-byte nonce, then **one** Ed25519 signature over the header,
 * the token and every sealed frame (per-batch signatures; a batch of one is
 * per-message). Frames: `[header][token][nonce ‖ box]…[signature]`. The
 * signature binds the header (topic, epoch, sender, sequences) to the
 * ciphertexts and proves the sender; secretbox proves group membership.
 */
export function sealBatch(input: SealInput): Buffer[] {
  const n = input.payloads.length;
  if (n === 0 || n > MAX_BATCH_MESSAGES)
    throw new ProtocolError(`a batch holds 1-${MAX_BATCH_MESSAGES} messages`);
  const random = input.randomBytes ?? ((k: number) => nacl.randomBytes(k));
  const header = encodeBatchHeader({
    topic: input.topic,
    epoch: input.epoch,
    sender: input.signer.publicKey,
    firstSeq: input.firstSeq,
    count: n,
  });
  const frames: Buffer[] = [header, Buffer.from(input.token)];
  for (const p of input.payloads) {
    const nonce = random(nacl.secretbox.nonceLength);
    const box = nacl.secretbox(p, nonce, input.key);
    const f = Buffer.allocUnsafe(nonce.length + box.length);
    f.set(nonce, 0);
    f.set(box, nonce.length);
    frames.push(f);
  }
  frames.push(Buffer.from(ed25519Sign(signedBytes(frames), input.signer.secretKey)));
  return frames;
}

/** What {@link openBatch} needs from the receiver's state. */
export interface OpenContext {
  /** The group key of (topic, epoch), or undefined (unknown, expired or never given). */
  keyFor(topic: string, epoch: number): Uint8Array | undefined;
  /** Whether `sender` may publish on `topic`, judged from the carried token. */
  mayPublish(sender: Uint8Array, token: Buffer, topic: string): boolean;
  /** Accepts (sender, epoch, seq) once; false for a replay or a too-old sequence. */
  accept(sender: Uint8Array, epoch: number, seq: bigint): boolean;
}

/** Why a batch or a message of it was refused. */
export type OpenRefusal = "malformed" | "epoch" | "publisher" | "signature" | "replay" | "decrypt";

/** The outcome of {@link openBatch}. */
export type OpenResult =
  | {
      ok: true;
      header: BatchHeader;
      messages: { seq: bigint; payload: Uint8Array }[];
      refused: { seq: bigint; reason: OpenRefusal }[];
    }
  | { ok: false; reason: OpenRefusal };

/**
 * Opens a batch: structure, the group key of its epoch, the sender's publish
 * right, the signature, then per message the replay window and `secretbox.open`.
 * Never throws on untrusted input.
 */
export function openBatch(frames: readonly Buffer[], ctx: OpenContext): OpenResult {
  let header: BatchHeader;
  try {
    header = decodeBatchHeader(frames[0] as Buffer);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (frames.length !== header.count + 3) return { ok: false, reason: "malformed" };
  const sig = frames[frames.length - 1] as Buffer;
  if (sig.length !== 64) return { ok: false, reason: "malformed" };
  const key = ctx.keyFor(header.topic, header.epoch);
  if (key === undefined) return { ok: false, reason: "epoch" };
  const token = frames[1] as Buffer;
  if (!ctx.mayPublish(header.sender, token, header.topic))
    return { ok: false, reason: "publisher" };
  if (!ed25519Verify(signedBytes(frames.slice(0, -1)), sig, header.sender)) {
    return { ok: false, reason: "signature" };
  }
  const messages: { seq: bigint; payload: Uint8Array }[] = [];
  const refused: { seq: bigint; reason: OpenRefusal }[] = [];
  for (let i = 0; i < header.count; i++) {
    const seq = header.firstSeq + BigInt(i);
    const f = frames[2 + i] as Buffer;
    if (f.length < nacl.secretbox.nonceLength + nacl.secretbox.overheadLength) {
      refused.push({ seq, reason: "malformed" });
      continue;
    }
    const payload = nacl.secretbox.open(
      f.subarray(nacl.secretbox.nonceLength),
      f.subarray(0, nacl.secretbox.nonceLength),
      key,
    );
    if (!payload) {
      refused.push({ seq, reason: "decrypt" });
      continue;
    }
    // Only authentic messages move the window, so a forgery cannot burn sequence numbers.
    if (!ctx.accept(header.sender, header.epoch, seq)) {
      refused.push({ seq, reason: "replay" });
      continue;
    }
    messages.push({ seq, payload });
  }
  return { ok: true, header, messages, refused };
}

const SIGNED_CONTEXT = Buffer.from(`${BATCH_MAGIC} batch\0`);

/**
 * What the batch signature covers: SHA-512 (native) over a context string and
 * every frame, each length-prefixed so frame boundaries are signed too. Signing
 * the 64-byte digest spares Ed25519's two passes over a large batch.
 */
function signedBytes(frames: readonly Buffer[]): Uint8Array {
  const h = createHash("sha512").update(SIGNED_CONTEXT);
  const len = Buffer.allocUnsafe(4);
  for (const f of frames) {
    len.writeUInt32BE(f.length, 0);
    h.update(len).update(f);
  }
  return h.digest();
}
