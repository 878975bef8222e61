import {
  decodeCommand,
  encodeCommand,
  ProtocolError,
  splitEnvelope,
  type Frame,
  type Message,
} from "@zg/core";

/** 6/PPP READY command byte (`PPP_READY "\x01"` in `ppqueue`/`ppworker`). */
export const PPP_READY = 0x01;
/** 6/PPP HEARTBEAT command byte (`PPP_HEARTBEAT "\x02"`). */
export const PPP_HEARTBEAT = 0x02;

const READY_FRAME = encodeCommand(PPP_READY);
const HEARTBEAT_FRAME = encodeCommand(PPP_HEARTBEAT);

/** A 6/PPP message as a worker sends it (after the queue's ROUTER strips nothing: frames as sent). */
export type PppWorkerMessage =
  { type: "ready" } | { type: "heartbeat" } | { type: "reply"; envelope: Frame[]; body: Frame[] };

/** A 6/PPP message as the queue sends it to a worker. */
export type PppQueueMessage =
  { type: "heartbeat" } | { type: "request"; envelope: Frame[]; body: Frame[] };

/**
 * Decodes what a PPP worker sent (the frames after the queue ROUTER's
 * identity): one frame = READY or HEARTBEAT, several = a reply
 * `[address…][""][body…]`.
 *
 * @throws {@link ProtocolError} on an empty message, an unknown command or a reply without a delimiter/body.
 */
export function decodePppWorkerMessage(frames: readonly Frame[]): PppWorkerMessage {
  if (frames.length === 0) throw new ProtocolError("empty worker message");
  if (frames.length === 1) {
    const command = decodeCommand(frames[0] as Frame, "PPP command");
    if (command === PPP_READY) return { type: "ready" };
    if (command === PPP_HEARTBEAT) return { type: "heartbeat" };
    throw new ProtocolError(`unknown PPP command 0x${command.toString(16).padStart(2, "0")}`);
  }
  const { envelope, body } = splitEnvelope(frames);
  if (envelope.length === 0) throw new ProtocolError("PPP reply has no client address");
  if (body.length === 0) throw new ProtocolError("PPP reply has no body");
  return { type: "reply", envelope, body };
}

/**
 * Decodes what a PPP queue sent to a worker: `[0x02]` = HEARTBEAT,
 * `[address…][""][body…]` = a request (`ppworker` accepts exactly 3 frames).
 *
 * @throws {@link ProtocolError} otherwise (READY from a queue is invalid).
 */
export function decodePppQueueMessage(frames: readonly Frame[]): PppQueueMessage {
  if (frames.length === 0) throw new ProtocolError("empty queue message");
  if (frames.length === 1) {
    const command = decodeCommand(frames[0] as Frame, "PPP command");
    if (command === PPP_HEARTBEAT) return { type: "heartbeat" };
    throw new ProtocolError(
      `unexpected PPP command 0x${command.toString(16).padStart(2, "0")} from the queue`,
    );
  }
  const { envelope, body } = splitEnvelope(frames);
  if (envelope.length === 0) throw new ProtocolError("PPP request has no client address");
  if (body.length === 0) throw new ProtocolError("PPP request has no body");
  return { type: "request", envelope, body };
}

/** Encodes READY: `[0x01]`. */
export function encodePppReady(): Message {
  return [READY_FRAME];
}

/** Encodes HEARTBEAT: `[0x02]`. */
export function encodePppHeartbeat(): Message {
  return [HEARTBEAT_FRAME];
}
