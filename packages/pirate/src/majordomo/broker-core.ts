import {
  ExpiryTable,
  formatIdentity,
  identityKey,
  isZgError,
  LatencyWindow,
  systemClock,
  type Clock,
  type Frame,
  type Logger,
} from "@zg/core";
import { PresenceTracker } from "@zg/heartbeat";
import type {
  MajordomoBrokerEvents,
  MajordomoBrokerStats,
  MajordomoServiceStats,
} from "./broker-types.js";
import { FairQueue } from "./fair-queue.js";
import { mmiReply } from "./mmi.js";
import {
  brokerErrorBody,
  clientReplyTo,
  decodeBrokerFrames,
  encodeWorkerSignal,
  workerRequestTo,
  MMI_PREFIX,
  type BrokerErrorStatus,
  type BrokerInbound,
  type MdpVersion,
} from "./protocol.js";

export type { MajordomoBrokerEvents, MajordomoBrokerStats, MajordomoServiceStats };

type RefuseReason = MajordomoBrokerEvents["request:refused"]["reason"];
type RemoveReason = MajordomoBrokerEvents["worker:removed"]["reason"];

/** The text of each refusal's `"503"` answer. */
const REFUSAL_TEXT: Readonly<Record<RefuseReason, string>> = {
  "shutting-down": "broker shutting down",
  "bytes-full": "broker queue full (bytes)",
  "too-many-services": "too many services",
  "queue-full": "service queue full",
  "client-queue-full": "too many requests queued for this client",
};

/** Options of the broker state machine. */
export interface BrokerCoreOptions {
  heartbeatInterval: number;
  heartbeatLiveness: number;
  requestExpiry: number;
  serviceTtl: number;
  /** Requests queued per service. */
  maxQueued: number;
  /** Requests queued per client per service. @defaultValue maxQueued */
  maxQueuedPerClient?: number;
  /** Bytes of queued request bodies across services. @defaultValue no bound */
  maxQueuedBytes?: number;
  /** Services a worker registered. */
  maxServices: number;
  /** Services only clients asked for (no worker yet). @defaultValue maxServices */
  maxPendingServices?: number;
  /** Services listed in `stats().perService`. @defaultValue no bound */
  maxServiceStats?: number;
  requeueLimit: (service: string) => number;
  /** Longest a worker may hold a request, ms; 0 = no bound. @defaultValue () => 0 */
  requestTimeout?: (service: string) => number;
  /** false: a silent worker with a request in progress is kept (the reference brokers' behaviour). */
  expireBusyWorkers?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** Writes one message to the ROUTER (identity first). Never blocks. */
  post: (message: Frame[]) => void;
  /** Reports an event. */
  emit: <K extends keyof MajordomoBrokerEvents>(type: K, event: MajordomoBrokerEvents[K]) => void;
  /**
   * Federation hook: offered each request no idle local worker can take at
   * once; `true` = a peer broker took it (the federation later calls
   * {@link BrokerCore.forwardReplied} or {@link BrokerCore.forwardFailed}).
   */
  overflow?: (request: OverflowRequest) => boolean;
  /** Federation hook: a service's idle workers went from 0 to some, or to 0. */
  capacityChanged?: (service: string) => void;
  /** Federation hook for 8/MMI: live workers of a service behind peer brokers. */
  federatedWorkers?: (service: string) => number;
  /** Federation hook for 8/MMI: services with live workers behind peer brokers. */
  federatedServices?: () => Iterable<string>;
}

/** Where a request from a federation peer came from; its replies go back through `reply`. @internal */
export interface PeerOrigin {
  /** Key the peer's requests are queued under (fair queuing across peers and clients). */
  readonly key: string;
  /** The brokers the request has passed, origin first. */
  readonly visited: readonly string[];
  /** Sends a reply (or a broker error reply) back to the peer. */
  reply(command: "PARTIAL" | "FINAL", body: Frame[]): void;
}

/** An opaque handle on a request handed to the federation. @internal */
export interface ForwardToken {
  readonly __forwardToken: never;
}

/** A request offered to the federation (see {@link BrokerCoreOptions.overflow}). @internal */
export interface OverflowRequest {
  readonly service: string;
  readonly body: readonly Frame[];
  /** Brokers it has passed already (empty for a local client's request). */
  readonly visited: readonly string[];
  readonly token: ForwardToken;
}

interface Job {
  client: Frame;
  clientKey: string;
  version: MdpVersion;
  service: Service;
  body: Frame[];
  bytes: number;
  receivedAt: number;
  dispatchedAt: number;
  attempts: number;
  /** Set for a request a federation peer forwarded to us. */
  origin?: PeerOrigin | undefined;
}

interface Worker {
  id: Frame;
  key: string;
  version: MdpVersion;
  service: Service;
  job: Job | undefined;
}

interface Service {
  name: string;
  /** False while only clients asked for it: it lives in the small pending table. */
  registered: boolean;
  queue: FairQueue<Job>;
  /** Idle workers, longest-waiting first (LRU). */
  idle: Map<string, Worker>;
  /** Live workers (idle + busy). */
  workers: number;
  /** Requests in federation peers' hands (the service is kept while there are some). */
  forwarded: number;
  served: number;
  expired: number;
  timedOut: number;
  requeued: number;
  refused: number;
  latency: LatencyWindow;
}

/** The client frame of requests from federation peers (echoed by workers; replies go to the origin). */
const FEDERATION_CLIENT = Buffer.from("zg.mdp.federation");

const bodyBytes = (body: readonly Frame[]): number => {
  let n = 0;
  for (const f of body) n += f.length;
  return n;
};

/**
 * The Majordomo broker as a state machine: messages in through {@link handle},
 * messages out through `post`, time through a {@link Clock}. No sockets, so
 * every rule is unit-tested with a `ManualClock`. `MajordomoBroker` is the
 * thin socket shell around it.
 *
 * Two service tables: services a worker registered (`maxServices`, kept
 * `serviceTtl` after they empty) and services only clients asked for
 * (`maxPendingServices`, removed as soon as their queue empties), so requests
 * for made-up names can never lock out a real worker's service.
 *
 * @internal
 */
export class BrokerCore {
  readonly #o: BrokerCoreOptions;
  readonly #clock: Clock;
  readonly #workers = new Map<string, Worker>();
  readonly #services = new Map<string, Service>();
  readonly #presence: PresenceTracker<string>;
  readonly #jobExpiry: ExpiryTable<Job>;
  readonly #busyExpiry: ExpiryTable<Worker>;
  readonly #serviceExpiry: ExpiryTable<string>;
  readonly #maxPerClient: number;
  readonly #maxBytes: number;
  readonly #maxPending: number;
  #registered = 0;
  #queued = 0;
  #queuedBytes = 0;
  #busy = 0;
  /** Requests in peer brokers' hands. */
  #forwarded = 0;
  #shuttingDown = false;
  readonly #c = {
    requests: 0,
    replies: 0,
    partials: 0,
    expired: 0,
    timedOut: 0,
    requeued: 0,
    lost: 0,
    refused: 0,
    mmi: 0,
    protocolErrors: 0,
    disconnects: 0,
    workersExpired: 0,
    sendFailures: 0,
  };

  constructor(options: BrokerCoreOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxPerClient = options.maxQueuedPerClient ?? options.maxQueued;
    this.#maxBytes = options.maxQueuedBytes ?? Number.POSITIVE_INFINITY;
    this.#maxPending = options.maxPendingServices ?? options.maxServices;
    this.#presence = new PresenceTracker<string>({
      interval: options.heartbeatInterval,
      liveness: options.heartbeatLiveness,
      clock: this.#clock,
      sendHeartbeat: (key) => {
        const w = this.#workers.get(key);
        if (w !== undefined) this.#o.post([w.id, ...encodeWorkerSignal(w.version, "HEARTBEAT")]);
      },
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
    this.#presence.on("peer:expired", ({ key }) => {
      const w = this.#workers.get(key);
      if (w === undefined) return;
      if (w.job !== undefined && this.#o.expireBusyWorkers === false) {
        // Like mdbroker: a busy worker is never purged. Track it again; it is judged when idle.
        this.#presence.seen(key);
        return;
      }
      this.#c.workersExpired++;
      this.#removeWorker(w, "expired");
    });
    this.#jobExpiry = new ExpiryTable<Job>({
      clock: this.#clock,
      onExpire: (job) => this.#expireJob(job),
    });
    this.#busyExpiry = new ExpiryTable<Worker>({
      clock: this.#clock,
      onExpire: (w) => this.#timeoutWorker(w),
    });
    this.#serviceExpiry = new ExpiryTable<string>({
      clock: this.#clock,
      onExpire: (name) => this.#expireService(name),
    });
  }

  /** Handles one message from the ROUTER (identity frame first). Never throws. */
  handle(message: Frame[]): void {
    const id = message[0];
    if (id === undefined || message.length < 2) {
      this.#invalid(id, "message without frames after the identity");
      return;
    }
    let m: BrokerInbound;
    try {
      m = decodeBrokerFrames(message, 1);
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#invalid(id, error.message);
      return;
    }
    if (m.kind === "client") this.#onClient(id, m.version, m.service, m.body, undefined);
    else this.#onWorker(id, m);
  }

  /** A send the shell could not complete because the peer is gone. */
  sendFailed(message: Frame[]): void {
    this.#c.sendFailures++;
    const id = message[0];
    if (id === undefined) return;
    const w = this.#workers.get(identityKey(id));
    // A worker we cannot reach is gone: its request (if any) is re-queued.
    if (w !== undefined) this.#removeWorker(w, "unreachable");
  }

  /**
   * Starts shutting down: every queued request is answered `"503"` with the
   * text `"broker shutting down"` (and so is every new one); requests in a
   * worker's hands are still routed back when the worker replies.
   *
   * @returns the number of requests still in workers' (or federation peers') hands.
   */
  shutdown(): number {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      for (const s of this.#services.values()) {
        for (const job of s.queue.clear()) {
          this.#unqueued(job);
          this.#c.refused++;
          s.refused++;
          this.#replyError(job, "503", "broker shutting down");
        }
      }
    }
    return this.busy;
  }

  /** Requests in workers' (or peer brokers') hands now. */
  get busy(): number {
    return this.#busy + this.#forwarded;
  }

  // -------------------------------------------------------------------------
  // federation hooks (see ./federation/)

  /** A request a federation peer forwarded to us; its replies go to `origin.reply`. */
  handlePeerRequest(service: string, body: Frame[], origin: PeerOrigin): void {
    this.#onClient(FEDERATION_CLIENT, "MDP/0.2", service, body, origin);
  }

  /** A reply from the peer broker that took `token`'s request. */
  forwardReplied(token: ForwardToken, command: "PARTIAL" | "FINAL", body: Frame[]): void {
    const job = token as unknown as Job;
    if (command === "PARTIAL") {
      if (job.version === "MDP/0.2") {
        this.#c.partials++;
        this.#deliver(job, "PARTIAL", body);
      }
      return;
    }
    this.#forwarded--;
    job.service.forwarded--;
    this.#c.replies++;
    job.service.served++;
    job.service.latency.record(this.#clock.now() - job.receivedAt);
    this.#deliver(job, "FINAL", body);
    this.#checkEmpty(job.service);
  }

  /**
   * The peer broker that took `token`'s request is gone (or did not answer
   * in time): the request is re-queued like one whose worker died (within
   * `requeueLimit`), else answered `"502"`.
   */
  forwardFailed(token: ForwardToken): void {
    const job = token as unknown as Job;
    this.#forwarded--;
    job.service.forwarded--;
    this.#requeueOrLose(job, job.service);
    this.offerCapacity(job.service.name);
    this.#checkEmpty(job.service);
  }

  /** A peer announced capacity for `service`: queued requests no local worker takes are offered to it. */
  offerCapacity(name: string): void {
    const s = this.#services.get(name);
    const overflow = this.#o.overflow;
    if (s === undefined || overflow === undefined || this.#shuttingDown) return;
    while (s.idle.size === 0 && s.queue.size > 0) {
      const job = s.queue.shift() as Job;
      this.#unqueued(job);
      if (!this.#forward(job, overflow)) {
        s.queue.unshift(job);
        this.#queued++;
        this.#queuedBytes += job.bytes;
        this.#jobExpiry.set(job, this.#o.requestExpiry);
        break;
      }
    }
    this.#checkEmpty(s);
  }

  /** Per service with live local workers: `[name, idle workers not spoken for, live workers]`. */
  *localCapacity(): IterableIterator<[string, number, number]> {
    for (const s of this.#services.values())
      if (s.workers > 0) yield [s.name, Math.max(0, s.idle.size - s.queue.size), s.workers];
  }

  #forward(job: Job, overflow: (r: OverflowRequest) => boolean): boolean {
    const taken = overflow({
      service: job.service.name,
      body: job.body,
      visited: job.origin?.visited ?? [],
      token: job as unknown as ForwardToken,
    });
    if (taken) {
      job.attempts++;
      this.#forwarded++;
      job.service.forwarded++;
    }
    return taken;
  }

  /** Clears every table and timer. */
  close(): void {
    this.#presence.close();
    this.#jobExpiry.close();
    this.#busyExpiry.close();
    this.#serviceExpiry.close();
    this.#workers.clear();
    this.#services.clear();
  }

  /** The counters; `deferred`, `dropped` are the shell's and read 0 here. */
  stats(): MajordomoBrokerStats {
    const limit = this.#o.maxServiceStats ?? Number.POSITIVE_INFINITY;
    let chosen: Service[];
    if (this.#services.size <= limit) chosen = [...this.#services.values()];
    else {
      const withWorkers: Service[] = [];
      const others: Service[] = [];
      for (const s of this.#services.values()) (s.workers > 0 ? withWorkers : others).push(s);
      withWorkers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      chosen = withWorkers.slice(0, limit);
      if (chosen.length < limit) {
        others.sort((a, b) => b.queue.size - a.queue.size);
        chosen.push(...others.slice(0, limit - chosen.length));
      }
    }
    const perService: Record<string, MajordomoServiceStats> = {};
    for (const s of chosen) {
      const l = s.latency.summary();
      perService[s.name] = {
        queued: s.queue.size,
        workers: s.workers,
        idleWorkers: s.idle.size,
        served: s.served,
        expired: s.expired,
        timedOut: s.timedOut,
        requeued: s.requeued,
        refused: s.refused,
        p50: l.p50,
        p99: l.p99,
      };
    }
    return {
      workers: this.#workers.size,
      services: this.#services.size,
      pendingServices: this.#services.size - this.#registered,
      queued: this.#queued,
      queuedBytes: this.#queuedBytes,
      ...this.#c,
      heartbeatsSent: this.#presence.stats().heartbeatsSent,
      deferred: 0,
      dropped: 0,
      servicesOmitted: this.#services.size - chosen.length,
      perService,
    };
  }

  // -------------------------------------------------------------------------
  // clients

  #onClient(
    client: Frame,
    version: MdpVersion,
    name: string,
    body: Frame[],
    origin: PeerOrigin | undefined,
  ): void {
    this.#c.requests++;
    if (name.startsWith(MMI_PREFIX)) {
      this.#c.mmi++;
      this.#c.replies++;
      const fw = this.#o.federatedWorkers;
      const reply = mmiReply(
        name,
        body,
        (n) => (this.#services.get(n)?.workers ?? 0) + (fw?.(n) ?? 0),
        () => this.#liveServices(),
      );
      if (origin !== undefined) origin.reply("FINAL", reply);
      else this.#o.post(clientReplyTo(client, version, "FINAL", name, reply));
      return;
    }
    const clientKey = origin?.key ?? identityKey(client);
    const bytes = bodyBytes(body);
    let service = this.#services.get(name);
    if (this.#shuttingDown)
      return this.#refuse(client, version, name, body, service, "shutting-down", origin);
    if (this.#queuedBytes + bytes > this.#maxBytes && (service?.idle.size ?? 0) === 0)
      return this.#refuse(client, version, name, body, service, "bytes-full", origin);
    if (service === undefined) {
      if (this.#services.size - this.#registered >= this.#maxPending)
        return this.#refuse(client, version, name, body, service, "too-many-services", origin);
      service = this.#service(name, false);
    }
    if (service.queue.size >= this.#o.maxQueued)
      return this.#refuse(client, version, name, body, service, "queue-full", origin);
    if (service.queue.countFor(clientKey) >= this.#maxPerClient)
      return this.#refuse(client, version, name, body, service, "client-queue-full", origin);
    const job: Job = {
      client,
      clientKey,
      version,
      service,
      body,
      bytes,
      receivedAt: this.#clock.now(),
      dispatchedAt: 0,
      attempts: 0,
      origin,
    };
    if (service.queue.size === 0 && service.idle.size > 0) {
      // The common case: a worker is waiting and nobody is ahead. Straight to it, no queue entry.
      this.#assign(service, job);
      return;
    }
    // Local workers first; with none idle, a federation peer with capacity.
    const overflow = this.#o.overflow;
    if (overflow !== undefined && service.idle.size === 0 && this.#forward(job, overflow)) return;
    service.queue.push(clientKey, job);
    this.#queued++;
    this.#queuedBytes += bytes;
    this.#jobExpiry.set(job, this.#o.requestExpiry);
    this.#dispatch(service);
    this.#checkEmpty(service);
  }

  /** Answers a refused request `"503"` (text by `reason`), counted and reported as `reason`. A method, not a closure made per request: this is the per-request path. */
  readonly #refuse = (
    client: Frame,
    version: MdpVersion,
    name: string,
    body: Frame[],
    service: Service | undefined,
    reason: RefuseReason,
    origin: PeerOrigin | undefined,
  ): void => {
    const text = REFUSAL_TEXT[reason];
    this.#c.refused++;
    if (service !== undefined) service.refused++;
    this.#o.emit("request:refused", { service: name, reason });
    const error = brokerErrorBody("503", text, body);
    if (origin !== undefined) origin.reply("FINAL", error);
    else this.#o.post(clientReplyTo(client, version, "FINAL", name, error));
  };

  *#liveServices(): IterableIterator<string> {
    const fs = this.#o.federatedServices;
    const seen = fs === undefined ? undefined : new Set<string>();
    for (const s of this.#services.values())
      if (s.workers > 0) {
        seen?.add(s.name);
        yield s.name;
      }
    if (fs !== undefined && seen !== undefined) for (const n of fs()) if (!seen.has(n)) yield n;
  }

  /** Sends a reply to the job's client, or back to the peer broker it came from. */
  #deliver(job: Job, command: "PARTIAL" | "FINAL", body: Frame[]): void {
    if (job.origin !== undefined) job.origin.reply(command, body);
    else this.#o.post(clientReplyTo(job.client, job.version, command, job.service.name, body));
  }

  #replyError(job: Job, status: BrokerErrorStatus, text: string): void {
    this.#deliver(job, "FINAL", brokerErrorBody(status, text, job.body));
  }

  // -------------------------------------------------------------------------
  // workers

  #onWorker(id: Frame, m: Extract<BrokerInbound, { kind: "worker" }>): void {
    const key = identityKey(id);
    const w = this.#workers.get(key);
    if (w !== undefined) {
      if (m.command !== "DISCONNECT") this.#presence.seen(key);
      if (w.version !== m.version) {
        this.#violation(id, m.version, w, `${m.version} command from a ${w.version} worker`);
        return;
      }
    }
    switch (m.command) {
      case "READY": {
        if (w !== undefined) {
          this.#violation(id, m.version, w, "second READY");
          return;
        }
        if (m.service.startsWith(MMI_PREFIX)) {
          this.#violation(id, m.version, undefined, `READY for reserved service ${m.service}`);
          return;
        }
        let service = this.#services.get(m.service);
        if (service === undefined || !service.registered) {
          if (this.#registered >= this.#o.maxServices) {
            this.#violation(id, m.version, undefined, "too many services");
            return;
          }
          if (service === undefined) service = this.#service(m.service, true);
          else {
            service.registered = true;
            this.#registered++;
          }
        }
        const worker: Worker = { id, key, version: m.version, service, job: undefined };
        this.#workers.set(key, worker);
        service.workers++;
        service.idle.set(key, worker);
        this.#presence.seen(key);
        if (service.idle.size === 1) this.#o.capacityChanged?.(service.name);
        this.#o.emit("worker:ready", {
          identity: formatIdentity(id),
          service: service.name,
          version: m.version,
        });
        this.#checkEmpty(service);
        this.#dispatch(service);
        return;
      }
      case "PARTIAL":
      case "FINAL": {
        if (w === undefined) {
          this.#violation(id, m.version, undefined, `${m.command} from an unregistered worker`);
          return;
        }
        const job = w.job;
        if (job === undefined) {
          this.#violation(id, m.version, w, `${m.command} without a request`);
          return;
        }
        if (!job.client.equals(m.client)) {
          this.#violation(id, m.version, w, `${m.command} for another client`);
          return;
        }
        const s = w.service;
        if (m.command === "PARTIAL") {
          // A 0.1 client cannot take partials: it sees only the FINAL.
          if (job.version === "MDP/0.2") {
            this.#c.partials++;
            this.#deliver(job, "PARTIAL", m.body);
          }
          return;
        }
        this.#c.replies++;
        s.served++;
        s.latency.record(this.#clock.now() - job.receivedAt);
        this.#deliver(job, "FINAL", m.body);
        this.#release(w);
        s.idle.set(key, w);
        this.#dispatch(s);
        if (s.idle.size === 1) this.#o.capacityChanged?.(s.name);
        return;
      }
      case "HEARTBEAT":
        if (w === undefined)
          this.#violation(id, m.version, undefined, "HEARTBEAT from an unknown worker");
        return;
      case "DISCONNECT":
        if (w !== undefined) this.#removeWorker(w, "disconnected");
        return;
      case "REQUEST":
        this.#violation(id, m.version, w, "REQUEST from a worker");
        return;
    }
  }

  /** Valid but unexpected: DISCONNECT, then silence (7/MDP). */
  #violation(id: Frame, version: MdpVersion, w: Worker | undefined, reason: string): void {
    this.#c.disconnects++;
    this.#o.logger?.debug("valid but unexpected command; DISCONNECT", {
      identity: formatIdentity(id),
      reason,
    });
    this.#o.emit("protocol:disconnect", { identity: formatIdentity(id), reason });
    this.#o.post([id, ...encodeWorkerSignal(w?.version ?? version, "DISCONNECT")]);
    if (w !== undefined) this.#removeWorker(w, "violation");
  }

  #invalid(id: Frame | undefined, reason: string): void {
    this.#c.protocolErrors++;
    const identity = id === undefined ? "?" : formatIdentity(id);
    this.#o.logger?.debug("invalid message dropped", { identity, reason });
    this.#o.emit("protocol:invalid", { identity, reason });
  }

  /** The worker no longer holds a request. @returns the request it held. */
  #release(w: Worker): Job | undefined {
    const job = w.job;
    if (job === undefined) return undefined;
    w.job = undefined;
    this.#busy--;
    this.#busyExpiry.delete(w);
    return job;
  }

  #removeWorker(w: Worker, reason: RemoveReason): void {
    if (this.#workers.get(w.key) !== w) return;
    this.#workers.delete(w.key);
    this.#presence.remove(w.key);
    const s = w.service;
    s.workers--;
    s.idle.delete(w.key);
    this.#o.emit("worker:removed", { identity: formatIdentity(w.id), service: s.name, reason });
    const job = this.#release(w);
    if (job !== undefined && reason !== "timeout") this.#requeueOrLose(job, s);
    this.#dispatch(s);
    this.#checkEmpty(s);
    if (s.workers === 0) this.#o.capacityChanged?.(s.name);
  }

  /** A request whose worker (or peer broker) is gone: re-queued within `requeueLimit`, else `"502"`. */
  #requeueOrLose(job: Job, s: Service): void {
    if (this.#shuttingDown) {
      this.#c.lost++;
      this.#replyError(job, "503", "broker shutting down");
    } else if (job.attempts <= this.#o.requeueLimit(s.name)) {
      this.#c.requeued++;
      s.requeued++;
      s.queue.unshift(job);
      this.#queued++;
      this.#queuedBytes += job.bytes;
      this.#jobExpiry.set(job, this.#o.requestExpiry);
      this.#o.emit("request:requeued", { service: s.name, attempts: job.attempts });
      this.#dispatch(s);
    } else {
      this.#c.lost++;
      this.#o.emit("request:lost", { service: s.name, attempts: job.attempts });
      this.#replyError(job, "502", "worker lost while handling the request");
    }
  }

  /** A worker held its request longer than `requestTimeout`: 504 to the client, DISCONNECT to the worker. */
  #timeoutWorker(w: Worker): void {
    const job = w.job;
    if (job === undefined || this.#workers.get(w.key) !== w) return;
    const s = w.service;
    const waited = this.#clock.now() - job.dispatchedAt;
    this.#c.timedOut++;
    s.timedOut++;
    this.#o.emit("request:timeout", { service: s.name, identity: formatIdentity(w.id), waited });
    this.#o.logger?.warn(
      "worker did not reply in time; request answered 504, worker disconnected",
      {
        service: s.name,
        identity: formatIdentity(w.id),
        waited,
      },
    );
    this.#replyError(
      job,
      "504",
      `worker did not reply within ${this.#o.requestTimeout?.(s.name) ?? 0} ms`,
    );
    this.#c.disconnects++;
    this.#o.post([w.id, ...encodeWorkerSignal(w.version, "DISCONNECT")]);
    this.#removeWorker(w, "timeout");
  }

  // -------------------------------------------------------------------------
  // services and dispatch

  #service(name: string, registered: boolean): Service {
    const s: Service = {
      name,
      registered,
      queue: new FairQueue<Job>(),
      idle: new Map(),
      workers: 0,
      forwarded: 0,
      served: 0,
      expired: 0,
      timedOut: 0,
      requeued: 0,
      refused: 0,
      latency: new LatencyWindow(1024),
    };
    this.#services.set(name, s);
    if (registered) this.#registered++;
    return s;
  }

  #unqueued(job: Job): void {
    this.#queued--;
    this.#queuedBytes -= job.bytes;
    this.#jobExpiry.delete(job);
  }

  #dispatch(s: Service): void {
    while (s.idle.size > 0 && s.queue.size > 0) {
      const job = s.queue.shift() as Job;
      this.#unqueued(job);
      this.#assign(s, job);
    }
  }

  /** Hands `job` to the longest-waiting idle worker of `s` (LRU); there must be one. */
  #assign(s: Service, job: Job): void {
    const first = s.idle.values().next().value as Worker;
    s.idle.delete(first.key);
    if (s.idle.size === 0) this.#o.capacityChanged?.(s.name);
    job.attempts++;
    job.dispatchedAt = this.#clock.now();
    first.job = job;
    this.#busy++;
    const timeout = this.#o.requestTimeout?.(s.name) ?? 0;
    if (timeout > 0) this.#busyExpiry.set(first, timeout);
    this.#presence.sent(first.key);
    this.#o.post(workerRequestTo(first.id, first.version, job.client, job.body));
  }

  #expireJob(job: Job): void {
    const s = job.service;
    if (!s.queue.remove(job.clientKey, job)) return; // dispatched meanwhile
    this.#queued--;
    this.#queuedBytes -= job.bytes;
    this.#c.expired++;
    s.expired++;
    const waited = this.#clock.now() - job.receivedAt;
    this.#o.emit("request:expired", { service: s.name, waited });
    this.#replyError(job, "504", `no worker took the request within ${this.#o.requestExpiry} ms`);
    this.#checkEmpty(s);
  }

  #checkEmpty(s: Service): void {
    if (this.#services.get(s.name) !== s) return;
    if (s.workers === 0 && s.queue.size === 0 && s.forwarded === 0) {
      // A service only clients asked for goes at once; a registered one after serviceTtl.
      if (!s.registered) this.#removeService(s);
      else if (!this.#serviceExpiry.has(s.name))
        this.#serviceExpiry.set(s.name, this.#o.serviceTtl);
    } else {
      this.#serviceExpiry.delete(s.name);
    }
  }

  #expireService(name: string): void {
    const s = this.#services.get(name);
    if (s === undefined || s.workers > 0 || s.queue.size > 0 || s.forwarded > 0) return;
    this.#removeService(s);
  }

  #removeService(s: Service): void {
    this.#services.delete(s.name);
    this.#serviceExpiry.delete(s.name);
    if (s.registered) this.#registered--;
    this.#o.emit("service:removed", { service: s.name });
  }
}
