import { ProtocolError, type Frame, type FrameReader } from "@zg/core/pure";

/** Big-endian unsigned 64-bit frame from a safe integer. */
export function u64(n: number): Frame {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Big-endian unsigned 32-bit frame. */
export function u32(n: number): Frame {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

/** Consumes an 8-byte big-endian unsigned frame as a safe integer. @throws {@link ProtocolError} */
export function readU64(r: FrameReader, what: string): number {
  const f = r.take(what);
  if (f.length !== 8) throw new ProtocolError(`${what} must be 8 bytes, got ${f.length}`);
  const v = f.readBigUInt64BE();
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError(`${what} out of range`);
  return Number(v);
}

/** Consumes a 4-byte big-endian unsigned frame. @throws {@link ProtocolError} */
export function readU32(r: FrameReader, what: string): number {
  const f = r.take(what);
  if (f.length !== 4) throw new ProtocolError(`${what} must be 4 bytes, got ${f.length}`);
  return f.readUInt32BE();
}
