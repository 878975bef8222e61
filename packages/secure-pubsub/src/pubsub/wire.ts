import { ProtocolError, type Frame, type Message } from "@zg/core/pure";

/** Version marker of the entitled pub-sub protocol (ADR 4): the first frame of every message. */
export const PUBSUB_MAGIC = "ZGSP01";

/** Client → broker commands. */
export const ClientCommand = {
  HELLO: 0x01,
  LOGIN: 0x02,
  SUBSCRIBE: 0x03,
  UNSUBSCRIBE: 0x04,
  PUBLISH: 0x05,
  PING: 0x06,
  LOGOUT: 0x07,
} as const;

/** Broker → client commands. */
export const BrokerCommand = {
  CHALLENGE: 0x81,
  STATUS: 0x82,
  MESSAGE: 0x83,
} as const;

/** HTTP-like status codes of the entitled pub-sub protocol. */
export type StatusCode = 200 | 400 | 401 | 403 | 404 | 429;

/** Length of a login challenge nonce, 32 bytes. */
export const NONCE_BYTES = 32;

/** A decoded client → broker message. */
export type ClientMessage =
  | { cmd: "hello"; requestId: Buffer }
  | { cmd: "login"; requestId: Buffer; token: Buffer; signature: Buffer }
  | { cmd: "subscribe" | "unsubscribe"; requestId: Buffer; pattern: string }
  | { cmd: "publish"; requestId: Buffer; topic: string; payload: Buffer[] }
  | { cmd: "ping" | "logout"; requestId: Buffer };

/** A decoded broker → client message. */
export type BrokerMessage =
  | { cmd: "challenge"; requestId: Buffer; nonce: Buffer }
  | { cmd: "status"; requestId: Buffer; code: StatusCode; text: string }
  | { cmd: "message"; topic: string; publisher: Buffer; payload: Buffer[] };

const MAGIC = Buffer.from(PUBSUB_MAGIC);
const EMPTY = Buffer.alloc(0);
const one = (b: number): Buffer => Buffer.from([b]);
const utf8 = new TextDecoder("utf-8", { fatal: true });

function text(frame: Buffer | undefined, what: string): string {
  if (frame === undefined) throw new ProtocolError(`missing ${what}`);
  try {
    return utf8.decode(frame);
  } catch {
    throw new ProtocolError(`${what} is not UTF-8`);
  }
}

function header(frames: Message, offset: number): { cmd: number; requestId: Buffer } {
  const magic = frames[offset];
  if (magic === undefined || !MAGIC.equals(magic))
    throw new ProtocolError(`not a ${PUBSUB_MAGIC} message`);
  const cmd = frames[offset + 1];
  const rid = frames[offset + 2];
  if (cmd === undefined || cmd.length !== 1 || rid === undefined)
    throw new ProtocolError("truncated header");
  if (rid.length > 8) throw new ProtocolError("request id longer than 8 bytes");
  return { cmd: cmd[0] as number, requestId: rid };
}

/** Encodes a client message: `[ZGSP01][cmd][request id][args…]`. */
export function encodeClient(m: ClientMessage): Frame[] {
  const head = (c: number): Frame[] => [MAGIC, one(c), m.requestId];
  switch (m.cmd) {
    case "hello":
      return head(ClientCommand.HELLO);
    case "login":
      return [...head(ClientCommand.LOGIN), m.token, m.signature];
    case "subscribe":
      return [...head(ClientCommand.SUBSCRIBE), Buffer.from(m.pattern)];
    case "unsubscribe":
      return [...head(ClientCommand.UNSUBSCRIBE), Buffer.from(m.pattern)];
    case "publish":
      return [...head(ClientCommand.PUBLISH), Buffer.from(m.topic), ...m.payload];
    case "ping":
      return head(ClientCommand.PING);
    case "logout":
      return head(ClientCommand.LOGOUT);
  }
}

/**
 * Decodes a client message starting at `offset` (1 on a ROUTER: after the routing id).
 *
 * @throws {@link ProtocolError} for anything else; `details.requestId` is set
 * when the header was valid (so the broker can answer 400).
 */
export function decodeClient(frames: Message, offset = 0): ClientMessage {
  const { cmd, requestId } = header(frames, offset);
  const args = frames.slice(offset + 3);
  const n = args.length;
  const bad = (why: string): never => {
    throw new ProtocolError(why, { details: { requestId } });
  };
  switch (cmd) {
    case ClientCommand.HELLO:
      return n === 0 ? { cmd: "hello", requestId } : bad("HELLO takes no arguments");
    case ClientCommand.LOGIN:
      if (n !== 2 || (args[1] as Buffer).length !== 64)
        return bad("LOGIN needs a token and a 64-byte signature");
      return { cmd: "login", requestId, token: args[0] as Buffer, signature: args[1] as Buffer };
    case ClientCommand.SUBSCRIBE:
    case ClientCommand.UNSUBSCRIBE: {
      if (n !== 1) return bad("SUBSCRIBE/UNSUBSCRIBE needs one pattern");
      let pattern: string;
      try {
        pattern = text(args[0], "pattern");
      } catch (e) {
        return bad((e as Error).message);
      }
      return {
        cmd: cmd === ClientCommand.SUBSCRIBE ? "subscribe" : "unsubscribe",
        requestId,
        pattern,
      };
    }
    case ClientCommand.PUBLISH: {
      if (n < 2) return bad("PUBLISH needs a topic and a payload");
      let topic: string;
      try {
        topic = text(args[0], "topic");
      } catch (e) {
        return bad((e as Error).message);
      }
      return { cmd: "publish", requestId, topic, payload: args.slice(1) };
    }
    case ClientCommand.PING:
      return n === 0 ? { cmd: "ping", requestId } : bad("PING takes no arguments");
    case ClientCommand.LOGOUT:
      return n === 0 ? { cmd: "logout", requestId } : bad("LOGOUT takes no arguments");
    default:
      return bad(`unknown command 0x${cmd.toString(16)}`);
  }
}

/** Encodes a broker message. */
export function encodeBroker(m: BrokerMessage): Frame[] {
  switch (m.cmd) {
    case "challenge":
      return [MAGIC, one(BrokerCommand.CHALLENGE), m.requestId, m.nonce];
    case "status":
      return [
        MAGIC,
        one(BrokerCommand.STATUS),
        m.requestId,
        Buffer.from(String(m.code)),
        Buffer.from(m.text),
      ];
    case "message":
      return [
        MAGIC,
        one(BrokerCommand.MESSAGE),
        EMPTY,
        Buffer.from(m.topic),
        m.publisher,
        ...m.payload,
      ];
  }
}

const CODES = new Set([200, 400, 401, 403, 404, 429]);

/** Decodes a broker message (as a DEALER receives it). @throws {@link ProtocolError} */
export function decodeBroker(frames: Message): BrokerMessage {
  const { cmd, requestId } = header(frames, 0);
  const args = frames.slice(3);
  switch (cmd) {
    case BrokerCommand.CHALLENGE:
      if (args.length !== 1 || (args[0] as Buffer).length !== NONCE_BYTES)
        throw new ProtocolError("bad CHALLENGE");
      return { cmd: "challenge", requestId, nonce: args[0] as Buffer };
    case BrokerCommand.STATUS: {
      const code = Number(text(args[0], "status code"));
      if (args.length !== 2 || !CODES.has(code)) throw new ProtocolError("bad STATUS");
      return {
        cmd: "status",
        requestId,
        code: code as StatusCode,
        text: text(args[1], "status text"),
      };
    }
    case BrokerCommand.MESSAGE:
      if (args.length < 3 || (args[1] as Buffer).length !== 32)
        throw new ProtocolError("bad MESSAGE");
      return {
        cmd: "message",
        topic: text(args[0], "topic"),
        publisher: args[1] as Buffer,
        payload: args.slice(2),
      };
    default:
      throw new ProtocolError(`unknown broker command 0x${cmd.toString(16)}`);
  }
}

/** The bytes a client signs to log in: `"ZGSP01 login\0"` ‖ nonce ‖ SHA-512(token). */
export function loginTranscript(nonce: Uint8Array, tokenHash: Uint8Array): Uint8Array {
  const ctx = Buffer.from(`${PUBSUB_MAGIC} login\0`);
  return Buffer.concat([ctx, nonce, tokenHash]);
}
