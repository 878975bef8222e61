import { ProtocolError } from "@zg/core/pure";

/** Bus header: `ZGMB` + version `0x01` + 8-byte sender id + 8-byte sequence number. */
export const BUS_HEADER_SIZE = 21;

/**
 * Largest UDP datagram libzmq's RADIO sends, 8192 bytes (libzmq `udp_engine`
 * `MAX_UDP_MSG`). A longer message is **truncated silently** (measured: 9000
 * bytes sent, 8190 received with a 1-byte group), so the bus refuses it instead.
 */
export const UDP_MAX_DATAGRAM = 8192;

/** Largest payload the bus accepts for `group`: the datagram less the group and bus headers. */
export function maxBusPayload(group: string): number {
  return UDP_MAX_DATAGRAM - 1 - Buffer.byteLength(group) - BUS_HEADER_SIZE;
}

const MAGIC = Buffer.from("ZGMB\x01", "latin1");

/** One bus message as decoded. */
export interface BusMessage {
  /** The sender's random 64-bit id. */
  sender: bigint;
  /** The sender's sequence number in this group, from 1. */
  seq: number;
  payload: Buffer;
}

/** Encodes a bus message body. */
export function encodeBus(sender: bigint, seq: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(BUS_HEADER_SIZE + payload.length);
  MAGIC.copy(b, 0);
  b.writeBigUInt64BE(sender, 5);
  b.writeBigUInt64BE(BigInt(seq), 13);
  payload.copy(b, BUS_HEADER_SIZE);
  return b;
}

/** Decodes a bus message body. @throws {@link ProtocolError} for anything else. */
export function decodeBus(body: Buffer): BusMessage {
  if (body.length < BUS_HEADER_SIZE || !body.subarray(0, 4).equals(MAGIC.subarray(0, 4))) {
    throw new ProtocolError("not a bus message");
  }
  if (body[4] !== 0x01) throw new ProtocolError(`bus message version ${String(body[4])}`);
  const seq = body.readBigUInt64BE(13);
  if (seq === 0n || seq > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError("bad bus seq");
  return {
    sender: body.readBigUInt64BE(5),
    seq: Number(seq),
    payload: body.subarray(BUS_HEADER_SIZE),
  };
}
