import { ProtocolError, type Message } from "@zg/core/pure";
import { parseResolution, resolutionName } from "./resolution.js";

/** Signature and version that start every clock topic: `ZGCLK01`. */
export const CLOCK_SIGNATURE = "ZGCLK01";

/** Size of the tick body frame in bytes. */
export const TICK_BODY_SIZE = 48;

/** One tick as it travels (README "Wire format"). Times in ms. */
export interface TickMessage {
  /** The resolution's period in ms. */
  period: number;
  /** Tick number since the device started: tick n is due at start + n·period. */
  seq: number;
  /** Random id of the device run; a new value means the clock restarted (seq starts again). */
  instance: bigint;
  /** When the tick was due, wall clock (the device's wall origin + n·period), ms since the epoch. */
  scheduled: number;
  /** Wall clock when the device sent it (`Date.now()`), ms since the epoch. */
  sentWall: number;
  /** Device's monotonic clock when sent, ms since the device's origin (so sentMono − seq·period is the lateness). */
  sentMono: number;
}

/**
 * The topic frame of a resolution: `ZGCLK01/<name>/`, e.g. `ZGCLK01/1s/`. The
 * trailing slash makes SUB prefix matching exact (`ZGCLK01/1m/` never
 * matches `ZGCLK01/1ms/`).
 */
export function clockTopic(period: number): string {
  return `${CLOCK_SIGNATURE}/${resolutionName(period)}/`;
}

/** Encodes a tick as `[topic, body]`. */
export function encodeTick(t: TickMessage): [string, Buffer] {
  const b = Buffer.allocUnsafe(TICK_BODY_SIZE);
  b.writeBigUInt64BE(BigInt(t.seq), 0);
  b.writeBigUInt64BE(t.instance, 8);
  b.writeDoubleBE(t.period, 16);
  b.writeDoubleBE(t.scheduled, 24);
  b.writeDoubleBE(t.sentWall, 32);
  b.writeDoubleBE(t.sentMono, 40);
  return [clockTopic(t.period), b];
}

/**
 * Decodes a received `[topic, body]`.
 *
 * @throws {@link ProtocolError} for a wrong signature, frame count, body size,
 * an unknown resolution name or a topic that disagrees with the body's period.
 */
export function decodeTick(message: Message): TickMessage {
  if (message.length !== 2)
    throw new ProtocolError(`clock tick: expected 2 frames, got ${message.length}`);
  const topic = (message[0] as Buffer).toString("latin1");
  const body = message[1] as Buffer;
  const m = /^ZGCLK(\d\d)\/([^/]+)\/$/.exec(topic);
  if (m === null) throw new ProtocolError("clock tick: bad topic frame");
  if (m[1] !== "01") throw new ProtocolError(`clock tick: unknown version ${m[1]}`);
  if (body.length !== TICK_BODY_SIZE) {
    throw new ProtocolError(`clock tick: body must be ${TICK_BODY_SIZE} bytes, got ${body.length}`);
  }
  let named: number;
  try {
    named = parseResolution(m[2] as string);
  } catch {
    throw new ProtocolError("clock tick: bad resolution in topic");
  }
  const seq = body.readBigUInt64BE(0);
  const period = body.readDoubleBE(16);
  if (period !== named)
    throw new ProtocolError("clock tick: topic and body disagree on the period");
  if (seq > BigInt(Number.MAX_SAFE_INTEGER))
    throw new ProtocolError("clock tick: seq out of range");
  const scheduled = body.readDoubleBE(24);
  const sentWall = body.readDoubleBE(32);
  const sentMono = body.readDoubleBE(40);
  if (![scheduled, sentWall, sentMono].every(Number.isFinite)) {
    throw new ProtocolError("clock tick: non-finite time");
  }
  return {
    period,
    seq: Number(seq),
    instance: body.readBigUInt64BE(8),
    scheduled,
    sentWall,
    sentMono,
  };
}
