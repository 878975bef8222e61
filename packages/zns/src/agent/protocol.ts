import { toFrame, type Frame, type Message } from "@zg/core/pure";
import { isLogicalName } from "../names/names-file.js";

/**
 * First frame of every lookup body: protocol "ZNS" version 01 (protocols.md
 * §17.1). The body rides in 10/FLP (Freelance model 3): the client's control
 * frame comes before it and is echoed by the agent.
 */
export const LOOKUP_SIGNATURE = "ZNS01";

/** Where an answer came from: the live feed, the cached feed table, or the agent's local ZPL file. */
export type AnswerSource = "feed" | "cache" | "local";

/** The answer to a lookup. */
export interface Resolution {
  /** Endpoints to connect to, in priority order. */
  connect: string[];
  /** Endpoints to bind. */
  bind: string[];
  /** Where the agent found the name. */
  source: AnswerSource;
  /** True when the answer comes from feed data while the central server is not heard (or not yet). */
  stale: boolean;
  /** How long the answer may be cached, ms. */
  ttl: number;
}

/** A lookup error code: `404` unknown name, `400` bad request, `505` unknown protocol version. */
export type LookupErrorCode = "400" | "404" | "505";

/** Request body frames: `["ZNS01"]["RESOLVE"][name][env]` (env empty: the agent's default). */
export function encodeLookup(name: string, env: string): Message {
  return [toFrame(LOOKUP_SIGNATURE), toFrame("RESOLVE"), toFrame(name), toFrame(env)];
}

/** A decoded request, or an error reply to send back. Never throws. */
export function decodeLookup(
  frames: readonly Frame[],
): { name: string; env: string } | { code: LookupErrorCode; reason: string } {
  const [sig, command, name, env] = frames;
  if (sig === undefined || !sig.toString("latin1").startsWith("ZNS"))
    return { code: "400", reason: "not a ZNS lookup" };
  if (sig.toString("latin1") !== LOOKUP_SIGNATURE)
    return { code: "505", reason: `unsupported version ${sig.toString("latin1").slice(0, 16)}` };
  if (
    frames.length !== 4 ||
    command?.toString("latin1") !== "RESOLVE" ||
    name === undefined ||
    env === undefined
  )
    return { code: "400", reason: "expected [ZNS01][RESOLVE][name][env]" };
  const n = name.toString("utf8");
  const e = env.toString("utf8");
  if (!isLogicalName(n)) return { code: "400", reason: "not a valid logical name" };
  if (e !== "" && !isLogicalName(e)) return { code: "400", reason: "not a valid environment name" };
  return { name: n, env: e };
}

/** Reply body frames: `["ZNS01"]["OK"][json]` or `["ZNS01"]["ERR"][code][reason]`. */
export function encodeAnswer(
  answer: Resolution | { code: LookupErrorCode; reason: string },
): Message {
  return "code" in answer
    ? [toFrame(LOOKUP_SIGNATURE), toFrame("ERR"), toFrame(answer.code), toFrame(answer.reason)]
    : [toFrame(LOOKUP_SIGNATURE), toFrame("OK"), toFrame(JSON.stringify(answer))];
}

/** Parses a reply body, or returns why it is not one. Never throws. */
export function decodeAnswer(
  frames: readonly Frame[],
): Resolution | { code: LookupErrorCode; reason: string } | string {
  const [sig, status, a, b] = frames;
  if (sig?.toString("latin1") !== LOOKUP_SIGNATURE) return "not a ZNS01 reply";
  if (status?.toString("latin1") === "ERR" && a !== undefined && b !== undefined) {
    const code = a.toString("latin1");
    if (code !== "400" && code !== "404" && code !== "505") return "unknown error code";
    return { code, reason: b.toString("utf8") };
  }
  if (status?.toString("latin1") !== "OK" || a === undefined) return "malformed reply";
  try {
    const r = JSON.parse(a.toString("utf8")) as Resolution;
    const list = (x: unknown): boolean => Array.isArray(x) && x.every((e) => typeof e === "string");
    if (
      !list(r.connect) ||
      !list(r.bind) ||
      (r.source !== "feed" && r.source !== "cache" && r.source !== "local") ||
      typeof r.stale !== "boolean" ||
      typeof r.ttl !== "number"
    )
      return "malformed answer";
    return { connect: r.connect, bind: r.bind, source: r.source, stale: r.stale, ttl: r.ttl };
  } catch {
    return "answer is not JSON";
  }
}
