import { EMPTY_FRAME, FrameReader, ProtocolError, type Frame } from "@zg/core";

/**
 * Majordomo wire codec (7/MDP v0.1, 18/MDP v0.2, 8/MMI): pure functions from
 * frames to typed messages and back. No sockets here.
 *
 * v0.1 commands start with an empty frame (the REQ envelope delimiter); v0.2
 * drops it. The broker tells clients and workers of both versions apart by the
 * header frame: `MDPC01`, `MDPW01`, `MDPC02`, `MDPW02`.
 */

/** Which Majordomo wire version a peer speaks. */
export type MdpVersion = "MDP/0.1" | "MDP/0.2";

/** 7/MDP client header, `"MDPC01"`. */
export const MDPC01 = "MDPC01";
/** 7/MDP worker header, `"MDPW01"`. */
export const MDPW01 = "MDPW01";
/** 18/MDP client header, `"MDPC02"`. */
export const MDPC02 = "MDPC02";
/** 18/MDP worker header, `"MDPW02"`. */
export const MDPW02 = "MDPW02";

const H_C01 = Buffer.from(MDPC01);
const H_W01 = Buffer.from(MDPW01);
const H_C02 = Buffer.from(MDPC02);
const H_W02 = Buffer.from(MDPW02);

/** Worker command names, the same set for both versions (REPLY is 0.1's FINAL). */
export type WorkerCommand = "READY" | "REQUEST" | "PARTIAL" | "FINAL" | "HEARTBEAT" | "DISCONNECT";

/** 7/MDP worker command bytes (REPLY = FINAL; 0.1 has no PARTIAL). */
export const MDPW01_COMMANDS: Readonly<Record<WorkerCommand, number | undefined>> = {
  READY: 0x01,
  REQUEST: 0x02,
  PARTIAL: undefined,
  FINAL: 0x03,
  HEARTBEAT: 0x04,
  DISCONNECT: 0x05,
};

/** 18/MDP worker command bytes. */
export const MDPW02_COMMANDS: Readonly<Record<WorkerCommand, number>> = {
  READY: 0x01,
  REQUEST: 0x02,
  PARTIAL: 0x03,
  FINAL: 0x04,
  HEARTBEAT: 0x05,
  DISCONNECT: 0x06,
};

/** 18/MDP client command bytes. */
export const MDPC02_COMMANDS = { REQUEST: 0x01, PARTIAL: 0x02, FINAL: 0x03 } as const;

const W01_BY_BYTE = new Map<number, WorkerCommand>([
  [0x01, "READY"],
  [0x02, "REQUEST"],
  [0x03, "FINAL"],
  [0x04, "HEARTBEAT"],
  [0x05, "DISCONNECT"],
]);
const W02_BY_BYTE = new Map<number, WorkerCommand>(
  Object.entries(MDPW02_COMMANDS).map(([k, v]) => [v, k as WorkerCommand]),
);

// One-byte command frames, made once: the hot path allocates no Buffer per message for them
// (zeromq.js copies frames this small when it sends them, so sharing one is safe).
const byteFrames = (bytes: Iterable<number>): Map<number, Frame> =>
  new Map([...bytes].map((b) => [b, Buffer.from([b])]));
const W01_FRAMES = byteFrames(W01_BY_BYTE.keys());
const W02_FRAMES = byteFrames(W02_BY_BYTE.keys());
const C02_FRAMES = byteFrames(Object.values(MDPC02_COMMANDS));

// Service-name frames by name, so a reply does not encode its service name again each time
// (bounded: cleared when it fills, e.g. under a flood of invented names).
const SERVICE_FRAMES = new Map<string, Frame>();
const MAX_SERVICE_FRAMES = 4096;
function serviceFrame(service: string): Frame {
  let f = SERVICE_FRAMES.get(service);
  if (f === undefined) {
    if (SERVICE_FRAMES.size >= MAX_SERVICE_FRAMES) SERVICE_FRAMES.clear();
    f = Buffer.from(service);
    SERVICE_FRAMES.set(service, f);
  }
  return f;
}

/** True when `f` is the 6-byte header `h` (a byte loop: cheaper than `Buffer.equals` at this size). */
function isHeader(f: Frame, h: Frame): boolean {
  if (f.length !== 6) return false;
  for (let i = 0; i < 6; i++) if (f[i] !== h[i]) return false;
  return true;
}

/** Prefix of every service the broker answers itself (8/MMI). */
export const MMI_PREFIX = "mmi.";

/**
 * First body frame of a reply the **broker** generates instead of a worker
 * (a zg extension; 7/MDP has no error reply): `[MDP_ERROR_MARKER][status][text]`.
 * Status `"503"` = refused, queue full; `"504"` = expired, no worker took it in
 * time; `"502"` = its worker died and it was not (or no longer) re-queued.
 */
export const MDP_ERROR_MARKER = "zg.mdp.error";
const MARKER = Buffer.from(MDP_ERROR_MARKER);

/** Status codes of broker-generated error replies. */
export type BrokerErrorStatus = "502" | "503" | "504";

/**
 * Builds the body of a broker-generated error reply. When the request carried
 * an async-client correlation frame, it is echoed as a fourth frame so the
 * client can match the error to its request.
 */
export function brokerErrorBody(
  status: BrokerErrorStatus,
  text: string,
  request?: readonly Frame[],
): Frame[] {
  const body: Frame[] = [MARKER, Buffer.from(status), Buffer.from(text)];
  const c = request?.[0];
  if (decodeCorrelation(c) !== undefined) body.push(c as Frame);
  return body;
}

/**
 * Recognises a broker-generated error reply body.
 *
 * @returns `{ status, text }` or `undefined` for an ordinary reply.
 */
export function parseBrokerError(
  body: readonly Frame[],
): { status: string; text: string; correlation: bigint | undefined } | undefined {
  const m = body[0];
  if (m === undefined || !m.equals(MARKER)) return undefined;
  return {
    status: body[1]?.toString("latin1") ?? "",
    text: body[2]?.toString("utf8") ?? "",
    correlation: decodeCorrelation(body[3]),
  };
}

/** A message the broker received, decoded (the ROUTER's identity frame removed). */
export type BrokerInbound =
  | { kind: "client"; version: MdpVersion; service: string; body: Frame[] }
  | { kind: "worker"; version: MdpVersion; command: "READY"; service: string }
  | {
      kind: "worker";
      version: MdpVersion;
      command: "PARTIAL" | "FINAL";
      client: Frame;
      body: Frame[];
    }
  | { kind: "worker"; version: MdpVersion; command: "HEARTBEAT" | "DISCONNECT" }
  /** A well-formed worker command that never travels worker → broker (REQUEST). */
  | { kind: "worker"; version: MdpVersion; command: "REQUEST" };

const MAX_SERVICE_NAME = 255;

function serviceName(frame: Frame): string {
  if (frame.length === 0) throw new ProtocolError("empty service name");
  if (frame.length > MAX_SERVICE_NAME)
    throw new ProtocolError(`service name longer than ${MAX_SERVICE_NAME} bytes`);
  return frame.toString("utf8");
}

/**
 * Decodes what a broker's ROUTER received, after the identity frame.
 *
 * @throws {@link ProtocolError} for an invalid message (unknown header or
 * command, missing frames, wrong frame count): the broker drops it.
 */
export function decodeBrokerInbound(frames: readonly Frame[]): BrokerInbound {
  return decodeBrokerFrames(frames, 0);
}

/**
 * {@link decodeBrokerInbound} of `frames` from index `start` on (the broker
 * passes the ROUTER message and 1, with no copy of the array).
 *
 * @internal
 */
export function decodeBrokerFrames(frames: readonly Frame[], start: number): BrokerInbound {
  const f0 = frames[start];
  if (f0 === undefined) throw new ProtocolError("empty message");
  let version: MdpVersion;
  let header: Frame | undefined;
  let at: number;
  let isClient: boolean;
  if (f0.length === 0) {
    version = "MDP/0.1";
    header = frames[start + 1];
    at = start + 2;
    if (header === undefined) throw new ProtocolError("missing header frame");
    isClient = isHeader(header, H_C01);
    if (!isClient && !isHeader(header, H_W01)) throw new ProtocolError("unknown header");
  } else {
    version = "MDP/0.2";
    header = f0;
    at = start + 1;
    isClient = isHeader(header, H_C02);
    if (!isClient && !isHeader(header, H_W02)) {
      if (isHeader(header, H_C01) || isHeader(header, H_W01))
        throw new ProtocolError("MDP/0.1 header without the empty frame");
      throw new ProtocolError("unknown header");
    }
  }
  if (isClient) {
    if (version === "MDP/0.2") {
      const cmd = frames[at];
      if (cmd === undefined || cmd.length !== 1 || cmd[0] !== MDPC02_COMMANDS.REQUEST) {
        throw new ProtocolError("MDPC02 message is not a REQUEST");
      }
      at++;
    }
    const s = frames[at];
    if (s === undefined) throw new ProtocolError("client request without a service frame");
    const service = serviceName(s);
    const body = frames.slice(at + 1);
    // Both reference brokers crash here (assert len >= 2); we drop it.
    if (body.length === 0) throw new ProtocolError("client request without a body frame");
    return { kind: "client", version, service, body };
  }
  const cmdFrame = frames[at];
  if (cmdFrame === undefined || cmdFrame.length !== 1)
    throw new ProtocolError("missing or malformed command frame");
  const command = (version === "MDP/0.1" ? W01_BY_BYTE : W02_BY_BYTE).get(cmdFrame[0] as number);
  if (command === undefined)
    throw new ProtocolError(`unknown worker command 0x${(cmdFrame[0] as number).toString(16)}`);
  const rest = frames.slice(at + 1);
  switch (command) {
    case "READY": {
      if (rest.length !== 1)
        throw new ProtocolError(`READY has ${rest.length} frames after the command, expected 1`);
      return { kind: "worker", version, command, service: serviceName(rest[0] as Frame) };
    }
    case "PARTIAL":
    case "FINAL": {
      const client = rest[0];
      if (client === undefined || client.length === 0)
        throw new ProtocolError(`${command} without a client address`);
      if (rest[1] === undefined || rest[1].length !== 0)
        throw new ProtocolError(`${command} without the empty frame after the address`);
      return { kind: "worker", version, command, client, body: rest.slice(2) };
    }
    case "HEARTBEAT":
    case "DISCONNECT":
      if (rest.length !== 0)
        throw new ProtocolError(`${command} has ${rest.length} unexpected frame(s)`);
      return { kind: "worker", version, command };
    case "REQUEST":
      return { kind: "worker", version, command };
  }
}

function workerHeader(version: MdpVersion, command: WorkerCommand): Frame[] {
  if (version === "MDP/0.1") {
    const byte = MDPW01_COMMANDS[command];
    if (byte === undefined) throw new ProtocolError(`MDP/0.1 has no ${command} command`);
    return [EMPTY_FRAME, H_W01, W01_FRAMES.get(byte) as Frame];
  }
  return [H_W02, W02_FRAMES.get(MDPW02_COMMANDS[command]) as Frame];
}

/** Broker → worker REQUEST: `[header][0x02][client][""][body…]`. */
export function encodeWorkerRequest(
  version: MdpVersion,
  client: Frame,
  body: readonly Frame[],
): Frame[] {
  return workerRequestTo(undefined, version, client, body);
}

/**
 * {@link encodeWorkerRequest} with the worker's routing id `to` as the first
 * frame (omitted when undefined), built as one array.
 *
 * @internal
 */
export function workerRequestTo(
  to: Frame | undefined,
  version: MdpVersion,
  client: Frame,
  body: readonly Frame[],
): Frame[] {
  const m: Frame[] = [];
  if (to !== undefined) m.push(to);
  if (version === "MDP/0.1") m.push(EMPTY_FRAME, H_W01, W01_FRAMES.get(0x02) as Frame);
  else m.push(H_W02, W02_FRAMES.get(MDPW02_COMMANDS.REQUEST) as Frame);
  m.push(client, EMPTY_FRAME);
  for (const f of body) m.push(f);
  return m;
}

/** HEARTBEAT or DISCONNECT in either direction (both have no body). */
export function encodeWorkerSignal(
  version: MdpVersion,
  command: "HEARTBEAT" | "DISCONNECT",
): Frame[] {
  return workerHeader(version, command);
}

/** Worker → broker READY. */
export function encodeReady(version: MdpVersion, service: string): Frame[] {
  return [...workerHeader(version, "READY"), Buffer.from(service)];
}

/** Worker → broker REPLY (0.1) / FINAL or PARTIAL (0.2). */
export function encodeWorkerReply(
  version: MdpVersion,
  command: "PARTIAL" | "FINAL",
  client: Frame,
  body: readonly Frame[],
): Frame[] {
  return [...workerHeader(version, command), client, EMPTY_FRAME, ...body];
}

/** Broker → client REPLY (0.1) or PARTIAL/FINAL (0.2). */
export function encodeClientReply(
  version: MdpVersion,
  command: "PARTIAL" | "FINAL",
  service: string,
  body: readonly Frame[],
): Frame[] {
  return clientReplyTo(undefined, version, command, service, body);
}

/**
 * {@link encodeClientReply} with the client's routing id `to` as the first
 * frame (omitted when undefined), built as one array.
 *
 * @internal
 */
export function clientReplyTo(
  to: Frame | undefined,
  version: MdpVersion,
  command: "PARTIAL" | "FINAL",
  service: string,
  body: readonly Frame[],
): Frame[] {
  const m: Frame[] = [];
  if (to !== undefined) m.push(to);
  if (version === "MDP/0.1") m.push(EMPTY_FRAME, H_C01, serviceFrame(service));
  else m.push(H_C02, C02_FRAMES.get(MDPC02_COMMANDS[command]) as Frame, serviceFrame(service));
  for (const f of body) m.push(f);
  return m;
}

/** Client → broker REQUEST (as sent from a DEALER: the 0.1 empty frame included). */
export function encodeClientRequest(
  version: MdpVersion,
  service: string,
  body: readonly Frame[],
): Frame[] {
  if (version === "MDP/0.1") return [EMPTY_FRAME, H_C01, Buffer.from(service), ...body];
  return [H_C02, Buffer.from([MDPC02_COMMANDS.REQUEST]), Buffer.from(service), ...body];
}

/** A message a worker received from its broker, decoded. */
export type WorkerInbound =
  { command: "REQUEST"; client: Frame; body: Frame[] } | { command: "HEARTBEAT" | "DISCONNECT" };

/**
 * Decodes what a worker's DEALER received.
 *
 * @throws {@link ProtocolError} for anything else (the worker drops it).
 */
export function decodeWorkerInbound(version: MdpVersion, frames: readonly Frame[]): WorkerInbound {
  const r = new FrameReader(frames);
  if (version === "MDP/0.1") {
    if (frames[0] === undefined || frames[0].length !== 0)
      throw new ProtocolError("missing empty frame");
    r.takeEmpty();
  }
  if (!r.take("header").equals(version === "MDP/0.1" ? H_W01 : H_W02))
    throw new ProtocolError("wrong header");
  const byte = r.takeCommand();
  const command = (version === "MDP/0.1" ? W01_BY_BYTE : W02_BY_BYTE).get(byte);
  if (command === "REQUEST") {
    const client = r.take("client address");
    r.takeEmpty("empty frame after the client address");
    return { command, client, body: r.rest() };
  }
  if (command === "HEARTBEAT" || command === "DISCONNECT") return { command };
  throw new ProtocolError(`unexpected command from broker: ${command ?? `0x${byte.toString(16)}`}`);
}

/** A message a client received from its broker, decoded. */
export interface ClientInbound {
  version: MdpVersion;
  /** 0.1 replies are always FINAL. */
  command: "PARTIAL" | "FINAL";
  service: string;
  body: Frame[];
}

/**
 * Decodes a reply as a client DEALER sees it (0.1 with the empty frame).
 *
 * @throws {@link ProtocolError} for anything else.
 */
export function decodeClientInbound(frames: readonly Frame[]): ClientInbound {
  const r = new FrameReader(frames);
  const f0 = r.take("first frame");
  if (f0.length === 0) {
    if (!r.take("header").equals(H_C01)) throw new ProtocolError("wrong header");
    const service = r.takeString("service frame");
    return { version: "MDP/0.1", command: "FINAL", service, body: r.rest() };
  }
  if (!f0.equals(H_C02)) throw new ProtocolError("wrong header");
  const cmd = r.takeCommand();
  const service = r.takeString("service frame");
  const command =
    cmd === MDPC02_COMMANDS.PARTIAL
      ? "PARTIAL"
      : cmd === MDPC02_COMMANDS.FINAL
        ? "FINAL"
        : undefined;
  if (command === undefined) throw new ProtocolError("unknown MDPC02 reply command");
  return { version: "MDP/0.2", command, service, body: r.rest() };
}

/**
 * Correlation frame of the asynchronous client (a zg extension that travels
 * inside the 7/MDP body, so brokers need no change): 12 bytes,
 * `0x00 "ZGC"` + a 64-bit big-endian request number. {@link MajordomoWorker}
 * strips it before the handler and puts it back on the reply; a worker that
 * echoes its whole body (the Guide's `mdworker`) keeps it too.
 */
export const CORRELATION_PREFIX = Buffer.from([0x00, 0x5a, 0x47, 0x43]);

/** Encodes a correlation frame for request number `id`. */
export function encodeCorrelation(id: bigint): Frame {
  const b = Buffer.alloc(12);
  CORRELATION_PREFIX.copy(b, 0);
  b.writeBigUInt64BE(id, 4);
  return b;
}

/** The request number of a correlation frame, or `undefined`. */
export function decodeCorrelation(frame: Frame | undefined): bigint | undefined {
  if (
    frame === undefined ||
    frame.length !== 12 ||
    frame.compare(CORRELATION_PREFIX, 0, 4, 0, 4) !== 0
  )
    return undefined;
  return frame.readBigUInt64BE(4);
}
