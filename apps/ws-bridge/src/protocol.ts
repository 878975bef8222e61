// The bridge's WebSocket framing (JSON text messages), pure: a codec with no sockets.
// Every multipart message travels as an array of frames, each a JSON string
// (a UTF-8 text frame) or {"b64": "..."} (any other bytes), so frames come
// through exactly, empty and binary ones included.

/** One frame on the WebSocket: text, or base64 for bytes that are not UTF-8. */
export type WireFrame = string | { b64: string };

/** What a browser may send. */
export type ClientMessage =
  | { type: "request"; id: number; service: string; body: Buffer[]; timeout: number | undefined }
  | { type: "subscribe"; id: number; topic: string }
  | { type: "unsubscribe"; id: number; topic: string }
  | { type: "clone-subscribe"; id: number; prefix: string }
  | { type: "clone-unsubscribe"; id: number; prefix: string }
  | { type: "clone-set"; id: number; key: string; value: Buffer | null; ttl: number | undefined };

/** What the bridge sends. */
export type ServerMessage =
  | { type: "reply"; id: number; body: WireFrame[] }
  | { type: "error"; id: number | null; code: BridgeErrorCode; message: string }
  | { type: "subscribed"; id: number; topic: string }
  | { type: "unsubscribed"; id: number; topic: string }
  | { type: "message"; topic: string; frames: WireFrame[] }
  | {
      type: "clone-snapshot";
      /** The `clone-subscribe` id; `null` on a re-sync the bridge sends on its own. */
      id: number | null;
      prefix: string;
      /** The sequence the snapshot stands at (decimal: a 64-bit number). */
      sequence: string;
      entries: [string, WireFrame][];
      /** More `clone-snapshot` messages of this snapshot follow. */
      more: boolean;
      /** The bridge dropped updates for this connection: replace everything under `prefix`. */
      resync: boolean;
    }
  | { type: "clone-update"; prefix: string; key: string; value: WireFrame | null; sequence: string }
  | { type: "clone-unsubscribed"; id: number; prefix: string }
  | { type: "clone-acked"; id: number; sequence: string };

/** Error codes of an `error` message. */
export type BridgeErrorCode =
  | "bad-request"
  | "unknown-service"
  | "timeout"
  | "unavailable"
  | "limit"
  | "no-pubsub"
  | "no-clone"
  | "forbidden";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A frame as the browser sees it: text when it is UTF-8, base64 otherwise. */
export function encodeFrame(frame: Uint8Array): WireFrame {
  try {
    return utf8.decode(frame);
  } catch {
    return { b64: Buffer.from(frame).toString("base64") };
  }
}

/** @throws Error when `f` is neither a string nor `{ b64 }`. */
export function decodeFrame(f: unknown): Buffer {
  if (typeof f === "string") return Buffer.from(f, "utf8");
  if (typeof f === "object" && f !== null && typeof (f as { b64?: unknown }).b64 === "string") {
    const b64 = (f as { b64: string }).b64;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0)
      throw new Error("b64 is not base64");
    return Buffer.from(b64, "base64");
  }
  throw new Error("a frame is a string or {b64}");
}

/**
 * Parses one text message from a browser.
 *
 * @returns the message, or `{ error }` naming what is wrong (the caller
 * answers or closes; nothing here throws).
 */
export function decodeClientMessage(
  text: string,
): ClientMessage | { error: string; id: number | null } {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return { error: "not JSON", id: null };
  }
  if (typeof o !== "object" || o === null || Array.isArray(o))
    return { error: "not an object", id: null };
  const m = o as Record<string, unknown>;
  const id = m["id"];
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0)
    return { error: "id must be a non-negative integer", id: null };
  switch (m["type"]) {
    case "request": {
      const service = m["service"];
      if (typeof service !== "string" || service === "" || service.length > 255)
        return { error: "service must be a name of 1-255 characters", id };
      if (service.startsWith("mmi.")) return { error: "mmi.* services are the bridge's own", id };
      if (!Array.isArray(m["body"])) return { error: "body must be an array of frames", id };
      const timeout = m["timeout"];
      if (
        timeout !== undefined &&
        (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout < 1)
      )
        return { error: "timeout must be a number of ms ≥ 1", id };
      try {
        return {
          type: "request",
          id,
          service,
          body: (m["body"] as unknown[]).map(decodeFrame),
          timeout,
        };
      } catch (error) {
        return { error: (error as Error).message, id };
      }
    }
    case "subscribe":
    case "unsubscribe": {
      const topic = m["topic"];
      if (typeof topic !== "string" || topic.length > 255)
        return { error: "topic must be a string of at most 255 characters", id };
      return { type: m["type"], id, topic };
    }
    case "clone-subscribe":
    case "clone-unsubscribe": {
      const prefix = m["prefix"];
      if (typeof prefix !== "string" || Buffer.byteLength(prefix) > 255)
        return { error: "prefix must be a string of at most 255 bytes", id };
      return { type: m["type"], id, prefix };
    }
    case "clone-set": {
      const key = m["key"];
      if (typeof key !== "string" || key === "" || Buffer.byteLength(key) > 255)
        return { error: "key must be a string of 1-255 bytes", id };
      const ttl = m["ttl"];
      if (ttl !== undefined && (typeof ttl !== "number" || !Number.isSafeInteger(ttl) || ttl < 1))
        return { error: "ttl must be an integer number of ms ≥ 1", id };
      try {
        const value = m["value"] === null ? null : decodeFrame(m["value"]);
        if (value !== null && value.length === 0)
          return { error: "value must not be empty (null deletes)", id };
        return { type: "clone-set", id, key, value, ttl };
      } catch (error) {
        return { error: (error as Error).message, id };
      }
    }
    default:
      return {
        error:
          "type must be request, subscribe, unsubscribe, clone-subscribe, clone-unsubscribe or clone-set",
        id,
      };
  }
}
