import { toFrame, type Frame, type Message } from "@zg/core/pure";

/**
 * First frame of every ZNS feed message: protocol "ZNSF" version 01 (the
 * project's version-marker rule, protocols.md §17.1: unknown versions are
 * dropped and counted).
 */
export const FEED_SIGNATURE = "ZNSF01";

/** A ZNS feed message (agent DEALER ↔ server ROUTER). */
export type FeedMessage =
  /** Agent → server: "my table is `version`" (empty: none); sent every sync interval. */
  | { type: "SYNC"; version: string }
  /** Server → agent: the whole table, as JSON ({@link tableToJson}). */
  | { type: "TABLE"; version: string; json: string }
  /** Server → agent: "your table is current". */
  | { type: "HUGZ"; version: string };

/** Frames of a feed message. */
export function encodeFeed(message: FeedMessage): Message {
  const head = [toFrame(FEED_SIGNATURE), toFrame(message.type), toFrame(message.version)];
  return message.type === "TABLE" ? [...head, toFrame(message.json)] : head;
}

/** Parses a feed message, or returns why it is not one. Never throws. */
export function decodeFeed(frames: readonly Frame[]): FeedMessage | string {
  const [sig, type, version, json] = frames;
  if (sig === undefined || sig.toString("latin1") !== FEED_SIGNATURE) return "not a ZNSF01 message";
  if (type === undefined || version === undefined || version.length > 64)
    return "truncated message";
  const v = version.toString("latin1");
  switch (type.toString("latin1")) {
    case "SYNC":
      return frames.length === 3 ? { type: "SYNC", version: v } : "SYNC takes 3 frames";
    case "HUGZ":
      return frames.length === 3 ? { type: "HUGZ", version: v } : "HUGZ takes 3 frames";
    case "TABLE":
      return frames.length === 4 && json !== undefined
        ? { type: "TABLE", version: v, json: json.toString("utf8") }
        : "TABLE takes 4 frames";
    default:
      return `unknown command "${type.toString("latin1").slice(0, 16)}"`;
  }
}
