import { FrameReader, ProtocolError, type Frame, type Message } from "@zg/core/pure";
import { readU32, readU64, u32, u64 } from "./binary.js";

/** First frame of every file-transfer message (ADR 4): 6 ASCII bytes, name and version. */
export const FILE_HEADER = "ZGFT01";
const HEADER = Buffer.from(FILE_HEADER, "ascii");

/** Command bytes of the file-transfer protocol. */
export const FileCommand = {
  /** client → server: `[req u32][path]`: metadata of one file. */
  OPEN: 0x01,
  /** client → server: `[req u32][path][offset u64][length u32][size u64][mtime u64]`: one chunk of a file the client knows as (size, mtime). */
  FETCH: 0x02,
  /** server → client: `[req u32][size u64][mtime u64 (ms)][sha256 (32 bytes)]`. */
  META: 0x81,
  /** server → client: `[req u32][offset u64][data]`. */
  CHUNK: 0x82,
  /** server → client: `[req u32][status, 3 ASCII digits][reason]`. */
  ERROR: 0x8f,
} as const;

/**
 * Status codes of an ERROR reply (HTTP-like, as 9/TSP and MDP errors in zg):
 * `400` bad request, `403` path refused (escapes the root: `..`, absolute,
 * a symlink out), `404` no such file, `409` the file changed since META
 * (size or mtime differ), `429` too much requested at once, `500` read error.
 */
export type FileStatus = "400" | "403" | "404" | "409" | "429" | "500";

/** A decoded file-transfer message. */
export type FileMessage =
  | { command: "OPEN"; req: number; path: string }
  | {
      command: "FETCH";
      req: number;
      path: string;
      offset: number;
      length: number;
      size: number;
      mtime: number;
    }
  | { command: "META"; req: number; size: number; mtime: number; sha256: Frame }
  | { command: "CHUNK"; req: number; offset: number; data: Frame }
  | { command: "ERROR"; req: number; status: FileStatus; reason: string };

function readPath(r: FrameReader): string {
  const f = r.take("path");
  if (f.length === 0 || f.length > 4096) throw new ProtocolError("path must be 1..4096 bytes");
  return f.toString("utf8");
}
const STATUSES = new Set(["400", "403", "404", "409", "429", "500"]);

/** Encodes a file-transfer message. */
export function encodeFile(m: FileMessage): Message {
  const head = [HEADER, Buffer.from([FileCommand[m.command]]), u32(m.req)];
  switch (m.command) {
    case "OPEN":
      return [...head, Buffer.from(m.path, "utf8")];
    case "FETCH":
      return [
        ...head,
        Buffer.from(m.path, "utf8"),
        u64(m.offset),
        u32(m.length),
        u64(m.size),
        u64(m.mtime),
      ];
    case "META":
      return [...head, u64(m.size), u64(m.mtime), m.sha256];
    case "CHUNK":
      return [...head, u64(m.offset), m.data];
    case "ERROR":
      return [...head, Buffer.from(m.status, "ascii"), Buffer.from(m.reason, "utf8")];
  }
}

const NAMES = new Map<number, FileMessage["command"]>(
  Object.entries(FileCommand).map(([k, v]) => [v, k as FileMessage["command"]]),
);

/**
 * Decodes a file-transfer message.
 * @throws {@link ProtocolError} for a wrong header, an unknown command or a malformed body.
 */
export function decodeFile(message: readonly Frame[]): FileMessage {
  const r = new FrameReader(message);
  if (!r.take("header").equals(HEADER)) throw new ProtocolError(`not a ${FILE_HEADER} message`);
  const c = r.takeCommand();
  const command = NAMES.get(c);
  if (command === undefined) throw new ProtocolError(`unknown command 0x${c.toString(16)}`);
  const req = readU32(r, "request id");
  let out: FileMessage;
  switch (command) {
    case "OPEN":
      out = { command, req, path: readPath(r) };
      break;
    case "FETCH":
      out = {
        command,
        req,
        path: readPath(r),
        offset: readU64(r, "offset"),
        length: readU32(r, "length"),
        size: readU64(r, "size"),
        mtime: readU64(r, "mtime"),
      };
      break;
    case "META": {
      const size = readU64(r, "size");
      const mtime = readU64(r, "mtime");
      const sha256 = r.take("sha256");
      if (sha256.length !== 32) throw new ProtocolError("sha256 must be 32 bytes");
      out = { command, req, size, mtime, sha256 };
      break;
    }
    case "CHUNK":
      out = { command, req, offset: readU64(r, "offset"), data: r.take("data") };
      break;
    case "ERROR": {
      const status = r.takeString("status");
      if (!STATUSES.has(status)) throw new ProtocolError(`unknown status ${status}`);
      out = { command, req, status: status as FileStatus, reason: r.takeString("reason") };
      break;
    }
  }
  r.end(command);
  return out;
}
