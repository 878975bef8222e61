import { toFrame, type FrameLike, type Message } from "@zg/core";

/**
 * What a request handler returns: one frame, several frames, or a promise of
 * either.
 */
export type HandlerResult =
  FrameLike | readonly FrameLike[] | Promise<FrameLike | readonly FrameLike[]>;

/**
 * A worker's or server's request handler: receives the request body frames,
 * returns the reply body.
 */
export type RequestHandler = (request: Message) => HandlerResult;

/** Normalises a handler's reply into frames. @internal */
export function replyFrames(reply: FrameLike | readonly FrameLike[]): Message {
  if (Array.isArray(reply)) return (reply as readonly FrameLike[]).map(toFrame);
  return [toFrame(reply as FrameLike)];
}

/** Normalises a request body (one frame-like or several) into frames. @internal */
export function bodyFrames(body: FrameLike | readonly FrameLike[]): Message {
  return replyFrames(body);
}
