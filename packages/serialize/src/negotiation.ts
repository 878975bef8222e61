import {
  assertArgument,
  decodeCommand,
  durationOption,
  encodeCommand,
  FrameReader,
  isZgError,
  ProtocolError,
  socketError,
  ZgError,
  type Frame,
} from "@zg/core/pure";
import { VersionError } from "./errors.js";

/**
 * Header frame of every negotiation message: "ZGNEG" plus the handshake's own
 * format version "1" (protocols.md §17.1, MDP-style version-tagged header).
 */
export const NEGOTIATION_HEADER = "ZGNEG1";

/** Command byte of HELLO (client → server: protocol and the versions the client speaks). */
export const NEGOTIATION_HELLO = 0x01;
/** Command byte of WELCOME (server → client: the version chosen). */
export const NEGOTIATION_WELCOME = 0x02;
/** Command byte of REJECT (server → client: no common version; the server's versions and a reason). */
export const NEGOTIATION_REJECT = 0x03;

/** Most versions one side may offer. */
export const MAX_OFFERED_VERSIONS = 64;

/**
 * Default time the client waits for WELCOME/REJECT: 2500 ms, the Guide's
 * client request timeout (`lpclient` / `mdcliapi2` `REQUEST_TIMEOUT`).
 */
export const DEFAULT_NEGOTIATION_TIMEOUT = 2500;

const HEADER = Buffer.from(NEGOTIATION_HEADER, "latin1");
const PROTOCOL_NAME = /^[A-Za-z0-9_.\-/]{1,128}$/;
const VERSION_LIST = /^[1-9][0-9]{0,4}(,[1-9][0-9]{0,4}){0,63}$/;

/** A parsed negotiation message. */
export type NegotiationMessage =
  | { readonly command: "hello"; readonly protocol: string; readonly versions: readonly number[] }
  | { readonly command: "welcome"; readonly protocol: string; readonly version: number }
  | {
      readonly command: "reject";
      readonly protocol: string;
      readonly versions: readonly number[];
      readonly reason: string;
    };

/**
 * Validates and normalises a version set: integers 1..65535, at most
 * {@link MAX_OFFERED_VERSIONS}, returned ascending without duplicates.
 *
 * @throws `ZG_INVALID_ARGUMENT`.
 */
export function normaliseVersions(versions: Iterable<number>, what = "versions"): number[] {
  const set = new Set<number>();
  for (const v of versions) {
    assertArgument(
      Number.isInteger(v) && v >= 1 && v <= 65_535,
      `${what}: each version must be an integer 1..65535, got ${String(v)}`,
    );
    set.add(v);
  }
  assertArgument(
    set.size >= 1 && set.size <= MAX_OFFERED_VERSIONS,
    `${what}: 1..${MAX_OFFERED_VERSIONS} versions, got ${set.size}`,
  );
  return [...set].sort((a, b) => a - b);
}

/** The highest version in both sets, or `undefined` when they share none. */
export function chooseVersion(
  local: Iterable<number>,
  remote: Iterable<number>,
): number | undefined {
  const mine = new Set(local);
  let best: number | undefined;
  for (const v of remote) if (mine.has(v) && (best === undefined || v > best)) best = v;
  return best;
}

function protocolFrame(protocol: string): Frame {
  assertArgument(
    PROTOCOL_NAME.test(protocol),
    `protocol must match ${String(PROTOCOL_NAME)}, got ${JSON.stringify(protocol)}`,
  );
  return Buffer.from(protocol, "latin1");
}

/** Encodes HELLO: `["ZGNEG1"][0x01][protocol][versions]`, versions as ASCII decimals joined by commas, ascending. */
export function encodeHello(protocol: string, versions: Iterable<number>): Frame[] {
  return [
    HEADER,
    encodeCommand(NEGOTIATION_HELLO),
    protocolFrame(protocol),
    Buffer.from(normaliseVersions(versions).join(","), "latin1"),
  ];
}

/** Encodes WELCOME: `["ZGNEG1"][0x02][protocol][version]`. */
export function encodeWelcome(protocol: string, version: number): Frame[] {
  normaliseVersions([version], "version");
  return [
    HEADER,
    encodeCommand(NEGOTIATION_WELCOME),
    protocolFrame(protocol),
    Buffer.from(String(version), "latin1"),
  ];
}

/** Encodes REJECT: `["ZGNEG1"][0x03][protocol][server versions, may be empty][reason]`. */
export function encodeReject(
  protocol: string,
  versions: Iterable<number>,
  reason: string,
): Frame[] {
  const list = [...versions];
  return [
    HEADER,
    encodeCommand(NEGOTIATION_REJECT),
    protocolFrame(protocol),
    Buffer.from(list.length === 0 ? "" : normaliseVersions(list).join(","), "latin1"),
    Buffer.from(reason.slice(0, 255), "utf8"),
  ];
}

/** True when `frames` starts with the negotiation header frame (so a loop can route it to the responder). */
export function isNegotiationMessage(frames: readonly Frame[]): boolean {
  const first = frames[0];
  return first !== undefined && first.length === HEADER.length && HEADER.equals(first);
}

function parseVersions(frame: Frame, allowEmpty: boolean): number[] {
  if (frame.length === 0 && allowEmpty) return [];
  if (frame.length > MAX_OFFERED_VERSIONS * 6)
    throw new ProtocolError("negotiation: version list too long");
  const text = frame.toString("latin1");
  if (!VERSION_LIST.test(text)) throw new ProtocolError("negotiation: malformed version list");
  const versions = text.split(",").map(Number);
  if (versions.some((v) => v > 65_535)) throw new ProtocolError("negotiation: version over 65535");
  return [...new Set(versions)].sort((a, b) => a - b);
}

/**
 * Parses a negotiation message (the frames after any routing envelope).
 *
 * @throws {@link ProtocolError} when it is not a well-formed HELLO, WELCOME or REJECT.
 */
export function decodeNegotiation(frames: readonly Frame[]): NegotiationMessage {
  if (!isNegotiationMessage(frames))
    throw new ProtocolError(`negotiation: first frame is not ${NEGOTIATION_HEADER}`);
  const r = new FrameReader(frames);
  r.take("header");
  const command = decodeCommand(r.take("command"));
  const protocolBytes = r.take("protocol");
  const protocol = protocolBytes.toString("latin1");
  if (!PROTOCOL_NAME.test(protocol))
    throw new ProtocolError("negotiation: malformed protocol name");
  switch (command) {
    case NEGOTIATION_HELLO: {
      const versions = parseVersions(r.take("versions"), false);
      r.end();
      return { command: "hello", protocol, versions };
    }
    case NEGOTIATION_WELCOME: {
      const [version] = parseVersions(r.take("version"), false);
      r.end();
      if (version === undefined) throw new ProtocolError("negotiation: missing version");
      return { command: "welcome", protocol, version };
    }
    case NEGOTIATION_REJECT: {
      const versions = parseVersions(r.take("versions"), true);
      const reasonFrame = r.take("reason");
      r.end();
      if (reasonFrame.length > 255) throw new ProtocolError("negotiation: reason too long");
      return { command: "reject", protocol, versions, reason: reasonFrame.toString("utf8") };
    }
    default:
      throw new ProtocolError(
        `negotiation: unknown command 0x${command.toString(16).padStart(2, "0")}`,
      );
  }
}

/** What a {@link VersionResponder} decided for one HELLO. */
export interface NegotiationOutcome {
  /** The frames to send back (WELCOME or REJECT); wrap them in the peer's routing envelope. */
  reply: Frame[];
  /** The protocol the peer asked about. */
  protocol: string;
  /** The versions the peer offered. */
  remote: readonly number[];
  /** The agreed version, when the reply is WELCOME. */
  version?: number;
  /** Why the reply is REJECT: a `ZG_VERSION` error naming both sets (log it, count it). */
  error?: VersionError;
}

/** A server-side responder: turns a HELLO into WELCOME or REJECT. */
export type VersionResponder = (hello: readonly Frame[]) => NegotiationOutcome;

/**
 * Builds the server side of the handshake for the protocols this peer
 * speaks. Call it from your ROUTER loop's `onMessage` for messages where
 * {@link isNegotiationMessage} is true, and post the reply back through the
 * same envelope. It is pure: no socket, no state, no timers.
 *
 * @param supported protocol name → the versions this server speaks.
 * @throws `ZG_INVALID_ARGUMENT` (construction) for bad names or version sets.
 * @throws {@link ProtocolError} (per call) when the message is not a well-formed HELLO; the loop counts and drops it.
 * @example
 * ```ts
 * const respond = createVersionResponder({ "echo": [1, 2] });
 * // in the ROUTER SocketLoop's onMessage:
 * const { id, body } = unwrap(msg);
 * if (isNegotiationMessage(body)) loop.post([id, ...respond(body).reply]);
 * ```
 */
export function createVersionResponder(
  supported: Readonly<Record<string, readonly number[]>>,
): VersionResponder {
  const table = new Map<string, number[]>();
  for (const protocol of Object.keys(supported)) {
    protocolFrame(protocol);
    table.set(protocol, normaliseVersions(supported[protocol] ?? [], `${protocol} versions`));
  }
  assertArgument(table.size > 0, "createVersionResponder needs at least one protocol");
  return (hello) => {
    const m = decodeNegotiation(hello);
    if (m.command !== "hello")
      throw new ProtocolError(`negotiation: expected HELLO, got ${m.command.toUpperCase()}`);
    const local = table.get(m.protocol);
    if (local === undefined) {
      const reason = "unknown protocol";
      return {
        reply: encodeReject(m.protocol, [], reason),
        protocol: m.protocol,
        remote: m.versions,
        error: new VersionError(m.protocol, [], m.versions, reason),
      };
    }
    const version = chooseVersion(local, m.versions);
    if (version === undefined) {
      const reason = "no common version";
      return {
        reply: encodeReject(m.protocol, local, reason),
        protocol: m.protocol,
        remote: m.versions,
        error: new VersionError(m.protocol, local, m.versions, reason),
      };
    }
    return {
      reply: encodeWelcome(m.protocol, version),
      protocol: m.protocol,
      remote: m.versions,
      version,
    };
  };
}

/**
 * The socket the client side needs: a zeromq.js `Dealer` fits as is. The
 * client owns it and must not use it concurrently while negotiating (one
 * reader, one writer).
 */
export interface NegotiationPort {
  send(frames: Frame[]): Promise<void>;
  receive(): Promise<Frame[]>;
}

/** Options of {@link negotiateVersion}. */
export interface NegotiateOptions {
  /** The protocol (or schema) name, 1..128 of `[A-Za-z0-9_.\-/]`. */
  protocol: string;
  /** The versions this client speaks. */
  versions: readonly number[];
  /**
   * How long to wait for the answer, in milliseconds.
   * @defaultValue {@link DEFAULT_NEGOTIATION_TIMEOUT} (2500 ms, Guide `lpclient` `REQUEST_TIMEOUT`)
   */
  timeout?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
  /** Frames to put before HELLO, e.g. `[EMPTY_FRAME]` for a REQ-style delimiter. */
  prefix?: readonly Frame[];
}

/**
 * The client side of the handshake over a DEALER (or any {@link NegotiationPort}):
 * sends HELLO, waits for WELCOME or REJECT, skipping any other message.
 * Resolves with the agreed version (the highest both sides speak).
 *
 * After a timeout or abort a `receive()` may still be pending on the socket:
 * close it (as the Lazy Pirate client does) rather than reuse it.
 *
 * @throws {@link VersionError} (`ZG_VERSION`, naming both sets) on REJECT.
 * @throws `ZG_PROTOCOL` when WELCOME names a version this client did not offer or a reply is malformed.
 * @throws `ZG_TIMEOUT` after `timeout` ms, `ZG_ABORTED` when `signal` fires, `ZG_SOCKET` when the socket fails (the zeromq.js error is the `cause`).
 * @example
 * ```ts
 * const version = await negotiateVersion(dealer, { protocol: "echo", versions: [1, 2] });
 * ```
 */
export async function negotiateVersion(
  port: NegotiationPort,
  options: NegotiateOptions,
): Promise<number> {
  const local = normaliseVersions(options.versions);
  const hello = encodeHello(options.protocol, local);
  const timeout = durationOption("timeout", options.timeout, DEFAULT_NEGOTIATION_TIMEOUT, {
    min: 1,
  });
  const { signal } = options;
  if (signal?.aborted) throw new ZgError("ZG_ABORTED", "version negotiation aborted");
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ZgError(
            "ZG_TIMEOUT",
            `version negotiation of ${options.protocol} timed out after ${timeout} ms`,
            { details: { protocol: options.protocol, timeout } },
          ),
        ),
      timeout,
    );
    onAbort = () => reject(new ZgError("ZG_ABORTED", "version negotiation aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  const exchange = async (): Promise<number> => {
    await port.send([...(options.prefix ?? []), ...hello]);
    for (;;) {
      const frames = await port.receive();
      const skip = options.prefix?.length ?? 0;
      const body = frames.slice(skip);
      if (!isNegotiationMessage(body)) continue;
      const m = decodeNegotiation(body);
      if (m.protocol !== options.protocol) continue;
      if (m.command === "welcome") {
        if (!local.includes(m.version))
          throw new ProtocolError(
            `negotiation: server chose version ${m.version}, not offered [${local.join(",")}]`,
          );
        return m.version;
      }
      if (m.command === "reject")
        throw new VersionError(options.protocol, local, m.versions, m.reason);
    }
  };
  const running = exchange().catch((error: unknown) => {
    throw isZgError(error)
      ? error
      : socketError(`version negotiation of ${options.protocol}: socket failed`, error);
  });
  // A late failure of the abandoned exchange (socket closed after a timeout) is not an unhandled rejection.
  running.catch(() => {});
  try {
    return await Promise.race([running, stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
  }
}
