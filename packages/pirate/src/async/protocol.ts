import { ProtocolError, toFrame, type Frame, type FrameLike, type Message } from "@zg/core";

/**
 * Decodes a request as the asynchronous server's ROUTER receives it from a
 * DEALER client: `[C][body…]` (no delimiter, as in `asyncsrv`).
 *
 * @throws {@link ProtocolError} for a request without a body.
 */
export function decodeAsyncRequest(message: Message): { identity: Frame; body: Message } {
  const identity = message[0];
  if (identity === undefined || message.length < 2) throw new ProtocolError("request has no body");
  return { identity, body: message.slice(1) };
}

/** Encodes one reply to client `identity`: `[C][reply…]`. */
export function encodeAsyncReply(
  identity: Frame,
  reply: FrameLike | readonly FrameLike[],
): Message {
  const frames = Array.isArray(reply)
    ? (reply as readonly FrameLike[]).map(toFrame)
    : [toFrame(reply as FrameLike)];
  return [identity, ...frames];
}
