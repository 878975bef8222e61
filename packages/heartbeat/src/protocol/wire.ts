import { decodeProperties, encodeProperties, ProtocolError, type Frame } from "@zg/core";

/**
 * Header frame of the standalone heartbeat commands, version 1: the 6 ASCII
 * bytes `ZGHB01` (protocols.md §17.1, MDP-style version-tagged header frame).
 */
export const HEARTBEAT_HEADER: Frame = Buffer.from("ZGHB01", "ascii");

/** The 4-byte signature every version of the header starts with. */
const SIGNATURE = Buffer.from("ZGHB", "ascii");

/** Command codes (frame 2, one byte) of the standalone heartbeat wire form. */
export const HeartbeatCommand = {
  /** One-way "I am alive" (PUB→SUB and any one-way link). */
  HEARTBEAT: 0x01,
  /** Ping-pong: "are you there?" The receiver answers PONG. */
  PING: 0x02,
  /** Ping-pong: the answer to PING. Any message counts as a pong too. */
  PONG: 0x03,
} as const;

/** A heartbeat command name. */
export type HeartbeatCommandName = "heartbeat" | "ping" | "pong";

/** A decoded heartbeat-layer message. */
export interface HeartbeatFrame {
  command: HeartbeatCommandName;
  /** The interval (ms) the sender asks to be judged by, if it announced one (not yet clamped). */
  interval?: number;
}

/**
 * What {@link decodeHeartbeat} made of a message:
 * - `data`: not a heartbeat-layer message (the application's own);
 * - `command`: a heartbeat command;
 * - `unknown`: version 1 header with an unknown command code (count and drop).
 */
export type DecodedHeartbeat =
  { kind: "data" } | { kind: "command"; frame: HeartbeatFrame } | { kind: "unknown"; code: number };

const DATA: DecodedHeartbeat = Object.freeze({ kind: "data" });
const NAMES: Record<number, HeartbeatCommandName> = {
  0x01: "heartbeat",
  0x02: "ping",
  0x03: "pong",
};
const CODES: Record<HeartbeatCommandName, number> = { heartbeat: 0x01, ping: 0x02, pong: 0x03 };
const COMMAND_FRAMES: Record<HeartbeatCommandName, Frame> = {
  heartbeat: Buffer.from([0x01]),
  ping: Buffer.from([0x02]),
  pong: Buffer.from([0x03]),
};

/** True when `frame` is a heartbeat header of any version (`ZGHB` + 2 bytes). */
export function isHeartbeatHeader(frame: Uint8Array | undefined): boolean {
  return (
    frame !== undefined &&
    frame.length === 6 &&
    frame[0] === SIGNATURE[0] &&
    frame[1] === SIGNATURE[1] &&
    frame[2] === SIGNATURE[2] &&
    frame[3] === SIGNATURE[3]
  );
}

/**
 * Encodes `[ZGHB01][command][properties?]`. `interval` (ms, an integer)
 * becomes the property block `interval=<ms>\n`.
 */
export function encodeHeartbeat(command: HeartbeatCommandName, interval?: number): Frame[] {
  const frames: Frame[] = [
    HEARTBEAT_HEADER,
    COMMAND_FRAMES[command] ?? Buffer.from([CODES[command]]),
  ];
  if (interval !== undefined)
    frames.push(encodeProperties({ interval: String(Math.round(interval)) }));
  return frames;
}

/**
 * Classifies a message body (after any routing envelope). Pure: never
 * touches a socket.
 *
 * @throws {@link ProtocolError} for an unknown header version, a missing or
 * malformed command frame, or a malformed property block / interval. Callers
 * count, log and drop (the message still proves the peer alive).
 */
export function decodeHeartbeat(body: readonly Frame[]): DecodedHeartbeat {
  const header = body[0];
  if (!isHeartbeatHeader(header)) return DATA;
  const h = header as Frame;
  if (h[4] !== 0x30 || h[5] !== 0x31) {
    throw new ProtocolError(
      `unknown heartbeat version ${JSON.stringify(h.subarray(4).toString("latin1"))}`,
    );
  }
  const cmd = body[1];
  if (cmd === undefined || cmd.length !== 1)
    throw new ProtocolError("heartbeat command frame missing or not 1 byte");
  const code = cmd[0] as number;
  const name = NAMES[code];
  if (name === undefined) return { kind: "unknown", code };
  if (body.length > 3)
    throw new ProtocolError(`heartbeat ${name} has ${body.length} frames, at most 3 allowed`);
  const props = body[2];
  if (props === undefined || props.length === 0)
    return { kind: "command", frame: { command: name } };
  if (props.length > 1024)
    throw new ProtocolError(`heartbeat property block of ${props.length} bytes, limit 1024`);
  const raw = decodeProperties(props, { maxProperties: 16 }).get("interval");
  if (raw === undefined) return { kind: "command", frame: { command: name } };
  if (!/^-?\d{1,15}$/.test(raw))
    throw new ProtocolError(
      `heartbeat interval ${JSON.stringify(raw.slice(0, 20))} is not an integer`,
    );
  return { kind: "command", frame: { command: name, interval: Number(raw) } };
}
