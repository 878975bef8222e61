import { FrameReader, ProtocolError, type Frame, type Message } from "@zg/core/pure";
import { readU32, readU64, u32, u64 } from "./binary.js";

/**
 * First frame of every Harmony pipeline message (ADR 4): 6 ASCII bytes, a
 * protocol name and a two-digit version. A message with any other first frame
 * is dropped and counted (`protocolErrors`).
 */
export const PIPELINE_HEADER = "ZGHP01";
const HEADER = Buffer.from(PIPELINE_HEADER, "ascii");

/** Command bytes of the Harmony pipeline (second frame, one byte). */
export const PipelineCommand = {
  /** worker → client: `[instance][limit u64][window u64]`, credit grant and heartbeat. */
  CREDIT: 0x01,
  /** client → worker: `[session][seq u64][clientId][batch u64][task u32 × n][payload × n]`, 1..256 tasks of one batch. */
  TASK: 0x02,
  /** client → worker: `[instance]`, the client's heartbeat. */
  HEARTBEAT: 0x03,
  /** worker → collector: `[clientId][batch u64][task u32 × n][payload × n]`. */
  RESULT: 0x10,
  /** client → collector: `[clientId][batch u64][size u32]`, a batch begins (or begins again). */
  START: 0x20,
  /** client → collector: `[clientId][batch u64][size u32]`, every task was sent once. */
  END: 0x21,
  /** client → collector: `[clientId][batch u64]`, the client has every result: free the batch. */
  FORGET: 0x22,
  /** client → collector: `[clientId]`, the client's heartbeat. */
  PING: 0x23,
  /** collector → client: `[batch u64][task u32 × n][payload × n]`, results seen for the first time. */
  DELIVER: 0x30,
  /** collector → client: `[batch u64][task u32 × n]`, exactly the numbers still missing after END. */
  MISSING: 0x31,
  /** collector → client: `[batch u64][size u32]`, every result of the batch was delivered. */
  DONE: 0x32,
  /** collector → client: `[batch u64]`, the collector does not know this batch (restarted, or expired it). */
  UNKNOWN: 0x33,
  /** collector → client: `[instance]`, the collector's heartbeat (a new instance = a restarted collector). */
  ALIVE: 0x34,
  /** collector → client: `[batch u64][reason]`, a START refused at a bound (`maxClients`, `maxBatches`, `maxBatchSize`). */
  REFUSED: 0x35,
} as const;

/** A decoded Harmony pipeline message. */
export type PipelineMessage =
  | { command: "CREDIT"; instance: Frame; limit: number; window: number }
  | {
      command: "TASK";
      instance: Frame;
      seq: number;
      clientId: string;
      batch: number;
      tasks: number[];
      payloads: Frame[];
    }
  | { command: "HEARTBEAT"; instance: Frame }
  | { command: "RESULT"; clientId: string; batch: number; tasks: number[]; payloads: Frame[] }
  | { command: "START"; clientId: string; batch: number; size: number }
  | { command: "END"; clientId: string; batch: number; size: number }
  | { command: "FORGET"; clientId: string; batch: number }
  | { command: "PING"; clientId: string }
  | { command: "DELIVER"; batch: number; tasks: number[]; payloads: Frame[] }
  | { command: "MISSING"; batch: number; tasks: number[] }
  | { command: "DONE"; batch: number; size: number }
  | { command: "UNKNOWN"; batch: number }
  | { command: "ALIVE"; instance: Frame }
  | { command: "REFUSED"; batch: number; reason: string };

/** Most tasks (or results) one TASK, RESULT or DELIVER message carries. Project value. */
export const MAX_TASKS_PER_MESSAGE = 256;

/** Most task numbers one MISSING message carries (the rest follow in later rounds). */
export const MAX_MISSING_PER_MESSAGE = 16_384;

const str = (s: string): Frame => Buffer.from(s, "utf8");
const cmd = (c: number): Frame => Buffer.from([c]);

function u32s(list: readonly number[]): Frame {
  const b = Buffer.allocUnsafe(4 * list.length);
  for (let i = 0; i < list.length; i++) b.writeUInt32BE(list[i]!, 4 * i);
  return b;
}
/** A task-number list frame and one payload frame per number. */
function readTasks(r: FrameReader): { tasks: number[]; payloads: Frame[] } {
  const list = r.take("task numbers");
  const n = list.length / 4;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TASKS_PER_MESSAGE)
    throw new ProtocolError(
      `task numbers must be 1..${MAX_TASKS_PER_MESSAGE} × 4 bytes, got ${list.length}`,
    );
  if (r.remaining !== n)
    throw new ProtocolError(`${n} task numbers but ${r.remaining} payload frames`);
  const tasks: number[] = [];
  for (let i = 0; i < list.length; i += 4) tasks.push(list.readUInt32BE(i));
  return { tasks, payloads: r.rest() };
}
function readId(r: FrameReader): string {
  const f = r.take("client id");
  if (f.length === 0 || f.length > 255) throw new ProtocolError("client id must be 1..255 bytes");
  return f.toString("utf8");
}

/** Encodes a pipeline message (header and command frames first). */
export function encodePipeline(m: PipelineMessage): Message {
  const head = [HEADER, cmd(PipelineCommand[m.command])];
  switch (m.command) {
    case "CREDIT":
      return [...head, m.instance, u64(m.limit), u64(m.window)];
    case "TASK":
      return [
        ...head,
        m.instance,
        u64(m.seq),
        str(m.clientId),
        u64(m.batch),
        u32s(m.tasks),
        ...m.payloads,
      ];
    case "HEARTBEAT":
    case "ALIVE":
      return [...head, m.instance];
    case "REFUSED":
      return [...head, u64(m.batch), str(m.reason)];
    case "RESULT":
      return [...head, str(m.clientId), u64(m.batch), u32s(m.tasks), ...m.payloads];
    case "START":
    case "END":
      return [...head, str(m.clientId), u64(m.batch), u32(m.size)];
    case "FORGET":
      return [...head, str(m.clientId), u64(m.batch)];
    case "PING":
      return [...head, str(m.clientId)];
    case "DELIVER":
      return [...head, u64(m.batch), u32s(m.tasks), ...m.payloads];
    case "MISSING":
      return [...head, u64(m.batch), u32s(m.tasks)];
    case "DONE":
      return [...head, u64(m.batch), u32(m.size)];
    case "UNKNOWN":
      return [...head, u64(m.batch)];
  }
}

const NAMES = new Map<number, PipelineMessage["command"]>(
  Object.entries(PipelineCommand).map(([k, v]) => [v, k as PipelineMessage["command"]]),
);

/** True when the first frame is the `ZGHP01` header. */
export function isPipelineHeader(frame: Frame | undefined): boolean {
  return frame !== undefined && frame.equals(HEADER);
}

/**
 * Decodes a pipeline message.
 * @throws {@link ProtocolError} for a wrong header, an unknown command or a malformed body.
 */
export function decodePipeline(message: readonly Frame[]): PipelineMessage {
  const r = new FrameReader(message);
  const header = r.take("header");
  if (!header.equals(HEADER)) throw new ProtocolError(`not a ${PIPELINE_HEADER} message`);
  const c = r.takeCommand();
  const command = NAMES.get(c);
  if (command === undefined) throw new ProtocolError(`unknown command 0x${c.toString(16)}`);
  let out: PipelineMessage;
  switch (command) {
    case "CREDIT":
      out = {
        command,
        instance: r.take("instance"),
        limit: readU64(r, "limit"),
        window: readU64(r, "window"),
      };
      break;
    case "TASK":
      out = {
        command,
        instance: r.take("instance"),
        seq: readU64(r, "seq"),
        clientId: readId(r),
        batch: readU64(r, "batch"),
        ...readTasks(r),
      };
      break;
    case "HEARTBEAT":
    case "ALIVE":
      out = { command, instance: r.take("instance") };
      break;
    case "REFUSED":
      out = { command, batch: readU64(r, "batch"), reason: r.takeString("reason") };
      break;
    case "RESULT":
      out = {
        command,
        clientId: readId(r),
        batch: readU64(r, "batch"),
        ...readTasks(r),
      };
      break;
    case "START":
    case "END":
      out = { command, clientId: readId(r), batch: readU64(r, "batch"), size: readU32(r, "size") };
      break;
    case "FORGET":
      out = { command, clientId: readId(r), batch: readU64(r, "batch") };
      break;
    case "PING":
      out = { command, clientId: readId(r) };
      break;
    case "DELIVER":
      out = {
        command,
        batch: readU64(r, "batch"),
        ...readTasks(r),
      };
      break;
    case "MISSING": {
      const batch = readU64(r, "batch");
      const list = r.take("missing list");
      if (list.length % 4 !== 0 || list.length / 4 > MAX_MISSING_PER_MESSAGE)
        throw new ProtocolError(
          "missing list must be a multiple of 4 bytes, at most 16384 numbers",
        );
      const tasks: number[] = [];
      for (let i = 0; i < list.length; i += 4) tasks.push(list.readUInt32BE(i));
      out = { command, batch, tasks };
      break;
    }
    case "DONE":
      out = { command, batch: readU64(r, "batch"), size: readU32(r, "size") };
      break;
    case "UNKNOWN":
      out = { command, batch: readU64(r, "batch") };
      break;
  }
  r.end(command);
  return out;
}
