import * as zmq from "zeromq";
import {
  AsyncQueue,
  Component,
  createDealer,
  createSocket,
  deferred,
  durationOption,
  integerOption,
  isZgError,
  systemClock,
  SocketLoop,
  ZgError,
  type Clock,
  type ComponentOptions,
  type Deferred,
  type Message,
} from "@zg/core";
import {
  CloneClientCore,
  type CloneClientCoreEvent,
  type CloneClientState,
  type FailoverReason,
  type SlowPolicy,
} from "./client-core.js";
import {
  DEFAULT_CLONE_MAX_MESSAGE_SIZE,
  DEFAULT_RESEND_INTERVAL,
  DEFAULT_SET_TIMEOUT,
} from "./constants.js";
import { cloneEndpoints, type CloneAddress, type CloneEndpoints } from "./endpoints.js";
import {
  decodeKvMsg,
  encodeIcanhaz,
  encodeKvMsg,
  HUGZ,
  MAX_KVMSG_KEY_SIZE,
  newUuid,
  type KvMsg,
} from "./protocol/kvmsg.js";

/** Options of {@link CloneClient}. Durations in ms. */
export interface CloneClientOptions extends ComponentOptions {
  /** One server, or the two servers of an HA pair (primary first), each as `tcp://host:P` or three endpoints. */
  servers: CloneAddress | readonly CloneAddress[];
  /** Key prefix to mirror ("" = the whole map; a byte prefix such as "/config/"). @defaultValue "" */
  subtree?: string;
  /** Server silence before failover. @defaultValue 5000 (`DEFAULT_SERVER_TTL`) */
  serverTtl?: number;
  /** The servers' collector type: `sub` (the client PUBlishes, 12/CHP) or `pull` (PUSH, model 5). @defaultValue "sub" */
  collector?: "sub" | "pull";
  /** Bound on waiting for a `set()` to be confirmed. @defaultValue {@link DEFAULT_SET_TIMEOUT} */
  setTimeout?: number;
  /** Re-send interval of unconfirmed updates. @defaultValue {@link DEFAULT_RESEND_INTERVAL} */
  resendInterval?: number;
  /** What to do on falling behind (a sequence gap, or `maxLag`). @defaultValue "resync" */
  slowPolicy?: SlowPolicy;
  /** Largest acceptable lag of the server's HUGZ on arrival, ms (Suicidal Snail; compares wall clocks). Off when unset. */
  maxLag?: number;
  /** Wait for the subscription before the snapshot request. @defaultValue 1500 (`DEFAULT_SUBSCRIBE_WAIT`) */
  subscribeWait?: number;
  /** Snapshot requests to one server before it answers. @defaultValue 2 (`DEFAULT_SNAPSHOT_REQUESTS`) */
  snapshotRequests?: number;
  /** Updates buffered while syncing. @defaultValue 100 000 (`DEFAULT_MAX_BUFFERED`) */
  maxBuffered?: number;
  /** Largest message accepted from a server, bytes; 0 = no limit. @defaultValue {@link DEFAULT_CLONE_MAX_MESSAGE_SIZE} */
  maxMessageSize?: number;
  /** Time source of the FSM. @defaultValue systemClock */
  clock?: Clock;
}

/** Options of {@link CloneClient.set}. */
export interface CloneSetOptions {
  /** Time to live, ms (sent as `ttl=<seconds>`); the server deletes the key after it. */
  ttl?: number;
  /** Bound on the confirmation, ms. @defaultValue the client's `setTimeout` */
  timeout?: number;
  /** Aborts the wait (the update may still be applied). */
  signal?: AbortSignal;
}

/** One change of the mirrored map. */
export interface CloneChange {
  /** The key. */
  key: string;
  /** The new value, or undefined when the key was deleted (or expired). */
  value: Buffer | undefined;
  /** The value before, or undefined. */
  previous: Buffer | undefined;
  /** The server's sequence number of the change. */
  sequence: bigint;
  /** True when the change was found by a re-sync (snapshot), not on the update stream. */
  resync: boolean;
}

/** Counters of a {@link CloneClient}. */
export interface CloneClientStats {
  /** Keys mirrored now. */
  keys: number;
  /** Sequence of the last update applied (number, for metrics). */
  sequence: number;
  /** Snapshots applied. */
  syncs: number;
  /** Updates applied from the stream. */
  updates: number;
  /** Failovers to another server (or the same one re-asked). */
  failovers: number;
  /** Gaps found (fell behind). */
  stale: number;
  /** Snapshots that arrived incomplete and were asked again. */
  incomplete: number;
  /** Updates sent (first sends). */
  sets: number;
  /** Updates re-sent while unconfirmed. */
  resends: number;
  /** Updates confirmed by a server. */
  confirmed: number;
  /** Updates whose confirmation timed out. */
  setTimeouts: number;
  /** Unconfirmed updates now. */
  pendingSets: number;
  /** Malformed messages dropped. */
  protocolErrors: number;
}

/** Events of a {@link CloneClient} (a closed map). */
export interface CloneClientEvents {
  /** A snapshot was applied: the map equals the server's at `sequence`. */
  "snapshot:applied": { server: string; sequence: bigint; size: number };
  /** The mirrored map changed. */
  "update:applied": CloneChange;
  /** The client moved to another server. */
  "server:changed": { from: string; to: string; reason: FailoverReason };
  /** The client fell behind (a sequence gap): handled by `slowPolicy`. */
  "stream:stale": {
    server: string;
    expected: bigint;
    got: bigint;
    policy: SlowPolicy;
    reason: "gap" | "lag" | "restart";
    lag?: number;
  };
  /** A snapshot arrived incomplete (entries lost on the way); asked again. */
  "snapshot:incomplete": { server: string; expected: number; got: number };
  /** Bad input from a server: counted and dropped. */
  "protocol:invalid": { socket: "snapshot" | "publisher"; reason: string };
}

interface PendingSet {
  message: KvMsg;
  done: Deferred<bigint>;
  sentAt: number;
  timer: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

interface Watcher {
  prefix: string;
  queue: AsyncQueue<CloneChange>;
}

/** Largest watcher backlog: a consumer that falls this far behind is ended with `ZG_OVERFLOW`. */
const WATCH_LIMIT = 100_000;

/**
 * The Clone client (Guide ch. 5, the `clone` agent, reshaped for Node):
 * mirrors a subtree of a {@link CloneServer}'s map (snapshot, then the update
 * stream), follows one server of a pair and fails over on `serverTtl` of
 * silence, and publishes updates to every server.
 *
 * Consistency: the map holds only what a server confirmed. After `snapshot:applied` it
 * equals the server's snapshot plus every later update, with strictly
 * increasing sequence numbers; a gap (a slow client whose updates the
 * server's HWM dropped) is handled by `slowPolicy` (re-sync by default).
 * `set()` resolves when the update came back from the server with its
 * sequence number (the client's "acknowledged"); until then it is re-sent
 * every `resendInterval` (servers drop copies by UUID).
 *
 * @example
 * ```ts
 * const client = new CloneClient({ servers: "tcp://localhost:5556", subtree: "/config/" });
 * await client.start();
 * await client.waitSynced();
 * await client.set("/config/level", "debug");
 * ```
 */
export class CloneClient extends Component<CloneClientEvents, CloneClientStats> {
  /** The mirrored key prefix. */
  readonly subtree: string;
  readonly #servers: CloneEndpoints[];
  readonly #collector: "sub" | "pull";
  readonly #setTimeout: number;
  readonly #resendInterval: number;
  readonly #maxMessageSize: number;
  readonly #clock: Clock;
  readonly #core: CloneClientCore;
  readonly #snapshots: SocketLoop[] = [];
  readonly #senders: SocketLoop[] = [];
  readonly #pending = new Map<string, PendingSet>();
  readonly #watchers = new Set<Watcher>();
  #syncedOnce = deferred<void>();
  readonly #stats = {
    syncs: 0,
    updates: 0,
    failovers: 0,
    stale: 0,
    incomplete: 0,
    sets: 0,
    resends: 0,
    confirmed: 0,
    setTimeouts: 0,
    protocolErrors: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: CloneClientOptions) {
    super("CloneClient", options);
    const list: readonly CloneAddress[] =
      typeof options.servers === "string" || !Array.isArray(options.servers)
        ? [options.servers as CloneAddress]
        : (options.servers as readonly CloneAddress[]);
    if (list.length === 0) throw new ZgError("ZG_INVALID_ARGUMENT", "servers must not be empty");
    this.#servers = list.map((s, i) => cloneEndpoints(`servers[${i}]`, s));
    this.subtree = options.subtree ?? "";
    if (Buffer.byteLength(this.subtree) > MAX_KVMSG_KEY_SIZE) {
      throw new ZgError("ZG_INVALID_ARGUMENT", "subtree is longer than 255 bytes");
    }
    const collector = options.collector ?? "sub";
    if (collector !== "sub" && collector !== "pull") {
      throw new ZgError("ZG_INVALID_ARGUMENT", `collector must be "sub" or "pull"`);
    }
    this.#collector = collector;
    this.#setTimeout = durationOption("setTimeout", options.setTimeout, DEFAULT_SET_TIMEOUT, {
      min: 1,
    });
    this.#resendInterval = durationOption(
      "resendInterval",
      options.resendInterval,
      DEFAULT_RESEND_INTERVAL,
      { min: 1 },
    );
    this.#maxMessageSize = integerOption(
      "maxMessageSize",
      options.maxMessageSize,
      DEFAULT_CLONE_MAX_MESSAGE_SIZE,
    );
    if (
      options.slowPolicy !== undefined &&
      !["resync", "report", "close"].includes(options.slowPolicy)
    ) {
      throw new ZgError("ZG_INVALID_ARGUMENT", `slowPolicy must be resync, report or close`);
    }
    this.#clock = options.clock ?? systemClock;
    this.#core = new CloneClientCore(
      {
        requestSnapshot: (server, subtree) => this.#snapshots[server]?.post(encodeIcanhaz(subtree)),
        emit: (event) => this.#onCore(event),
      },
      {
        servers: this.#servers.length,
        subtree: this.subtree,
        clock: this.#clock,
        ...pick(options, [
          "serverTtl",
          "subscribeWait",
          "snapshotRequests",
          "maxBuffered",
          "slowPolicy",
          "maxLag",
        ]),
      },
    );
  }

  /** FSM state: `initial`, `syncing` or `active`. */
  get syncState(): CloneClientState {
    return this.#core.state;
  }

  /** The server followed now (its snapshot endpoint). */
  get server(): string {
    return (this.#servers[this.#core.server] as CloneEndpoints).snapshot;
  }

  /** Sequence of the last snapshot or update applied. */
  get sequence(): bigint {
    return this.#core.sequence;
  }

  /** The value of `key`, or undefined when the mirrored map has none. */
  get(key: string): Buffer | undefined {
    return this.#core.map.get(key)?.body;
  }

  /** The value of `key` as UTF-8, or undefined. */
  getString(key: string): string | undefined {
    return this.get(key)?.toString("utf8");
  }

  /** The sequence number of `key`'s current value, or undefined. */
  sequenceOf(key: string): bigint | undefined {
    return this.#core.map.get(key)?.sequence;
  }

  /** The mirrored entries `[key, value]`, optionally under `prefix`. */
  *entries(prefix = ""): IterableIterator<[string, Buffer]> {
    for (const [key, m] of this.#core.map) if (key.startsWith(prefix)) yield [key, m.body];
  }

  /** Keys mirrored now. */
  get size(): number {
    return this.#core.map.size;
  }

  /** Counters. */
  stats(): CloneClientStats {
    return {
      keys: this.#core.map.size,
      sequence: Number(this.#core.sequence),
      pendingSets: this.#pending.size,
      ...this.#stats,
    };
  }

  /**
   * Resolves once a first snapshot has been applied.
   *
   * @throws `ZG_TIMEOUT` after `timeout` ms, `ZG_ABORTED` on `signal`, `ZG_CLOSED` when the client closes first.
   */
  async waitSynced(options: { timeout?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.#core.synced) return;
    const timeout = durationOption("timeout", options.timeout, 30_000);
    if (options.signal?.aborted === true) throw new ZgError("ZG_ABORTED", "waitSynced aborted");
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await Promise.race([
        this.#syncedOnce.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ZgError("ZG_TIMEOUT", `not synced within ${timeout} ms`)),
            timeout,
          );
          onAbort = () => reject(new ZgError("ZG_ABORTED", "waitSynced aborted"));
          options.signal?.addEventListener("abort", onAbort, { once: true });
        }),
      ]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Publishes `key = value` to every server. Resolves with the server's
   * sequence number once the update came back (on the stream, or in a
   * snapshot after a failover); re-sent meanwhile. An empty value deletes.
   *
   * @throws `ZG_INVALID_ARGUMENT` (synchronously) for a key outside the
   * subtree, over 255 bytes, empty or reserved (`HUGZ`, `KTHXBAI`), or a bad
   * ttl; `ZG_STATE` when not running. Rejects with `ZG_TIMEOUT` (not
   * confirmed in time: the update may still be applied), `ZG_ABORTED`, or
   * `ZG_CLOSED`.
   */
  set(key: string, value: string | Buffer, options: CloneSetOptions = {}): Promise<bigint> {
    this.assertRunning("set");
    if (key === "" || key === HUGZ || key === "KTHXBAI") {
      throw new ZgError("ZG_INVALID_ARGUMENT", `key ${JSON.stringify(key)} is reserved or empty`);
    }
    if (Buffer.byteLength(key) > MAX_KVMSG_KEY_SIZE) {
      throw new ZgError("ZG_INVALID_ARGUMENT", "key is longer than 255 bytes");
    }
    if (!key.startsWith(this.subtree)) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `key ${key} is outside this client's subtree ${this.subtree}`,
      );
    }
    const properties = new Map<string, string>();
    if (options.ttl !== undefined) {
      const ttl = durationOption("ttl", options.ttl, 0, { min: 1 });
      properties.set("ttl", String(ttl / 1000));
    }
    const timeout = durationOption("timeout", options.timeout, this.#setTimeout, { min: 1 });
    const message: KvMsg = {
      key,
      sequence: 0n,
      uuid: newUuid(),
      properties,
      body: typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value),
    };
    const id = message.uuid.toString("hex");
    const done = deferred<bigint>();
    const fail = (error: Error): void => {
      const p = this.#pending.get(id);
      if (p === undefined) return;
      p.cleanup();
      this.#pending.delete(id);
      done.reject(error);
    };
    const onAbort = (): void => fail(new ZgError("ZG_ABORTED", "set aborted"));
    if (options.signal?.aborted === true) {
      return Promise.reject(new ZgError("ZG_ABORTED", "set aborted"));
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => {
      this.#stats.setTimeouts++;
      fail(new ZgError("ZG_TIMEOUT", `update of ${key} not confirmed within ${timeout} ms`));
    }, timeout);
    this.#pending.set(id, {
      message,
      done,
      sentAt: performance.now(),
      timer,
      cleanup: () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
      },
    });
    this.#stats.sets++;
    this.#send(message);
    return done.promise;
  }

  /** Deletes `key` everywhere (an update with an empty value). Same contract as {@link set}. */
  delete(key: string, options: Omit<CloneSetOptions, "ttl"> = {}): Promise<bigint> {
    return this.set(key, Buffer.alloc(0), options);
  }

  /**
   * The changes under `prefix` (default: the client's subtree), as an async
   * iterable; ends when the client closes. Each call is one independent
   * stream, starting with the next change. A consumer more than 100 000
   * changes behind is ended with `ZG_OVERFLOW`.
   */
  changes(prefix = this.subtree): AsyncIterable<CloneChange> {
    const watcher: Watcher = { prefix, queue: new AsyncQueue<CloneChange>(WATCH_LIMIT) };
    if (this.stopping) watcher.queue.end();
    else this.#watchers.add(watcher);
    const watchers = this.#watchers;
    return {
      [Symbol.asyncIterator]: () => {
        const it = watcher.queue[Symbol.asyncIterator]();
        return {
          next: () => it.next(),
          return: async (value?: unknown) => {
            watchers.delete(watcher);
            watcher.queue.end();
            return (await it.return?.(value)) ?? { value: undefined, done: true };
          },
        };
      },
    };
  }

  #send(message: KvMsg): void {
    const frames = encodeKvMsg(message);
    for (const s of this.#senders) s.post(frames);
  }

  protected onStart(): Promise<void> {
    const maxMessageSize = this.#maxMessageSize === 0 ? -1 : this.#maxMessageSize;
    const loop = (socket: zmq.Socket, name: string, onMessage?: (m: Message) => void) =>
      this.own(
        new SocketLoop(this.own(socket), {
          name,
          logger: this.logger,
          ...(onMessage === undefined ? {} : { onMessage }),
        }),
      ).start();
    this.#servers.forEach((server, index) => {
      const dealer = createDealer({ linger: 0, maxMessageSize });
      dealer.connect(server.snapshot);
      this.#snapshots.push(
        loop(dealer, `snapshot-${index}`, (m) => this.#onMessage(index, "snapshot", m)),
      );
      const sub = createSocket(zmq.Subscriber, { linger: 0, maxMessageSize });
      sub.subscribe(this.subtree);
      if (this.subtree !== "") sub.subscribe(HUGZ);
      sub.connect(server.publisher);
      loop(sub, `publisher-${index}`, (m) => this.#onMessage(index, "publisher", m));
      const sender =
        this.#collector === "sub"
          ? createSocket(zmq.Publisher, { linger: 0 })
          : createSocket(zmq.Push, { linger: 0, sendTimeout: 0 });
      sender.connect(server.collector);
      this.#senders.push(loop(sender, `collector-${index}`));
    });
    this.setInterval(() => this.#resend(), this.#resendInterval);
    this.own(() => this.#core.stop());
    this.own(() => this.#shutdownWaiters());
    this.#core.start();
    return Promise.resolve();
  }

  #shutdownWaiters(): void {
    for (const p of this.#pending.values()) {
      p.cleanup();
      p.done.reject(new ZgError("ZG_CLOSED", "client closed before the update was confirmed"));
    }
    this.#pending.clear();
    for (const w of this.#watchers) w.queue.end();
    this.#watchers.clear();
    if (!this.#core.synced) {
      this.#syncedOnce.promise.catch(() => undefined);
      this.#syncedOnce.reject(new ZgError("ZG_CLOSED", "client closed before it synced"));
    }
  }

  #resend(): void {
    if (this.#core.state !== "active") return;
    const now = performance.now();
    for (const p of this.#pending.values()) {
      if (now - p.sentAt < this.#resendInterval) continue;
      p.sentAt = now;
      this.#stats.resends++;
      this.#send(p.message);
    }
  }

  #onMessage(server: number, socket: "snapshot" | "publisher", frames: Message): void {
    let message: KvMsg;
    try {
      message = decodeKvMsg(frames);
    } catch (error) {
      if (!isZgError(error) || error.code !== "ZG_PROTOCOL") throw error;
      this.#stats.protocolErrors++;
      this.emit("protocol:invalid", { socket, reason: error.message });
      return;
    }
    if (socket === "snapshot") this.#core.onSnapshot(server, message);
    else this.#core.onPublished(server, message);
  }

  #confirm(message: KvMsg): void {
    if (message.uuid.length === 0 || this.#pending.size === 0) return;
    const id = message.uuid.toString("hex");
    const p = this.#pending.get(id);
    if (p === undefined) return;
    p.cleanup();
    this.#pending.delete(id);
    this.#stats.confirmed++;
    p.done.resolve(message.sequence);
  }

  #onCore(event: CloneClientCoreEvent): void {
    const name = (i: number): string => (this.#servers[i] as CloneEndpoints).snapshot;
    switch (event.type) {
      case "update": {
        if (!event.resync) {
          this.#stats.updates++;
          this.#confirm(event.message);
        }
        const change: CloneChange = {
          key: event.key,
          value: event.message.body.length === 0 ? undefined : event.message.body,
          previous: event.previous?.body,
          sequence: event.message.sequence,
          resync: event.resync,
        };
        this.emit("update:applied", change);
        for (const w of this.#watchers) {
          if (!change.key.startsWith(w.prefix)) continue;
          if (!w.queue.push(change)) {
            this.#watchers.delete(w);
            w.queue.end(new ZgError("ZG_OVERFLOW", "watch consumer fell too far behind"));
          }
        }
        break;
      }
      case "synced": {
        this.#stats.syncs++;
        // Updates confirmed by the snapshot (their UUID is the stored one), deletes by absence.
        for (const p of [...this.#pending.values()]) {
          const stored = this.#core.map.get(p.message.key);
          if (stored !== undefined && stored.uuid.equals(p.message.uuid)) this.#confirm(stored);
          else if (stored === undefined && p.message.body.length === 0) {
            this.#confirm({ ...p.message, sequence: event.sequence });
          }
        }
        // What is left goes again to the (maybe new) server.
        for (const p of this.#pending.values()) {
          p.sentAt = performance.now();
          this.#send(p.message);
        }
        this.logger.info("synced", {
          server: name(event.server),
          sequence: String(event.sequence),
          size: event.size,
        });
        this.emit("snapshot:applied", {
          server: name(event.server),
          sequence: event.sequence,
          size: event.size,
        });
        this.#syncedOnce.resolve();
        break;
      }
      case "failover":
        this.#stats.failovers++;
        this.logger.warn("server silent, failing over", {
          from: name(event.from),
          to: name(event.to),
          reason: event.reason,
        });
        this.emit("server:changed", {
          from: name(event.from),
          to: name(event.to),
          reason: event.reason,
        });
        break;
      case "stale":
        this.#stats.stale++;
        this.logger.warn("fell behind the update stream", {
          expected: String(event.expected),
          got: String(event.got),
          policy: event.policy,
        });
        this.emit("stream:stale", {
          server: name(event.server),
          expected: event.expected,
          got: event.got,
          policy: event.policy,
          reason: event.reason,
          ...(event.lag === undefined ? {} : { lag: event.lag }),
        });
        if (event.policy === "close") {
          this.fail(
            new ZgError("ZG_STATE", "fell behind the update stream (slowPolicy close)", {
              details: { expected: String(event.expected), got: String(event.got) },
            }),
          );
        }
        break;
      case "incomplete":
        this.#stats.incomplete++;
        this.emit("snapshot:incomplete", {
          server: name(event.server),
          expected: event.expected,
          got: event.got,
        });
        break;
    }
  }
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
