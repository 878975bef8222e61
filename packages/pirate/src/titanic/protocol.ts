// 9/TSP codec: the frames of titanic.request / titanic.reply / titanic.close
// and their status codes. Pure functions, no sockets.
import type { Frame } from "@zg/core";

/** 9/TSP status: OK. */
export const TSP_OK = "200";
/** 9/TSP status: pending, retry later. */
export const TSP_PENDING = "300";
/** 9/TSP status: unknown request (or refused: too large, bad service), do not retry. */
export const TSP_UNKNOWN = "400";
/** 9/TSP status: error, retry later. */
export const TSP_ERROR = "500";

/** A 9/TSP status code. */
export type TspStatus = typeof TSP_OK | typeof TSP_PENDING | typeof TSP_UNKNOWN | typeof TSP_ERROR;

const UUID = /^[0-9a-fA-F]{32}$/;

/** A `titanic.request` body: `[service][frame]…`. */
export type TspRequest =
  { ok: true; service: string; body: Frame[]; bodyBytes: number } | { ok: false; reason: string };

/** Decodes a `titanic.request` body. */
export function decodeTspRequest(frames: readonly Frame[]): TspRequest {
  const [service, ...body] = frames;
  if (service === undefined || service.length === 0 || body.length === 0) {
    return { ok: false, reason: "request needs a service frame and at least one body frame" };
  }
  let bodyBytes = 0;
  for (const f of body) bodyBytes += f.length;
  return { ok: true, service: service.toString("utf8"), body, bodyBytes };
}

/** Decodes the UUID frame of `titanic.reply` / `titanic.close`; undefined when it is not 32 hex digits. */
export function decodeTspUuid(frames: readonly Frame[]): string | undefined {
  const uuid = frames[0]?.toString("latin1") ?? "";
  return UUID.test(uuid) ? uuid : undefined;
}

/** Encodes a reply: `[status][frame]…`. */
export function encodeTspReply(status: TspStatus, ...body: (Frame | string)[]): Frame[] {
  return [Buffer.from(status), ...body.map((f) => (typeof f === "string" ? Buffer.from(f) : f))];
}

/** Decodes a reply's status (first three characters); an unknown one reads as 500. */
export function decodeTspStatus(frames: readonly Frame[]): TspStatus {
  const s = frames[0]?.toString("latin1").slice(0, 3);
  return s === TSP_OK || s === TSP_PENDING || s === TSP_UNKNOWN ? s : TSP_ERROR;
}
