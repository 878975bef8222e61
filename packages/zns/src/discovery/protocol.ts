/** ZRE beacon size, 22 bytes: "ZRE", version 0x01, 16-byte UUID, 2-byte big-endian port (36/ZRE). */
export const ZRE_BEACON_SIZE = 22;
/** ZRE beacon version, 0x01 (36/ZRE). */
export const ZRE_BEACON_VERSION = 1;

/** A decoded ZRE beacon. */
export interface ZreBeacon {
  /** The sender's 16-byte UUID. */
  uuid: Buffer;
  /** The sender's mailbox (service) port; 0 = the sender is leaving. */
  port: number;
}

/** Encodes a 36/ZRE beacon. @throws `RangeError` for a UUID that is not 16 bytes or a port outside 0..65535. */
export function encodeZreBeacon(uuid: Buffer, port: number): Buffer {
  if (uuid.length !== 16) throw new RangeError("a ZRE UUID is 16 bytes");
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new RangeError("port must be 0..65535");
  const out = Buffer.alloc(ZRE_BEACON_SIZE);
  out.write("ZRE", 0, "latin1");
  out[3] = ZRE_BEACON_VERSION;
  uuid.copy(out, 4);
  out.writeUInt16BE(port, 20);
  return out;
}

/** Decodes a 36/ZRE beacon, or returns why the datagram is not one (wrong size, header or version). Never throws. */
export function decodeZreBeacon(datagram: Buffer): ZreBeacon | string {
  if (datagram.length !== ZRE_BEACON_SIZE)
    return `beacon of ${datagram.length} bytes (expected ${ZRE_BEACON_SIZE})`;
  if (datagram.toString("latin1", 0, 3) !== "ZRE") return "not a ZRE beacon";
  if (datagram[3] !== ZRE_BEACON_VERSION)
    return `ZRE beacon version ${datagram[3]} (expected ${ZRE_BEACON_VERSION})`;
  return { uuid: Buffer.from(datagram.subarray(4, 20)), port: datagram.readUInt16BE(20) };
}

/** The Guide's `udpping1`/`udpping2` beacon: one byte, "!". */
export const UDPPING_BEACON = Buffer.from("!");
