import { EMPTY_FRAME, ProtocolError, type Frame, type Message } from "@zg/core";

/** 10/FLP PING command frame (`flcliapi`/`flserver3`). */
export const FLP_PING = Buffer.from("PING");
/** 10/FLP PONG command frame. */
export const FLP_PONG = Buffer.from("PONG");

/** A model 3 (10/FLP) message a client ROUTER received, decoded. */
export type FlpClientInbound =
  { type: "pong"; server: Frame } | { type: "reply"; server: Frame; control: Frame; body: Message };

/** Encodes a model 3 PING for the server with identity `server`: `[server]["PING"]`. */
export function encodeFlpPing(server: Frame): Message {
  return [server, FLP_PING];
}

/** Encodes a model 3 request: `[server][control][body…]`. */
export function encodeFlpRequest(server: Frame, control: Frame, body: Message): Message {
  return [server, control, ...body];
}

/**
 * Decodes what a model 3 client ROUTER received: `[server]["PONG"]` or
 * `[server][control][reply…]`.
 *
 * @throws {@link ProtocolError} for anything else.
 */
export function decodeFlpClientInbound(message: Message): FlpClientInbound {
  const server = message[0];
  if (server === undefined || message.length < 2) throw new ProtocolError("FLP message too short");
  const control = message[1] as Frame;
  if (message.length === 2) {
    if (control.equals(FLP_PONG)) return { type: "pong", server };
    throw new ProtocolError("FLP reply needs [control][body…]");
  }
  return { type: "reply", server, control, body: message.slice(2) };
}

/** Encodes a model 2 (shotgun) request as a REQ-style DEALER sends it: `[""][sequence][body…]`. */
export function encodeShotgunRequest(sequence: Frame, body: Message): Message {
  return [EMPTY_FRAME, sequence, ...body];
}

/**
 * Decodes a model 2 reply `[""][sequence][reply…]`.
 *
 * @throws {@link ProtocolError} for anything else.
 */
export function decodeShotgunReply(message: Message): { sequence: Frame; body: Message } {
  if (message[0]?.length !== 0 || message.length < 3)
    throw new ProtocolError('shotgun reply must be [""][sequence][body…]');
  return { sequence: message[1] as Frame, body: message.slice(2) };
}
