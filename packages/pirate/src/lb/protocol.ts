import { EMPTY_FRAME, ProtocolError, splitEnvelope, type Frame, type Message } from "@zg/core";

/** The ready signal of Pirate code and `lbbroker3`: one byte `0x01` (Guide `LRU_READY "\001"`). */
export const READY_BYTE = Buffer.from([0x01]);
/** The ready signal of `lbbroker`/`lbbroker2`: the ASCII string `READY`. */
export const READY_STRING = Buffer.from("READY");

/** What a load-balancing worker (a REQ socket) sent, after the broker ROUTER's identity frame. */
export type LbWorkerMessage = { type: "ready" } | { type: "reply"; reply: Message };

/**
 * Decodes `[""][READY]` (`"\001"` or `"READY"`) or `[""][C…][""][reply…]`;
 * the reply is returned as `[C…][""][reply…]`, ready for the frontend.
 *
 * @throws {@link ProtocolError} for anything else.
 */
export function decodeLbWorkerMessage(frames: readonly Frame[]): LbWorkerMessage {
  if (frames.length < 2 || frames[0]?.length !== 0) {
    throw new ProtocolError(
      `worker message must be [worker][""][…], got ${frames.length + 1} frames`,
    );
  }
  const rest = frames.slice(1);
  if (rest.length === 1) {
    const signal = rest[0] as Frame;
    if (!signal.equals(READY_BYTE) && !signal.equals(READY_STRING)) {
      throw new ProtocolError(`unknown worker signal (${signal.length} bytes)`);
    }
    return { type: "ready" };
  }
  if (splitEnvelope(rest).envelope.length === 0)
    throw new ProtocolError("worker reply has no client address");
  return { type: "reply", reply: rest };
}

/** Encodes a request `[C…][""][body…]` for worker `id`: `[W][""][C…][""][body…]`. */
export function encodeLbRequest(id: Frame, request: Message): Message {
  return [id, EMPTY_FRAME, ...request];
}

/** The request inside a message the broker sent to a worker (`[W][""][request…]`). */
export function lbRequestOf(message: Message): Message {
  return message.slice(2);
}
