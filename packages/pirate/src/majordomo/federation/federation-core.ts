import { ExpiryTable, isZgError, systemClock, type Clock, type Frame, type Logger } from "@zg/core";
import type { ForwardToken, OverflowRequest, PeerOrigin } from "../broker-core.js";
import type { MajordomoBrokerEvents } from "../broker-types.js";
import { brokerErrorBody } from "../protocol.js";
import {
  decodeFederation,
  encodeReply,
  encodeRequest,
  encodeState,
  PEER_NAME_PATTERN,
  type FederationMessage,
  type ServiceState,
} from "./protocol.js";
import type { FederationPeerStats, FederationStats } from "./types.js";

/** Which peering socket a message travels on: `out` connects to configured peers, `in` is bound. */
export type PeeringLink = "out" | "in";

type PeerEvents = Pick<MajordomoBrokerEvents, "peer:joined" | "peer:lost" | "peer:returned">;

/** Options of {@link FederationCore}. Durations in ms. */
export interface FederationCoreOptions {
  /** This broker's name. */
  name: string;
  /** Peers this broker connects to (and may forward requests to). */
  peers: readonly string[];
  /** Further names allowed to connect to us (downstream brokers of a router tree); `"any"` = every name. */
  accept: readonly string[] | "any";
  stateInterval: number;
  peerLiveness: number;
  forwardTimeout: number;
  maxHops: number;
  maxServices: number;
  /** This run's version-marker epoch (hex). @defaultValue random */
  epoch: string;
  clock?: Clock;
  logger?: Logger;
  /** Writes one message (routing id first) on a peering socket. Never blocks. */
  send: (link: PeeringLink, message: Frame[]) => void;
  /** The local broker's capacity: `[service, idle, workers]`. */
  local: () => Iterable<[string, number, number]>;
  /** The local broker core's side. */
  broker: {
    replied(token: ForwardToken, command: "PARTIAL" | "FINAL", body: Frame[]): void;
    failed(token: ForwardToken): void;
    capacity(service: string): void;
    submit(service: string, body: Frame[], origin: PeerOrigin): void;
  };
  emit: <K extends keyof PeerEvents>(type: K, event: PeerEvents[K]) => void;
}

interface PeerService extends ServiceState {
  /** What is left of the announced capacity after our forwards since. */
  credit: number;
}

interface Peer {
  name: string;
  configured: boolean;
  status: "unknown" | "alive" | "lost";
  /** Our connecting socket has written to it (a STATE went out): requests may go there. */
  reachable: boolean;
  epoch: string | undefined;
  sequence: number;
  services: Map<string, PeerService>;
  suspectUntil: number;
  inFlight: Set<number>;
  s: Omit<
    FederationPeerStats,
    "up" | "configured" | "services" | "idleWorkers" | "workers" | "inFlight"
  >;
}

interface Pending {
  id: number;
  peer: Peer;
  service: string;
  token: ForwardToken;
}

const peerName = (id: Frame | undefined): string => id?.toString("utf8") ?? "";

/** Peers that connected to us without being configured (`accept`), at most: a bound on the table. */
const MAX_ACCEPTED_PEERS = 1000;

/**
 * Federation of Majordomo brokers as a state machine (Guide ch. 3, "Worked
 * Example: Inter-Broker Routing", `peering1`–`peering3`): the state flow (each
 * broker announces per service its capacity, live workers and distance, with
 * an epoch + sequence version marker), the cloud flow (a request no idle local
 * worker can take goes to the nearest peer with capacity left), the reply back
 * along the same link, and the failure rules: a peer that goes silent,
 * restarts, cannot be reached or does not answer within `forwardTimeout` fails
 * its forwarded requests back to the local broker (re-queued or `"502"`); a
 * reply that comes afterwards is dropped, so no client is answered twice.
 *
 * No sockets: messages in through {@link handle}, out through `send`, time
 * from a {@link Clock}. {@link MajordomoBroker} wires it to two ROUTERs.
 *
 * @internal
 */
export class FederationCore {
  readonly #o: FederationCoreOptions;
  readonly #clock: Clock;
  readonly #peers = new Map<string, Peer>();
  readonly #pending = new Map<number, Pending>();
  readonly #forwardExpiry: ExpiryTable<number>;
  readonly #peerExpiry: ExpiryTable<Peer>;
  readonly #self: string;
  #accepted = 0;
  #nextId = 0;
  #sequence = 0;
  #timer: unknown;
  #soon: unknown;
  #lastAnnounce = Number.NEGATIVE_INFINITY;
  #closed = false;
  readonly #c = {
    forwarded: 0,
    returned: 0,
    failed: 0,
    timedOut: 0,
    lateReplies: 0,
    requestsIn: 0,
    loopsRefused: 0,
    statesSent: 0,
    stateBytesSent: 0,
    statesReceived: 0,
    staleStates: 0,
    impostors: 0,
    protocolErrors: 0,
  };

  constructor(options: FederationCoreOptions) {
    this.#o = options;
    this.#self = options.name;
    this.#clock = options.clock ?? systemClock;
    for (const name of options.peers) this.#peers.set(name, this.#peer(name, true));
    this.#forwardExpiry = new ExpiryTable<number>({
      clock: this.#clock,
      onExpire: (id) => this.#timeout(id),
    });
    this.#peerExpiry = new ExpiryTable<Peer>({
      clock: this.#clock,
      onExpire: (p) => this.#lose(p, "silent"),
    });
  }

  /** Starts the state flow (an announcement now, then every `stateInterval`). */
  start(): void {
    this.#announce();
  }

  /** Stops every timer; requests still in peers' hands are forgotten (as in a crash). */
  close(): void {
    this.#closed = true;
    this.#clock.clearTimeout(this.#timer);
    this.#clock.clearTimeout(this.#soon);
    this.#forwardExpiry.close();
    this.#peerExpiry.close();
    this.#pending.clear();
  }

  /** Requests in peers' hands now. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * The local capacity changed (a service's idle workers went to or from 0):
   * announce soon, at most every `stateInterval / 10`.
   */
  localChanged(): void {
    if (this.#closed || this.#soon !== undefined) return;
    const gap = this.#o.stateInterval / 10;
    const wait = Math.max(0, this.#lastAnnounce + gap - this.#clock.now());
    this.#soon = this.#clock.setTimeout(() => {
      this.#soon = undefined;
      this.#announce();
    }, wait);
  }

  // -------------------------------------------------------------------------
  // inbound

  /** Handles one message from a peering socket (routing id first). Never throws. */
  handle(link: PeeringLink, message: Frame[]): void {
    const name = peerName(message[0]);
    let peer = this.#peers.get(name);
    if (
      peer === undefined &&
      link === "in" &&
      this.#accepts(name) &&
      PEER_NAME_PATTERN.test(name) &&
      this.#accepted < MAX_ACCEPTED_PEERS
    ) {
      peer = this.#peer(name, false);
      this.#peers.set(name, peer);
      this.#accepted++;
    }
    if (peer === undefined || (link === "out" && !peer.configured) || name === this.#self) {
      this.#c.impostors++;
      this.#o.logger?.debug("peering message from a non-peer ignored", { peer: name, link });
      return;
    }
    let m: FederationMessage;
    try {
      m = decodeFederation(message.slice(1), this.#o.maxServices);
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#c.protocolErrors++;
      this.#o.logger?.debug("invalid peering message dropped", {
        peer: name,
        reason: error.message,
      });
      return;
    }
    if (m.kind === "STATE") this.#onState(peer, m);
    else if (m.kind === "REQUEST" && link === "in") this.#onRequest(peer, m);
    else if (m.kind === "REPLY" && link === "out") this.#onReply(peer, m);
    else {
      this.#c.protocolErrors++;
      this.#o.logger?.debug("peering command on the wrong link dropped", {
        peer: name,
        command: m.kind,
        link,
      });
    }
  }

  /**
   * A send the shell could not complete: a request not sent fails over at
   * once; a STATE that finds no connection (`unreachable`) loses the peer.
   */
  sendFailed(link: PeeringLink, message: Frame[], outcome: "unreachable" | "other"): void {
    if (link !== "out") return;
    const command = message[2]?.toString("latin1");
    if (command === "REQUEST") {
      const p = this.#pendingFor(message[3]?.toString("latin1") ?? "");
      if (p !== undefined) this.#fail(p);
    } else if (command === "STATE") {
      const peer = this.#peers.get(peerName(message[0]));
      if (peer === undefined || !peer.reachable || outcome !== "unreachable") return;
      // The connection to the peer is gone (e.g. its process died): fail over now.
      peer.reachable = false;
      this.#lose(peer, "unreachable");
    }
  }

  /** The shell wrote a message: a STATE written to a peer proves our link to it works. */
  delivered(link: PeeringLink, message: Frame[]): void {
    if (link !== "out" || message[2]?.toString("latin1") !== "STATE") return;
    const peer = this.#peers.get(peerName(message[0]));
    if (peer === undefined || peer.reachable) return;
    peer.reachable = true;
    if (peer.status === "alive")
      for (const [name, s] of peer.services) if (s.credit > 0) this.#o.broker.capacity(name);
  }

  #accepts(name: string): boolean {
    const a = this.#o.accept;
    return a === "any" ? name !== this.#self : a.includes(name);
  }

  #onState(peer: Peer, m: Extract<FederationMessage, { kind: "STATE" }>): void {
    if (peer.epoch === m.epoch && m.sequence <= peer.sequence) {
      this.#c.staleStates++;
      return;
    }
    this.#c.statesReceived++;
    if (peer.epoch !== undefined && peer.epoch !== m.epoch && peer.status === "alive")
      this.#lose(peer, "restarted");
    const was = peer.status;
    peer.epoch = m.epoch;
    peer.sequence = m.sequence;
    let opened = false;
    for (const [name, s] of m.services)
      if (s.capacity > 0 && (peer.services.get(name)?.credit ?? 0) <= 0) opened = true;
    peer.services.clear();
    for (const [name, s] of m.services) peer.services.set(name, { ...s, credit: s.capacity });
    // Capacity we pass on (transit) appeared: tell our other peers soon.
    if (opened && peer.configured && this.#o.maxHops > 1) this.localChanged();
    peer.status = "alive";
    this.#peerExpiry.set(peer, this.#o.stateInterval * this.#o.peerLiveness);
    if (was !== "alive") {
      peer.s.joins++;
      const event = was === "unknown" ? "peer:joined" : "peer:returned";
      this.#o.logger?.info(
        was === "unknown" ? "federation peer joined" : "federation peer returned",
        {
          peer: peer.name,
          epoch: m.epoch,
          services: m.services.size,
        },
      );
      this.#o.emit(event, { peer: peer.name, epoch: m.epoch });
      // A peer that connected to us learns our state at once.
      if (!peer.configured) this.#sendState(peer, "in");
    }
    if (peer.configured && peer.reachable)
      for (const [name, s] of peer.services) if (s.credit > 0) this.#o.broker.capacity(name);
  }

  #onRequest(peer: Peer, m: Extract<FederationMessage, { kind: "REQUEST" }>): void {
    peer.s.requestsIn++;
    this.#c.requestsIn++;
    const { id, visited } = m;
    const reply = (command: "PARTIAL" | "FINAL", body: Frame[]): void => {
      this.#o.send("in", [Buffer.from(peer.name), ...encodeReply(id, command, body)]);
    };
    if (
      visited[visited.length - 1] !== peer.name ||
      visited.includes(this.#self) ||
      visited.length > this.#o.maxHops
    ) {
      // A request must never enter a broker twice: answered, never passed on.
      this.#c.loopsRefused++;
      reply("FINAL", brokerErrorBody("503", "federation loop or hop limit", m.body));
      return;
    }
    this.#o.broker.submit(m.service, m.body, { key: `peer:${peer.name}`, visited, reply });
  }

  #onReply(peer: Peer, m: Extract<FederationMessage, { kind: "REPLY" }>): void {
    const p = this.#pendingFor(m.id);
    if (p === undefined || p.peer !== peer) {
      peer.s.lateReplies++;
      this.#c.lateReplies++;
      return;
    }
    if (m.command === "PARTIAL") {
      this.#forwardExpiry.set(p.id, this.#o.forwardTimeout);
      this.#o.broker.replied(p.token, m.command, m.body);
      return;
    }
    this.#settle(p);
    peer.s.returned++;
    this.#c.returned++;
    // The reply returns the capacity the request used (credit-based flow, Guide ch. 7),
    // so overflow runs as a window between announcements.
    const s = peer.services.get(p.service);
    if (s !== undefined && s.credit++ === 0 && this.#o.maxHops > 1) this.localChanged(); // transit capacity is back
    this.#o.broker.replied(p.token, m.command, m.body);
    if (s !== undefined) this.#o.broker.capacity(p.service);
  }

  // -------------------------------------------------------------------------
  // routing

  /**
   * The routing decision for a request no idle local worker can take: the
   * nearest alive peer with capacity left that the request has not passed
   * (ties: most capacity left), within `maxHops`.
   *
   * @returns true when the request was sent to a peer.
   */
  overflow(r: OverflowRequest): boolean {
    if (this.#closed || r.visited.length + 1 > this.#o.maxHops) return false;
    const now = this.#clock.now();
    let best: Peer | undefined;
    let bestService: PeerService | undefined;
    for (const p of this.#peers.values()) {
      if (!p.configured || !p.reachable || p.status !== "alive" || p.suspectUntil > now) continue;
      if (r.visited.includes(p.name)) continue;
      const s = p.services.get(r.service);
      if (s === undefined || s.credit <= 0) continue;
      if (r.visited.length + 1 + s.hops > this.#o.maxHops) continue;
      if (
        bestService === undefined ||
        s.hops < bestService.hops ||
        (s.hops === bestService.hops && s.credit > bestService.credit)
      ) {
        best = p;
        bestService = s;
      }
    }
    if (best === undefined || bestService === undefined) return false;
    bestService.credit--;
    const id = ++this.#nextId;
    const p: Pending = { id, peer: best, service: r.service, token: r.token };
    this.#pending.set(id, p);
    best.inFlight.add(id);
    best.s.forwarded++;
    this.#c.forwarded++;
    this.#forwardExpiry.set(id, this.#o.forwardTimeout);
    this.#o.send("out", [
      Buffer.from(best.name),
      ...encodeRequest(`${this.#o.epoch}.${id}`, [...r.visited, this.#self], r.service, r.body),
    ]);
    return true;
  }

  /** Live workers for `service` behind alive peers (8/MMI for the federation). */
  workers(service: string): number {
    let n = 0;
    for (const p of this.#peers.values())
      if (p.status === "alive" && p.configured) n += p.services.get(service)?.workers ?? 0;
    return n;
  }

  /** Services with live workers behind alive peers. */
  *services(): IterableIterator<string> {
    const seen = new Set<string>();
    for (const p of this.#peers.values()) {
      if (p.status !== "alive" || !p.configured) continue;
      for (const [name, s] of p.services)
        if (s.workers > 0 && !seen.has(name)) {
          seen.add(name);
          yield name;
        }
    }
  }

  /** The pending request of a `<epoch>.<n>` id: none for another run's id. */
  #pendingFor(id: string): Pending | undefined {
    const dot = id.indexOf(".");
    if (id.slice(0, dot) !== this.#o.epoch) return undefined;
    return this.#pending.get(Number(id.slice(dot + 1)));
  }

  #settle(p: Pending): void {
    this.#pending.delete(p.id);
    p.peer.inFlight.delete(p.id);
    this.#forwardExpiry.delete(p.id);
  }

  #fail(p: Pending): void {
    this.#settle(p);
    p.peer.s.failed++;
    this.#c.failed++;
    this.#o.broker.failed(p.token);
  }

  #timeout(id: number): void {
    const p = this.#pending.get(id);
    if (p === undefined) return;
    p.peer.s.timedOut++;
    this.#c.timedOut++;
    // Capacity is a promise: a peer that does not keep it gets no overflow for a while.
    p.peer.suspectUntil = this.#clock.now() + this.#o.forwardTimeout;
    this.#o.logger?.warn("federation peer did not answer a forwarded request in time", {
      peer: p.peer.name,
      forwardTimeout: this.#o.forwardTimeout,
    });
    this.#fail(p);
  }

  #lose(peer: Peer, reason: "silent" | "restarted" | "unreachable"): void {
    if (peer.status !== "alive") return;
    peer.status = "lost";
    peer.s.losses++;
    peer.services.clear();
    this.#peerExpiry.delete(peer);
    const pending = [...peer.inFlight].map((id) => this.#pending.get(id) as Pending);
    this.#o.logger?.warn("federation peer lost", {
      peer: peer.name,
      reason,
      failed: pending.length,
    });
    this.#o.emit("peer:lost", { peer: peer.name, reason, failed: pending.length });
    for (const p of pending) this.#fail(p);
  }

  // -------------------------------------------------------------------------
  // state flow

  #announce(): void {
    if (this.#closed) return;
    this.#clock.clearTimeout(this.#timer);
    this.#clock.clearTimeout(this.#soon);
    this.#soon = undefined;
    this.#lastAnnounce = this.#clock.now();
    for (const p of this.#peers.values()) {
      if (p.configured) this.#sendState(p, "out");
      else if (p.status === "alive") this.#sendState(p, "in");
    }
    this.#timer = this.#clock.setTimeout(() => this.#announce(), this.#o.stateInterval);
  }

  /** Our state as `to` should see it: local workers plus what our other peers offer (split horizon). */
  #stateFor(to: Peer): Map<string, ServiceState> {
    const out = new Map<string, ServiceState>();
    let n = 0;
    for (const [name, idle, workers] of this.#o.local()) {
      if (n++ >= this.#o.maxServices) break;
      out.set(name, { capacity: idle, workers, hops: 0 });
    }
    for (const p of this.#peers.values()) {
      if (p === to || !p.configured || p.status !== "alive") continue;
      for (const [name, s] of p.services) {
        if (s.hops + 1 >= this.#o.maxHops) continue;
        const mine = out.get(name);
        if (mine === undefined) {
          if (out.size >= this.#o.maxServices) continue;
          out.set(name, { capacity: Math.max(0, s.credit), workers: s.workers, hops: s.hops + 1 });
        } else {
          mine.capacity += Math.max(0, s.credit);
          mine.workers += s.workers;
          mine.hops = Math.min(mine.hops, s.hops + 1);
        }
      }
    }
    return out;
  }

  #sendState(p: Peer, link: PeeringLink): void {
    const frames = [
      Buffer.from(p.name),
      ...encodeState(this.#o.epoch, ++this.#sequence, this.#stateFor(p)),
    ];
    this.#c.statesSent++;
    for (const f of frames) this.#c.stateBytesSent += f.length;
    this.#o.send(link, frames);
  }

  // -------------------------------------------------------------------------
  // stats

  #peer(name: string, configured: boolean): Peer {
    return {
      name,
      configured,
      status: "unknown",
      reachable: false,
      epoch: undefined,
      sequence: -1,
      services: new Map(),
      suspectUntil: 0,
      inFlight: new Set(),
      s: {
        forwarded: 0,
        returned: 0,
        failed: 0,
        timedOut: 0,
        lateReplies: 0,
        requestsIn: 0,
        joins: 0,
        losses: 0,
      },
    };
  }

  /** The federation figures (`endpoints` is the shell's and left empty here). */
  stats(): FederationStats {
    const perPeer: Record<string, FederationPeerStats> = {};
    let alive = 0;
    for (const p of this.#peers.values()) {
      if (p.status === "alive") alive++;
      let idle = 0;
      let workers = 0;
      for (const s of p.services.values()) {
        idle += Math.max(0, s.credit);
        workers += s.workers;
      }
      perPeer[p.name] = {
        up: p.status === "alive" ? 1 : 0,
        configured: p.configured,
        services: p.services.size,
        idleWorkers: idle,
        workers,
        inFlight: p.inFlight.size,
        ...p.s,
      };
    }
    return { name: this.#self, endpoints: [], peers: alive, ...this.#c, perPeer };
  }
}
