import { ProtocolError, type Frame } from "@zg/core";

/**
 * The zg Majordomo federation wire (`MDPF01`, a project-defined protocol after
 * the Guide's ch. 3 "Worked Example: Inter-Broker Routing"): pure functions
 * from frames to typed messages and back. The frames follow the ROUTER
 * routing id (the peer's broker name).
 *
 * - `STATE`: `["MDPF01", "STATE", epoch, sequence, (service, "capacity workers hops")*]`
 *   — the Guide's state flow with a version marker: `epoch` names one run of
 *   the sending broker, `sequence` grows by one per announcement, so a
 *   receiver ignores stale or replayed state and sees a restart as a new epoch.
 * - `REQUEST`: `["MDPF01", "REQUEST", id, visited, service, body…]` — the
 *   Guide's cloud flow; `visited` lists the brokers the request has passed
 *   (comma-separated, origin first), so no request ever enters a broker twice.
 * - `REPLY`: `["MDPF01", "REPLY", id, "PARTIAL" | "FINAL", body…]`, back along
 *   the same link ("send to, send from").
 */

/** Header frame of every federation message, `"MDPF01"`. */
export const MDPF01 = "MDPF01";
const HEADER = Buffer.from(MDPF01);

/** A broker name: what peers use as its ROUTER routing id. */
export const PEER_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** One service entry of a STATE message. */
export interface ServiceState {
  /** Requests the sender will take now (idle workers, its own and reachable through its peers). */
  capacity: number;
  /** Live workers behind the sender (for 8/MMI across the federation). */
  workers: number;
  /** Broker-to-broker links between the sender and the nearest worker (0 = its own). */
  hops: number;
}

/** A decoded federation message. */
export type FederationMessage =
  | {
      kind: "STATE";
      epoch: string;
      sequence: number;
      services: Map<string, ServiceState>;
    }
  | { kind: "REQUEST"; id: string; visited: string[]; service: string; body: Frame[] }
  | { kind: "REPLY"; id: string; command: "PARTIAL" | "FINAL"; body: Frame[] };

/**
 * A request id: `<epoch>.<n>`, the sender's run and a number it never
 * reuses in that run, so a reply meant for a previous run of the sender (it
 * restarted under the same name) is never taken for a new request's.
 */
export const REQUEST_ID_PATTERN = /^[0-9a-f]{1,32}\.\d{1,16}$/;

function requestId(frame: Frame | undefined, what: string): string {
  const s = frame?.toString("latin1") ?? "";
  if (!REQUEST_ID_PATTERN.test(s)) throw new ProtocolError(`bad ${what} id`);
  return s;
}

const MAX_COUNT = 1_000_000_000;

function count(frame: Frame | undefined, what: string, max = MAX_COUNT): number {
  const s = frame?.toString("latin1") ?? "";
  if (!/^\d{1,16}$/.test(s)) throw new ProtocolError(`${what} is not a decimal number`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n > max) throw new ProtocolError(`${what} out of range`);
  return n;
}

/**
 * Decodes the frames after the routing id.
 *
 * @param maxServices most service entries a STATE may carry.
 * @throws ProtocolError (`ZG_PROTOCOL`) on anything malformed.
 */
export function decodeFederation(frames: readonly Frame[], maxServices: number): FederationMessage {
  const [header, command] = frames;
  if (header === undefined || !header.equals(HEADER))
    throw new ProtocolError("not an MDPF01 message");
  switch (command?.toString("latin1")) {
    case "STATE": {
      const epoch = frames[2]?.toString("latin1") ?? "";
      if (!/^[0-9a-f]{1,32}$/.test(epoch)) throw new ProtocolError("bad STATE epoch");
      const sequence = count(frames[3], "STATE sequence", Number.MAX_SAFE_INTEGER);
      const rest = frames.length - 4;
      if (rest % 2 !== 0) throw new ProtocolError("STATE with an odd number of service frames");
      if (rest / 2 > maxServices) throw new ProtocolError("STATE with too many services");
      const services = new Map<string, ServiceState>();
      for (let i = 4; i < frames.length; i += 2) {
        const name = (frames[i] as Frame).toString("utf8");
        if (name.length === 0 || name.length > 255) throw new ProtocolError("bad STATE service");
        const m = /^(\d{1,9}) (\d{1,9}) (\d{1,2})$/.exec(
          (frames[i + 1] as Frame).toString("latin1"),
        );
        if (m === null) throw new ProtocolError("bad STATE service entry");
        const [, capacity, workers, hops] = m;
        if (services.has(name)) throw new ProtocolError("STATE names a service twice");
        services.set(name, {
          capacity: Number(capacity),
          workers: Number(workers),
          hops: Number(hops),
        });
      }
      return { kind: "STATE", epoch, sequence, services };
    }
    case "REQUEST": {
      const id = requestId(frames[2], "REQUEST");
      const v = frames[3]?.toString("latin1") ?? "";
      const visited = v.split(",");
      if (v.length === 0 || !visited.every((n) => PEER_NAME_PATTERN.test(n)))
        throw new ProtocolError("bad REQUEST visited list");
      const service = frames[4]?.toString("utf8") ?? "";
      if (service.length === 0 || service.length > 255)
        throw new ProtocolError("bad REQUEST service");
      const body = frames.slice(5);
      if (body.length === 0) throw new ProtocolError("REQUEST without a body");
      return { kind: "REQUEST", id, visited, service, body };
    }
    case "REPLY": {
      const id = requestId(frames[2], "REPLY");
      const c = frames[3]?.toString("latin1");
      if (c !== "PARTIAL" && c !== "FINAL") throw new ProtocolError("bad REPLY command");
      return { kind: "REPLY", id, command: c, body: frames.slice(4) };
    }
    default:
      throw new ProtocolError("unknown MDPF01 command");
  }
}

/** Encodes a STATE message (without the routing id). */
export function encodeState(
  epoch: string,
  sequence: number,
  services: Iterable<[string, ServiceState]>,
): Frame[] {
  const out: Frame[] = [
    HEADER,
    Buffer.from("STATE"),
    Buffer.from(epoch),
    Buffer.from(String(sequence)),
  ];
  for (const [name, s] of services)
    out.push(Buffer.from(name), Buffer.from(`${s.capacity} ${s.workers} ${s.hops}`));
  return out;
}

/** Encodes a REQUEST message (without the routing id). */
export function encodeRequest(
  id: string,
  visited: readonly string[],
  service: string,
  body: readonly Frame[],
): Frame[] {
  return [
    HEADER,
    Buffer.from("REQUEST"),
    Buffer.from(id),
    Buffer.from(visited.join(",")),
    Buffer.from(service),
    ...body,
  ];
}

/** Encodes a REPLY message (without the routing id). */
export function encodeReply(
  id: string,
  command: "PARTIAL" | "FINAL",
  body: readonly Frame[],
): Frame[] {
  return [HEADER, Buffer.from("REPLY"), Buffer.from(id), Buffer.from(command), ...body];
}
