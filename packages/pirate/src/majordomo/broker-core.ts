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
import {
  brokerErrorBody,
  decodeBrokerInbound,
  encodeClientReply,
  encodeWorkerRequest,
  encodeWorkerSignal,
  MMI_PREFIX,
  type BrokerErrorStatus,
  type BrokerInbound,
  type MdpVersion,
} from "./protocol.js";

/** Per-service figures of {@link MajordomoBrokerStats}. Latencies in ms. */
export interface MajordomoServiceStats {
  /** Requests waiting for a worker. */
  queued: number;
  /** Registered live workers (idle + busy). */
  workers: number;
  /** Workers waiting for a request. */
  idleWorkers: number;
  /** Replies delivered to clients. */
  served: number;
  /** Requests answered `"504"` after waiting longer than `requestExpiry`. */
  expired: number;
  /** Requests re-queued after their worker died. */
  requeued: number;
  /** Requests refused with `"503"` because the queue was full. */
  refused: number;
  /** Request → reply latency (broker receipt to reply forwarded), median of the last 1024. */
  p50: number;
  /** Same, 99th percentile. */
  p99: number;
}

/** Counters of a Majordomo broker. */
export interface MajordomoBrokerStats {
  /** Live workers across services. */
  workers: number;
  /** Known services (including empty ones not yet removed). */
  services: number;
  /** Requests waiting across services. */
  queued: number;
  /** Client requests accepted (MMI included). */
  requests: number;
  /** Replies forwarded to clients (FINAL; MMI included). */
  replies: number;
  /** PARTIAL replies forwarded (18/MDP). */
  partials: number;
  /** Requests expired (`"504"`). */
  expired: number;
  /** Requests re-queued after a worker died. */
  requeued: number;
  /** Requests whose worker died and that were answered `"502"` instead of re-queued. */
  lost: number;
  /** Requests refused (`"503"`: queue or service table full). */
  refused: number;
  /** MMI requests answered. */
  mmi: number;
  /** Invalid messages (bad input) counted and dropped; each is also a `protocol:invalid` event. */
  protocolErrors: number;
  /** DISCONNECTs sent for valid but unexpected commands. */
  disconnects: number;
  /** Workers expired by heartbeat silence. */
  workersExpired: number;
  /** HEARTBEATs sent to idle workers. */
  heartbeatsSent: number;
  /** Sends that failed (peer gone, HWM full, queue full). */
  sendFailures: number;
  /** Per service. */
  perService: Record<string, MajordomoServiceStats>;
}

/** Events of a Majordomo broker (see docs/events.md for the vocabulary). */
export interface MajordomoBrokerEvents {
  "worker:ready": { identity: string; service: string; version: MdpVersion };
  "worker:removed": {
    identity: string;
    service: string;
    reason: "expired" | "disconnected" | "unreachable" | "violation";
  };
  "request:expired": { service: string; waited: number };
  "request:requeued": { service: string; attempts: number };
  "request:lost": { service: string; attempts: number };
  "request:refused": { service: string; reason: "queue-full" | "too-many-services" };
  "service:removed": { service: string };
  /** A valid but unexpected command was answered with DISCONNECT. */
  "protocol:disconnect": { identity: string; reason: string };
  /** An invalid message was dropped. */
  "protocol:invalid": { identity: string; reason: string };
}

/** Options of the broker state machine. */
export interface BrokerCoreOptions {
  heartbeatInterval: number;
  heartbeatLiveness: number;
  requestExpiry: number;
  serviceTtl: number;
  maxQueued: number;
  maxServices: number;
  requeueLimit: (service: string) => number;
  /** false: a silent worker with a request in progress is kept (the reference brokers' behaviour). */
  expireBusyWorkers?: boolean;
  clock?: Clock;
  logger?: Logger;
  /** Writes one message to the ROUTER (identity first). Never blocks. */
  post: (message: Frame[]) => void;
  /** Reports an event. */
  emit: <K extends keyof MajordomoBrokerEvents>(type: K, event: MajordomoBrokerEvents[K]) => void;
}

interface Job {
  client: Frame;
  version: MdpVersion;
  service: Service;
  body: Frame[];
  receivedAt: number;
  attempts: number;
  /** Position in `service.requests`, or -1 when in `service.retry` or dispatched. */
  seq: number;
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
  requests: Map<number, Job>;
  retry: Job[];
  idle: Map<string, Worker>;
  workers: Set<string>;
  served: number;
  expired: number;
  requeued: number;
  refused: number;
  latency: LatencyWindow;
}

/**
 * The Majordomo broker as a state machine: messages in through {@link handle},
 * messages out through `post`, time through a {@link Clock}. No sockets, so
 * every rule is unit-tested with a `ManualClock`. `MajordomoBroker` is the
 * thin socket shell around it.
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
  readonly #serviceExpiry: ExpiryTable<string>;
  #seq = 0;
  readonly #c = {
    requests: 0,
    replies: 0,
    partials: 0,
    expired: 0,
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
      m = decodeBrokerInbound(message.slice(1));
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#invalid(id, error.message);
      return;
    }
    if (m.kind === "client") this.#onClient(id, m.version, m.service, m.body);
    else this.#onWorker(id, m);
  }

  /** A send the shell could not complete (peer gone, HWM full, queue full). */
  sendFailed(message: Frame[]): void {
    this.#c.sendFailures++;
    const id = message[0];
    if (id === undefined) return;
    const w = this.#workers.get(identityKey(id));
    // A worker we cannot reach is gone: its request (if any) is re-queued.
    if (w !== undefined) this.#removeWorker(w, "unreachable");
  }

  /** Clears every table and timer. */
  close(): void {
    this.#presence.close();
    this.#jobExpiry.close();
    this.#serviceExpiry.close();
    this.#workers.clear();
    this.#services.clear();
  }

  stats(): MajordomoBrokerStats {
    const perService: Record<string, MajordomoServiceStats> = {};
    let queued = 0;
    for (const s of this.#services.values()) {
      const q = s.requests.size + s.retry.length;
      queued += q;
      const l = s.latency.summary();
      perService[s.name] = {
        queued: q,
        workers: s.workers.size,
        idleWorkers: s.idle.size,
        served: s.served,
        expired: s.expired,
        requeued: s.requeued,
        refused: s.refused,
        p50: l.p50,
        p99: l.p99,
      };
    }
    return {
      workers: this.#workers.size,
      services: this.#services.size,
      queued,
      ...this.#c,
      heartbeatsSent: this.#presence.stats().heartbeatsSent,
      perService,
    };
  }

  // -------------------------------------------------------------------------
  // clients

  #onClient(client: Frame, version: MdpVersion, name: string, body: Frame[]): void {
    this.#c.requests++;
    if (name.startsWith(MMI_PREFIX)) {
      this.#mmi(client, version, name, body);
      return;
    }
    let service = this.#services.get(name);
    if (service === undefined) {
      if (this.#services.size >= this.#o.maxServices) {
        this.#refuse(client, version, name, undefined, "too-many-services", body);
        return;
      }
      service = this.#service(name);
    }
    if (service.requests.size + service.retry.length >= this.#o.maxQueued) {
      this.#refuse(client, version, name, service, "queue-full", body);
      return;
    }
    const job: Job = {
      client,
      version,
      service,
      body,
      receivedAt: this.#clock.now(),
      attempts: 0,
      seq: ++this.#seq,
    };
    service.requests.set(job.seq, job);
    this.#jobExpiry.set(job, this.#o.requestExpiry);
    this.#dispatch(service);
    this.#checkEmpty(service);
  }

  #refuse(
    client: Frame,
    version: MdpVersion,
    name: string,
    service: Service | undefined,
    reason: "queue-full" | "too-many-services",
    body: Frame[],
  ): void {
    this.#c.refused++;
    if (service !== undefined) service.refused++;
    this.#o.emit("request:refused", { service: name, reason });
    this.#replyError(
      client,
      version,
      name,
      "503",
      reason === "queue-full" ? "service queue full" : "too many services",
      body,
    );
  }

  #replyError(
    client: Frame,
    version: MdpVersion,
    name: string,
    status: BrokerErrorStatus,
    text: string,
    request: readonly Frame[],
  ): void {
    this.#o.post([
      client,
      ...encodeClientReply(version, "FINAL", name, brokerErrorBody(status, text, request)),
    ]);
  }

  #mmi(client: Frame, version: MdpVersion, name: string, body: Frame[]): void {
    this.#c.mmi++;
    this.#c.replies++;
    let reply: Frame[];
    if (name === "mmi.service") {
      const target = body[body.length - 1]?.toString("utf8") ?? "";
      const live = (this.#services.get(target)?.workers.size ?? 0) > 0;
      reply = [Buffer.from(live ? "200" : "404")];
    } else if (name === "mmi.services") {
      const names = [...this.#services.values()]
        .filter((s) => s.workers.size > 0)
        .map((s) => s.name)
        .sort();
      reply = [Buffer.from("200"), ...names.map((n) => Buffer.from(n))];
    } else {
      reply = [Buffer.from("501")];
    }
    this.#o.post([client, ...encodeClientReply(version, "FINAL", name, reply)]);
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
        if (service === undefined) {
          if (this.#services.size >= this.#o.maxServices) {
            this.#violation(id, m.version, undefined, "too many services");
            return;
          }
          service = this.#service(m.service);
        }
        const worker: Worker = { id, key, version: m.version, service, job: undefined };
        this.#workers.set(key, worker);
        service.workers.add(key);
        service.idle.set(key, worker);
        this.#presence.seen(key);
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
            this.#o.post([
              job.client,
              ...encodeClientReply(job.version, "PARTIAL", s.name, m.body),
            ]);
          }
          return;
        }
        this.#c.replies++;
        s.served++;
        s.latency.record(this.#clock.now() - job.receivedAt);
        this.#o.post([job.client, ...encodeClientReply(job.version, "FINAL", s.name, m.body)]);
        w.job = undefined;
        s.idle.set(key, w);
        this.#dispatch(s);
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

  #removeWorker(w: Worker, reason: "expired" | "disconnected" | "unreachable" | "violation"): void {
    if (this.#workers.get(w.key) !== w) return;
    this.#workers.delete(w.key);
    this.#presence.remove(w.key);
    const s = w.service;
    s.workers.delete(w.key);
    s.idle.delete(w.key);
    this.#o.emit("worker:removed", { identity: formatIdentity(w.id), service: s.name, reason });
    const job = w.job;
    w.job = undefined;
    if (job !== undefined) {
      if (job.attempts <= this.#o.requeueLimit(s.name)) {
        this.#c.requeued++;
        s.requeued++;
        s.retry.push(job);
        this.#jobExpiry.set(job, this.#o.requestExpiry);
        this.#o.emit("request:requeued", { service: s.name, attempts: job.attempts });
      } else {
        this.#c.lost++;
        this.#o.emit("request:lost", { service: s.name, attempts: job.attempts });
        this.#replyError(
          job.client,
          job.version,
          s.name,
          "502",
          "worker lost while handling the request",
          job.body,
        );
      }
    }
    this.#dispatch(s);
    this.#checkEmpty(s);
  }

  // -------------------------------------------------------------------------
  // services and dispatch

  #service(name: string): Service {
    const s: Service = {
      name,
      requests: new Map(),
      retry: [],
      idle: new Map(),
      workers: new Set(),
      served: 0,
      expired: 0,
      requeued: 0,
      refused: 0,
      latency: new LatencyWindow(1024),
    };
    this.#services.set(name, s);
    return s;
  }

  #dispatch(s: Service): void {
    while (s.idle.size > 0) {
      let job = s.retry.shift();
      if (job === undefined) {
        const first = s.requests.values().next();
        if (first.done) return;
        job = first.value;
        s.requests.delete(job.seq);
      }
      const first = s.idle.values().next().value as Worker; // longest-waiting worker (LRU)
      s.idle.delete(first.key);
      this.#jobExpiry.delete(job);
      job.attempts++;
      first.job = job;
      this.#presence.sent(first.key);
      this.#o.post([first.id, ...encodeWorkerRequest(first.version, job.client, job.body)]);
    }
  }

  #expireJob(job: Job): void {
    const s = job.service;
    if (s.requests.get(job.seq) === job) s.requests.delete(job.seq);
    else {
      const i = s.retry.indexOf(job);
      if (i < 0) return; // dispatched meanwhile
      s.retry.splice(i, 1);
    }
    this.#c.expired++;
    s.expired++;
    const waited = this.#clock.now() - job.receivedAt;
    this.#o.emit("request:expired", { service: s.name, waited });
    this.#replyError(
      job.client,
      job.version,
      s.name,
      "504",
      `no worker took the request within ${this.#o.requestExpiry} ms`,
      job.body,
    );
    this.#checkEmpty(s);
  }

  #checkEmpty(s: Service): void {
    if (this.#services.get(s.name) !== s) return;
    if (s.workers.size === 0 && s.requests.size === 0 && s.retry.length === 0) {
      if (!this.#serviceExpiry.has(s.name)) this.#serviceExpiry.set(s.name, this.#o.serviceTtl);
    } else {
      this.#serviceExpiry.delete(s.name);
    }
  }

  #expireService(name: string): void {
    const s = this.#services.get(name);
    if (s === undefined || s.workers.size > 0 || s.requests.size > 0 || s.retry.length > 0) return;
    this.#services.delete(name);
    this.#o.emit("service:removed", { service: name });
  }
}
