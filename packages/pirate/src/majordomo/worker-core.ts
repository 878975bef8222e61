import { toFrame, type Frame, type FrameLike } from "@zg/core";
import {
  decodeCorrelation,
  decodeWorkerInbound,
  encodeWorkerReply,
  type MdpVersion,
} from "./protocol.js";

/** What a {@link MdpWorkerCore} decided about one message from the broker. */
export type MdpWorkerAction =
  | { kind: "heartbeat" }
  /** The broker said DISCONNECT: register again on a new socket. */
  | { kind: "disconnect" }
  /** A request to serve: `request` is the application's part, `reply()` encodes answers to it. */
  | {
      kind: "request";
      request: Frame[];
      reply: (command: "PARTIAL" | "FINAL", frames: readonly FrameLike[]) => Frame[];
    };

/**
 * The pure 7/MDP (and 18/MDP) worker protocol: decodes what the broker sent
 * into an action, strips the asynchronous client's correlation frame from a
 * request before the application sees it and puts it back on every reply.
 * Liveness and reconnection are the socket shell's `ReconnectingLink`.
 *
 * @internal
 */
export class MdpWorkerCore {
  readonly #version: MdpVersion;

  constructor(version: MdpVersion) {
    this.#version = version;
  }

  /**
   * Decides what one broker message means.
   *
   * @throws ProtocolError for a message that is not 7/MDP worker input.
   */
  receive(frames: readonly Frame[]): MdpWorkerAction {
    const m = decodeWorkerInbound(this.#version, frames);
    switch (m.command) {
      case "HEARTBEAT":
        return { kind: "heartbeat" };
      case "DISCONNECT":
        return { kind: "disconnect" };
      case "REQUEST": {
        const { client, body } = m;
        // The async client's correlation frame is not the application's business.
        const correlation = decodeCorrelation(body[0]) === undefined ? undefined : body[0];
        return {
          kind: "request",
          request: correlation === undefined ? body : body.slice(1),
          reply: (command, frames) => {
            const out = frames.map(toFrame);
            return encodeWorkerReply(
              this.#version,
              command,
              client,
              correlation === undefined ? out : [correlation, ...out],
            );
          },
        };
      }
    }
  }
}
