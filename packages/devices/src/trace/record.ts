import { ProtocolError } from "@zg/core/pure";
import { DEFAULT_DUMP_FRAME_BYTES } from "./constants.js";

/** Direction of a traced message: frontend → backend, or backend → frontend. */
export type TraceDirection = "f2b" | "b2f";

/** One traced message. The frames are the forwarded ones, unchanged. */
export interface TraceRecord {
  /** 1, 2, 3 … in forwarding order, over both directions. */
  seq: number;
  /** Monotonic ms since the proxy started. */
  t: number;
  /** Wall clock, ms since the epoch. */
  wall: number;
  dir: TraceDirection;
  /** ROUTER mode: the frontend peer's routing id (not part of the forwarded frames). */
  peer?: Buffer;
  /** The message's frames as forwarded. */
  frames: Buffer[];
}

/**
 * One JSONL line (with its `\n`): `{"seq","t","wall","dir","peer"?,"sizes","frames"}`,
 * `wall` as ISO 8601, `peer` and each frame as lower-case hex, `t` rounded to µs.
 */
export function toJsonLine(r: TraceRecord): string {
  const o: Record<string, unknown> = {
    seq: r.seq,
    t: Math.round(r.t * 1000) / 1000,
    wall: new Date(r.wall).toISOString(),
    dir: r.dir,
  };
  if (r.peer !== undefined) o["peer"] = r.peer.toString("hex");
  o["sizes"] = r.frames.map((f) => f.length);
  o["frames"] = r.frames.map((f) => f.toString("hex"));
  return `${JSON.stringify(o)}\n`;
}

const HEX = /^(?:[0-9a-f]{2})*$/;

/**
 * Parses one JSONL capture line back into a record (for replay and diffing).
 *
 * @throws {@link ProtocolError} for a line that is not a capture record.
 */
export function parseJsonLine(line: string): TraceRecord {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new ProtocolError("capture line is not JSON");
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new ProtocolError("capture line is not a trace record");
  }
  const r = o as Record<string, unknown>;
  const frames = r["frames"];
  if (
    typeof r["seq"] !== "number" ||
    typeof r["t"] !== "number" ||
    typeof r["wall"] !== "string" ||
    (r["dir"] !== "f2b" && r["dir"] !== "b2f") ||
    !Array.isArray(frames) ||
    !frames.every((f) => typeof f === "string" && HEX.test(f)) ||
    (r["peer"] !== undefined && (typeof r["peer"] !== "string" || !HEX.test(r["peer"])))
  ) {
    throw new ProtocolError("capture line is not a trace record");
  }
  return {
    seq: r["seq"],
    t: r["t"],
    wall: Date.parse(r["wall"]),
    dir: r["dir"],
    ...(typeof r["peer"] === "string" ? { peer: Buffer.from(r["peer"], "hex") } : {}),
    frames: (frames as string[]).map((f) => Buffer.from(f, "hex")),
  };
}

function printable(b: Buffer): boolean {
  for (const c of b) if (c < 0x20 || c > 0x7e) return false;
  return true;
}

/**
 * A readable dump of one record, the Guide's `zmsg_dump` style: a header line
 * (seq, time since start, direction, peer, frame count), then one line per frame
 * with its size and its content as text when every byte is printable ASCII,
 * hex otherwise; frames longer than `maxBytes` are cut with their size stated.
 */
export function formatDump(r: TraceRecord, maxBytes = DEFAULT_DUMP_FRAME_BYTES): string {
  const head = `#${r.seq} +${r.t.toFixed(3)} ms ${r.dir === "f2b" ? "frontend → backend" : "backend → frontend"}${
    r.peer === undefined
      ? ""
      : ` peer ${printable(r.peer) && r.peer.length > 0 ? r.peer.toString("latin1") : r.peer.toString("hex")}`
  } (${r.frames.length} frame${r.frames.length === 1 ? "" : "s"})`;
  const lines = [head];
  for (const f of r.frames) {
    const shown = f.subarray(0, maxBytes);
    const body = printable(shown) ? shown.toString("latin1") : shown.toString("hex");
    const cut = f.length > maxBytes ? ` … (${f.length - maxBytes} more bytes)` : "";
    lines.push(`  [${String(f.length).padStart(3, "0")}] ${body}${cut}`);
  }
  return `${lines.join("\n")}\n`;
}
