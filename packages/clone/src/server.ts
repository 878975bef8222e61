import { randomBytes } from "node:crypto";
import * as zmq from "zeromq";
import {
  bindAll,
  Component,
  createDealer,
  createRouter,
  createSocket,
  durationOption,
  integerOption,
  isZgError,
  SocketLoop,
  sleep,
  systemClock,
  ZgError,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type FsyncPolicy,
  type Message,
} from "@zg/core";
import { BinaryStar, type BinaryStarRole, type BinaryStarState } from "@zg/pirate/bstar";
import {
  DEFAULT_CLONE_MAX_MESSAGE_SIZE,
  DEFAULT_FLUSH_INTERVAL,
  DEFAULT_HUGZ_INTERVAL,
  DEFAULT_MAX_BUFFERED,
  DEFAULT_PUBLISHER_HWM,
  DEFAULT_SERVER_TTL,
  DEFAULT_SUBSCRIBE_WAIT,
} from "./constants.js";
import { cloneEndpoints, type CloneAddress, type CloneEndpoints } from "./endpoints.js";
import {
  decodeIcanhaz,
  decodeKvMsg,
  encodeIcanhaz,
  encodeKvMsg,
  HUGZ,
  hugz,
  KTHXBAI,
  kthxbai,
  newUuid,
  ttlOf,
  type KvMsg,
} from "./protocol/kvmsg.js";
import { CloneStore, type CloneStoreStats, type StoredEntry } from "./store.js";
import {
  CloneServerCore,
  type CloneServerCoreOptions,
  type CloneServerCoreStats,
  type RefusalReason,
} from "./server-core.js";

/**
 * Default bound on streaming one snapshot to a slow client, ms: past it the
 * snapshot is abandoned without KTHXBAI (the client asks again or fails
 * over). Project value (the Guide's ROUTER drops past its HWM instead).
 */
export const DEFAULT_SNAPSHOT_TIMEOUT = 30_000;

/** Options of the HA pair (Guide model 6, on Binary Star). */
export interface ClonePairOptions {
  /** Which of the pair this server is. */
  role: BinaryStarRole;
  /** Binary Star state PUB endpoint (Guide: 5003 primary, 5004 backup). */
  stateBind: string;
  /** The peer's Binary Star state PUB (Guide: primary → 5004, backup → 5003). */
  statePeer: string;
  /** The peer Clone server (its snapshot endpoint, or its three endpoints). */
  peer: CloneAddress;
  /** Binary Star heartbeat, ms. @defaultValue 1000 (Binary Star's default) */
  heartbeat?: number;
  /** Binary Star witness endpoint (see `BinaryStar`). */
  witness?: string;
}

/** Options of {@link CloneServer}. Durations in ms. */
export interface CloneServerOptions extends ComponentOptions, CloneServerCoreOptions {
  /**
   * Where to bind: `tcp://*:P` (publisher on P+1, collector on P+2) or the
   * three endpoints (`tcp://127.0.0.1:*` each, or ipc).
   */
  bind: CloneAddress;
  /** Collector socket: `sub` (12/CHP, model 6: clients PUB) or `pull` (model 5: clients PUSH). @defaultValue "sub" */
  collector?: "sub" | "pull";
  /** HUGZ interval. @defaultValue {@link DEFAULT_HUGZ_INTERVAL} */
  hugzInterval?: number;
  /** TTL flush cadence. @defaultValue {@link DEFAULT_FLUSH_INTERVAL} */
  flushInterval?: number;
  /** Largest message accepted on the collector and snapshot sockets, bytes; 0 = no limit (ZMQ_MAXMSGSIZE). @defaultValue {@link DEFAULT_CLONE_MAX_MESSAGE_SIZE} */
  maxMessageSize?: number;
  /** Publisher high-water mark per subscriber (ZMQ_SNDHWM; slow subscribers lose updates past it and re-sync). @defaultValue {@link DEFAULT_PUBLISHER_HWM} */
  publisherHighWaterMark?: number;
  /** Bound on streaming one snapshot. @defaultValue {@link DEFAULT_SNAPSHOT_TIMEOUT} */
  snapshotTimeout?: number;
  /** HA pair (model 6). Without it the server is a lone active server. */
  pair?: ClonePairOptions;
  /** Time source of TTLs and the pair. @defaultValue systemClock */
  clock?: Clock;
  /**
   * Data directory (beyond the Guide): every applied update is appended to a
   * checksummed log before it is published, and a restarted server resumes
   * with its map and sequence. Without it all state is in memory, as in the Guide.
   */
  dataDir?: string;
  /** fsync policy of the log (as Titanic's). @defaultValue "always" */
  fsync?: FsyncPolicy;
  /** Period of the `"interval"` policy, ms. @defaultValue 100 (`DEFAULT_CLONE_FSYNC_INTERVAL`) */
  fsyncInterval?: number;
  /** Log segment size that triggers a snapshot compaction, bytes. @defaultValue 4194304 (`DEFAULT_CLONE_COMPACT_MIN_BYTES`) */
  compactMinBytes?: number;
}

/** What {@link CloneServer.start} resolves with. */
export interface CloneServerEndpoints extends BoundEndpoints, CloneEndpoints {
  /** The Binary Star state endpoint (with `pair`). */
  state?: string;
}

/** Counters of a {@link CloneServer}. */
export interface CloneServerStats extends CloneServerCoreStats {
  /** The last sequence number published, as a number (metrics). */
  sequence: number;
  /** 1 while active (serving snapshots, applying updates), else 0. */
  active: number;
  /** Client updates received on the collector. */
  received: number;
  /** Snapshots served completely (KTHXBAI sent). */
  snapshots: number;
  /** Snapshots abandoned (client gone, or slower than `snapshotTimeout`). */
  snapshotsAbandoned: number;
  /** Snapshot requests dropped because this server is passive (Binary Star votes refused). */
  snapshotsRefused: number;
  /** Snapshot streams running now. */
  snapshotStreams: number;
  /** HUGZ sent. */
  hugz: number;
  /** Malformed messages dropped (collector, snapshot, peer). */
  protocolErrors: number;
  /** Messages the publisher could not queue (its send queue was full). */
  publishOverflows: number;
  /** Snapshots taken from the HA peer. */
  peerSyncs: number;
  /** Records appended to the data directory's log (0 without `dataDir`). */
  storeAppends: number;
  /** Compactions of the log. */
  storeCompactions: number;
}

/** Events of a {@link CloneServer} (a closed map). */
export interface CloneServerEvents {
  /** An update was published (a client's, an expiry, a republished pending one). */
  "update:published": { message: KvMsg };
  /** A client update was refused over a bound; nothing of it was applied. */
  "update:refused": { key: string; reason: RefusalReason };
  /** Bad input on a socket: counted and dropped. */
  "protocol:invalid": { socket: "collector" | "snapshot" | "peer"; reason: string };
  /** A snapshot was abandoned. */
  "snapshot:abandoned": { subtree: string; sent: number; reason: "unreachable" | "timeout" };
  /** HA: this server became active; `republished` pending updates went out with new sequences. */
  "pair:active": { from: BinaryStarState; republished: number };
  /** HA: this server became passive (follows the peer). */
  "pair:passive": { from: BinaryStarState };
  /** HA: a full copy of the peer's map was loaded. */
  "peer:synced": { sequence: bigint; size: number };
}

/**
 * The Clone server (Guide ch. 5, `clonesrv5`/`clonesrv6`; 12/CHP): a
 * key-value map distributed as a snapshot on request plus a stream of
 * updates with strictly increasing sequence numbers.
 *
 * - snapshot ROUTER on P: `["ICANHAZ?"][subtree]` → one KVSYNC per entry
 *   under the subtree, then `KTHXBAI` with the sequence the snapshot is
 *   consistent with (and `count=`, beyond the Guide). The stream waits for
 *   the client's HWM instead of dropping, within `snapshotTimeout`;
 * - publisher PUB on P+1: KVPUB per update, HUGZ every `hugzInterval`;
 * - collector on P+2 (SUB, or PULL): client KVSETs get `++sequence`, are
 *   stored (empty body deletes, `ttl` in seconds expires) and published.
 *   Over a bound (`maxKeys`, `maxKeySize`, `maxValueSize`) an update is
 *   refused, counted and nothing of it applied; a duplicate UUID is dropped.
 *
 * With `pair`, two servers form a Binary Star pair (model 6): the passive one
 * copies the active's map (snapshot from the peer, then its stream) and keeps
 * client updates on a pending list by UUID; on takeover it republishes what
 * is pending *before* it serves any snapshot, so an update the failed server
 * acknowledged (published) is not lost.
 *
 * Bad input is counted (`protocolErrors`), emitted (`protocol:invalid`) and dropped.
 *
 * @example
 * ```ts
 * const server = new CloneServer({ bind: "tcp://*:5556" });
 * await server.start();
 * ```
 */
export class CloneServer extends Component<
  CloneServerEvents,
  CloneServerStats,
  CloneServerEndpoints
> {
  readonly #core: CloneServerCore;
  readonly #bind: CloneEndpoints;
  readonly #collectorType: "sub" | "pull";
  readonly #hugzInterval: number;
  readonly #flushInterval: number;
  readonly #maxMessageSize: number;
  readonly #publisherHwm: number;
  readonly #snapshotTimeout: number;
  readonly #pairOptions: ClonePairOptions | undefined;
  readonly #peer: CloneEndpoints | undefined;
  readonly #clock: Clock;
  #pub: SocketLoop | undefined;
  #snapshot: SocketLoop | undefined;
  #pair: BinaryStar | undefined;
  #peerSnapshot: SocketLoop | undefined;
  #follow:
    | { state: "waiting" | "syncing"; entries: KvMsg[]; buffer: KvMsg[]; since: number }
    | { state: "following" }
    | undefined;
  #peerConfirmed = false;
  readonly #storeOptions: Pick<
    CloneServerOptions,
    "dataDir" | "fsync" | "fsyncInterval" | "compactMinBytes"
  >;
  #store: CloneStore | undefined;
  /** The last append's promise: publishes (and snapshots) wait for it. */
  #lastCommit: Promise<void> = Promise.resolve();
  /**
   * This start's identity, in every HUGZ and KTHXBAI (`run=<hex>`, beyond the
   * Guide): a client that sees another run on its server's stream knows the
   * server restarted (and may have lost updates, or sent some while the
   * client's SUB was reconnecting) and takes a fresh snapshot.
   */
  #run = randomBytes(8).toString("hex");
  /** The last sequence actually published (HUGZ carry it). */
  #publishedSequence = 0n;
  readonly #stats = {
    received: 0,
    snapshots: 0,
    snapshotsAbandoned: 0,
    snapshotsRefused: 0,
    snapshotStreams: 0,
    hugz: 0,
    protocolErrors: 0,
    publishOverflows: 0,
    peerSyncs: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: CloneServerOptions) {
    super("CloneServer", options);
    this.#bind = cloneEndpoints("bind", options.bind);
    this.#core = new CloneServerCore(options);
    const collector = options.collector ?? "sub";
    if (collector !== "sub" && collector !== "pull") {
      throw new ZgError("ZG_INVALID_ARGUMENT", `collector must be "sub" or "pull"`);
    }
    this.#collectorType = collector;
    this.#hugzInterval = durationOption(
      "hugzInterval",
      options.hugzInterval,
      DEFAULT_HUGZ_INTERVAL,
      {
        min: 1,
      },
    );
    this.#flushInterval = durationOption(
      "flushInterval",
      options.flushInterval,
      DEFAULT_FLUSH_INTERVAL,
      { min: 1 },
    );
    this.#maxMessageSize = integerOption(
      "maxMessageSize",
      options.maxMessageSize,
      DEFAULT_CLONE_MAX_MESSAGE_SIZE,
    );
    this.#publisherHwm = integerOption(
      "publisherHighWaterMark",
      options.publisherHighWaterMark,
      DEFAULT_PUBLISHER_HWM,
    );
    this.#snapshotTimeout = durationOption(
      "snapshotTimeout",
      options.snapshotTimeout,
      DEFAULT_SNAPSHOT_TIMEOUT,
      { min: 1 },
    );
    this.#clock = options.clock ?? systemClock;
    this.#storeOptions = {
      ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
      ...(options.fsync === undefined ? {} : { fsync: options.fsync }),
      ...(options.fsyncInterval === undefined ? {} : { fsyncInterval: options.fsyncInterval }),
      ...(options.compactMinBytes === undefined
        ? {}
        : { compactMinBytes: options.compactMinBytes }),
    };
    if (
      options.dataDir !== undefined &&
      (typeof options.dataDir !== "string" || options.dataDir === "")
    ) {
      throw new ZgError("ZG_INVALID_ARGUMENT", "dataDir must be a non-empty path");
    }
    this.#pairOptions = options.pair;
    if (options.pair !== undefined) {
      this.#peer = cloneEndpoints("pair.peer", options.pair.peer);
      // Validates the Binary Star options now (the constructor allocates nothing).
      this.#pair = this.#newPair(options.pair);
    }
  }

  #newPair(p: ClonePairOptions): BinaryStar {
    return new BinaryStar({
      role: p.role,
      stateBind: p.stateBind,
      peer: p.statePeer,
      clock: this.#clock,
      logger: this.logger,
      ...(p.heartbeat === undefined ? {} : { heartbeat: p.heartbeat }),
      ...(p.witness === undefined ? {} : { witness: p.witness }),
    });
  }

  /** The last sequence number published (or copied from the active peer). */
  get sequence(): bigint {
    return this.#core.sequence;
  }

  /** True while this server applies updates and serves snapshots. */
  get active(): boolean {
    return this.running && this.#core.mode === "active";
  }

  /** The stored entry of `key` (with its sequence), or undefined. */
  get(key: string): KvMsg | undefined {
    return this.#core.get(key);
  }

  /**
   * Applies `key = value` at this server, as an update from its collector
   * would be: the next sequence number, on disk first when there is a data
   * directory, then published to every subscriber. For a process that owns
   * the state (a configuration broker) and for the fan-out benchmark. An
   * empty value deletes; `ttl` is in ms (on the wire in seconds).
   *
   * @returns the sequence number the update was published with.
   * @throws `ZG_STATE` when not running or passive (set on the active server);
   * `ZG_INVALID_ARGUMENT` for an empty, reserved or over-long key or a bad
   * ttl; `ZG_OVERFLOW` over `maxValueSize` or `maxKeys` (nothing applied).
   */
  async set(key: string, value: string | Buffer, options: { ttl?: number } = {}): Promise<bigint> {
    this.assertRunning("set");
    if (this.#core.mode !== "active")
      throw new ZgError("ZG_STATE", "this server is passive: set on the active one");
    if (key === "") throw new ZgError("ZG_INVALID_ARGUMENT", "key must not be empty");
    const properties = new Map<string, string>();
    if (options.ttl !== undefined) {
      const ttl = durationOption("ttl", options.ttl, 0, { min: 1 });
      properties.set("ttl", String(ttl / 1000));
    }
    const update: KvMsg = {
      key,
      sequence: 0n,
      uuid: newUuid(),
      properties,
      body: typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value),
    };
    const result = this.#core.receive(update);
    if (result.kind === "refused") {
      this.emit("update:refused", { key, reason: result.reason });
      const code =
        result.reason === "key-size" || result.reason === "reserved-key"
          ? "ZG_INVALID_ARGUMENT"
          : "ZG_OVERFLOW";
      throw new ZgError(code, `update of ${key} refused: ${result.reason}`);
    }
    if (result.kind !== "published")
      throw new ZgError("ZG_STATE", `update of ${key} not applied (${result.kind})`);
    this.#publish(result.message);
    await this.#lastCommit;
    return result.message.sequence;
  }

  /** The entries under `subtree` ("" = all), as a snapshot would send them. */
  entries(subtree = ""): KvMsg[] {
    return this.#core.snapshot(subtree).entries;
  }

  /** Counters. */
  stats(): CloneServerStats {
    const store: CloneStoreStats | undefined = this.#store?.stats();
    return {
      ...this.#core.stats(),
      ...this.#stats,
      storeAppends: store?.appends ?? 0,
      storeCompactions: store?.compactions ?? 0,
      sequence: Number(this.#core.sequence),
      active: this.active ? 1 : 0,
    };
  }

  protected async onStart(): Promise<CloneServerEndpoints> {
    const { dataDir, ...storeOptions } = this.#storeOptions;
    if (dataDir !== undefined) {
      const store = (this.#store = this.own(
        await CloneStore.open(dataDir, { ...storeOptions, logger: this.logger }),
      ));
      const now = Date.now();
      this.#core.load(
        store.restored.entries.map((e) => restoredMessage(e, now)),
        store.restored.sequence,
      );
      this.#publishedSequence = this.#core.sequence;
      this.#maybeCompact();
      this.logger.info("state restored", {
        dataDir,
        keys: this.#core.size,
        sequence: String(this.#core.sequence),
      });
    } else this.#publishedSequence = this.#core.sequence;
    const maxMessageSize = this.#maxMessageSize === 0 ? -1 : this.#maxMessageSize;
    const pub = createSocket(zmq.Publisher, { linger: 0, sendHighWaterMark: this.#publisherHwm });
    this.#pub = this.#loop(pub, "publisher");
    const [publisher] = (await bindAll(pub, [this.#bind.publisher])) as [string];

    const collectorSocket =
      this.#collectorType === "sub"
        ? createSocket(zmq.Subscriber, { linger: 0, maxMessageSize })
        : createSocket(zmq.Pull, { linger: 0, maxMessageSize });
    if (collectorSocket instanceof zmq.Subscriber) collectorSocket.subscribe();
    this.#loop(collectorSocket, "collector", (m) => this.#onCollector(m));
    const [collector] = (await bindAll(collectorSocket, [this.#bind.collector])) as [string];

    const router = createRouter({ linger: 0, maxMessageSize: 4096 });
    this.#snapshot = this.#loop(router, "snapshot", (m) => this.#onSnapshotRequest(m));
    const [snapshot] = (await bindAll(router, [this.#bind.snapshot])) as [string];

    this.setInterval(() => this.#sendHugz(), this.#hugzInterval);
    this.setInterval(() => this.#flush(), this.#flushInterval);

    let state: string | undefined;
    if (this.#pairOptions !== undefined && this.#peer !== undefined) {
      this.#core.passivate();
      this.#startFollowerSockets(this.#peer, maxMessageSize);
      const pair = this.#pair ?? this.#newPair(this.#pairOptions);
      pair.on("pair:active", ({ from }) => this.#onActive(from));
      pair.on("pair:passive", ({ from }) => this.#onPassive(from));
      this.own(pair);
      state = (await pair.start()).state[0];
    }
    this.logger.info("clone server started", { snapshot, publisher, collector });
    return {
      endpoints: [snapshot, publisher, collector],
      snapshot,
      publisher,
      collector,
      ...(state === undefined ? {} : { state }),
    };
  }

  #startFollowerSockets(peer: CloneEndpoints, maxMessageSize: number): void {
    const sub = createSocket(zmq.Subscriber, { linger: 0, maxMessageSize });
    sub.subscribe();
    sub.connect(peer.publisher);
    this.#loop(sub, "peer-publisher", (m) => this.#onPeerPublished(m));
    const dealer = createDealer({ linger: 0, maxMessageSize });
    dealer.connect(peer.snapshot);
    this.#peerSnapshot = this.#loop(dealer, "peer-snapshot", (m) => this.#onPeerSnapshot(m));
  }

  /** An owned, started loop on an owned socket. */
  #loop(socket: zmq.Socket, name: string, onMessage?: (m: Message) => void): SocketLoop {
    return this.own(
      new SocketLoop(this.own(socket), {
        name,
        logger: this.logger,
        ...(onMessage === undefined ? {} : { onMessage }),
      }),
    ).start();
  }

  /** Decodes a kvmsg, or counts, emits and drops bad input (undefined). */
  #decode(socket: "collector" | "peer", frames: Message): KvMsg | undefined {
    try {
      return decodeKvMsg(frames);
    } catch (error) {
      this.#invalid(socket, error);
      return undefined;
    }
  }

  #invalid(socket: "collector" | "snapshot" | "peer", error: unknown): void {
    if (!isZgError(error) || error.code !== "ZG_PROTOCOL") throw error;
    this.#stats.protocolErrors++;
    this.logger.debug("bad message dropped", { socket, reason: error.message });
    this.emit("protocol:invalid", { socket, reason: error.message });
  }

  /** Publishes an applied message, after it is on disk when there is a data directory. */
  #publish(message: KvMsg): void {
    const store = this.#store;
    if (store === undefined) {
      this.#post(message);
      return;
    }
    this.#lastCommit = store.append(message, expiryOf(message)).then(
      () => this.#post(message),
      (error: Error) => this.fail(error),
    );
    this.#maybeCompact();
  }

  #post(message: KvMsg): void {
    if (this.stopping) return;
    this.#publishedSequence = message.sequence;
    if (this.#pub?.post(encodeKvMsg(message)) !== true) this.#stats.publishOverflows++;
    this.emit("update:published", { message });
  }

  /** Records a message applied without publishing (a passive server's copy of its peer). */
  #record(message: KvMsg): void {
    this.#publishedSequence = message.sequence;
    const store = this.#store;
    if (store === undefined) return;
    this.#lastCommit = store
      .append(message, expiryOf(message))
      .catch((error: Error) => this.fail(error));
    this.#maybeCompact();
  }

  #maybeCompact(force = false): void {
    const store = this.#store;
    if (store === undefined || (!force && !store.wantsCompaction)) return;
    store
      .compact(() => {
        const now = Date.now();
        const { entries, sequence } = this.#core.snapshot("");
        return {
          entries: entries.map((message): StoredEntry => {
            const ttl = ttlOf(message);
            return { message, expiresAt: ttl === undefined ? undefined : now + ttl };
          }),
          sequence,
        };
      })
      .catch((error: Error) => this.fail(error));
  }

  #onCollector(frames: Message): void {
    const update = this.#decode("collector", frames);
    if (update === undefined) return;
    this.#stats.received++;
    const result = this.#core.receive(update);
    if (result.kind === "published") this.#publish(result.message);
    else if (result.kind === "refused") {
      this.logger.debug("update refused", { key: update.key, reason: result.reason });
      this.emit("update:refused", { key: update.key, reason: result.reason });
    }
  }

  #onSnapshotRequest(frames: Message): void {
    const [identity, ...body] = frames;
    let subtree: string;
    try {
      if (identity === undefined) throw new ZgError("ZG_PROTOCOL", "empty message");
      subtree = decodeIcanhaz(body).subtree;
    } catch (error) {
      this.#invalid("snapshot", error);
      return;
    }
    // In a pair, the request is a Binary Star vote: a passive server drops it,
    // unless the vote makes it active (pair:active republishes pending first).
    if (this.#pair !== undefined && !this.#pair.vote()) {
      this.#stats.snapshotsRefused++;
      return;
    }
    if (this.#core.mode !== "active") {
      this.#stats.snapshotsRefused++;
      return;
    }
    const { entries, sequence } = this.#core.snapshot(subtree);
    // With a data directory, the snapshot goes out once what it holds is on disk.
    const durable = this.#lastCommit;
    void this.track(durable.then(() => this.#stream(identity, subtree, entries, sequence)));
  }

  /**
   * Streams one snapshot, waiting (bounded) for a slow client's HWM rather
   * than dropping entries; KTHXBAI goes only after every entry was queued.
   */
  async #stream(
    identity: Buffer,
    subtree: string,
    entries: KvMsg[],
    sequence: bigint,
  ): Promise<void> {
    const loop = this.#snapshot;
    if (loop === undefined) return;
    this.#stats.snapshotStreams++;
    const deadline = performance.now() + this.#snapshotTimeout;
    let sent = 0;
    try {
      const BATCH = 256;
      let retry: KvMsg[] = [];
      for (let i = 0; i < entries.length || retry.length > 0;) {
        const batch = retry.length > 0 ? retry : entries.slice(i, (i += BATCH));
        retry = [];
        const outcomes = await Promise.all(
          batch.map((e) => loop.send([identity, ...encodeKvMsg(e)])),
        );
        for (let k = 0; k < batch.length; k++) {
          const outcome = outcomes[k];
          if (outcome === "sent") sent++;
          else if (outcome === "timeout" || outcome === "overflow") retry.push(batch[k] as KvMsg);
          else {
            this.#abandon(subtree, sent, "unreachable");
            return;
          }
        }
        if (retry.length > 0) {
          if (performance.now() > deadline || this.stopping) {
            this.#abandon(subtree, sent, "timeout");
            return;
          }
          await sleep(2);
        }
      }
      for (;;) {
        const outcome = await loop.send([
          identity,
          ...encodeKvMsg(kthxbai(sequence, subtree, entries.length, this.#run)),
        ]);
        if (outcome === "sent") break;
        if (outcome !== "timeout" || performance.now() > deadline || this.stopping) {
          this.#abandon(subtree, sent, outcome === "timeout" ? "timeout" : "unreachable");
          return;
        }
        await sleep(2);
      }
      this.#stats.snapshots++;
    } finally {
      this.#stats.snapshotStreams--;
    }
  }

  #abandon(subtree: string, sent: number, reason: "unreachable" | "timeout"): void {
    this.#stats.snapshotsAbandoned++;
    this.logger.info("snapshot abandoned", { subtree, sent, reason });
    this.emit("snapshot:abandoned", { subtree, sent, reason });
  }

  #sendHugz(): void {
    if (this.stopping) return;
    this.#stats.hugz++;
    this.#pub?.post(encodeKvMsg(hugz(this.#publishedSequence, Date.now(), this.#run)));
  }

  #flush(): void {
    if (this.stopping) return;
    for (const m of this.#core.flush()) this.#publish(m);
    this.#checkFollow();
  }

  // ---- HA pair ------------------------------------------------------------

  #onActive(from: BinaryStarState): void {
    this.#follow = undefined;
    const republished = this.#core.activate();
    for (const m of republished) this.#publish(m);
    this.logger.info("active", { from, republished: republished.length });
    this.emit("pair:active", { from, republished: republished.length });
  }

  #onPassive(from: BinaryStarState): void {
    this.#core.passivate();
    this.emit("pair:passive", { from });
    this.#syncFromPeer();
  }

  /** Passive: (re)starts copying the peer: wait for its stream, ask for its snapshot. */
  #syncFromPeer(): void {
    this.#follow = { state: "waiting", entries: [], buffer: [], since: this.#clock.now() };
    if (this.#peerConfirmed) this.#askPeer();
  }

  #askPeer(): void {
    if (this.#follow === undefined || this.#follow.state === "following") return;
    this.#follow = { state: "syncing", entries: [], buffer: [], since: this.#clock.now() };
    this.#peerSnapshot?.post(encodeIcanhaz(""));
  }

  /** Flush-cadence check of the follower: subscription wait and snapshot timeout. */
  #checkFollow(): void {
    const f = this.#follow;
    if (f === undefined || f.state === "following" || this.#core.mode === "active") return;
    const waited = this.#clock.now() - f.since;
    if (f.state === "waiting" && waited >= DEFAULT_SUBSCRIBE_WAIT) this.#askPeer();
    else if (f.state === "syncing" && waited >= DEFAULT_SERVER_TTL) this.#askPeer();
  }

  #onPeerPublished(frames: Message): void {
    const m = this.#decode("peer", frames);
    if (m === undefined) return;
    if (!this.#peerConfirmed) {
      this.#peerConfirmed = true;
      if (this.#follow?.state === "waiting") this.#askPeer();
    }
    const f = this.#follow;
    if (f === undefined || this.#core.mode === "active") return;
    if (f.state !== "following") {
      if (m.key !== HUGZ && f.buffer.length < DEFAULT_MAX_BUFFERED) f.buffer.push(m);
      return;
    }
    if (m.key === HUGZ) {
      if (m.sequence > this.#core.sequence) this.#syncFromPeer();
      return;
    }
    const result = this.#core.replicate(m);
    if (result === "applied") this.#record(m);
    else if (result === "gap") this.#syncFromPeer();
  }

  #onPeerSnapshot(frames: Message): void {
    const m = this.#decode("peer", frames);
    if (m === undefined) return;
    const f = this.#follow;
    if (f?.state !== "syncing" || this.#core.mode === "active") return;
    if (m.key !== KTHXBAI) {
      f.entries.push(m);
      return;
    }
    const count = m.properties.get("count");
    if (count !== undefined && Number(count) !== f.entries.length) {
      this.#syncFromPeer();
      return;
    }
    this.#core.load(f.entries, m.sequence, { exact: true });
    this.#publishedSequence = m.sequence;
    this.#maybeCompact(true);
    this.#follow = { state: "following" };
    this.#stats.peerSyncs++;
    for (const b of f.buffer) {
      const result = this.#core.replicate(b);
      if (result === "applied") this.#record(b);
      else if (result === "gap") {
        this.#syncFromPeer();
        return;
      }
    }
    this.emit("peer:synced", { sequence: this.#core.sequence, size: this.#core.size });
  }
}

/** The wall-clock expiry (epoch ms) of an applied message with a ttl. */
function expiryOf(message: KvMsg): number | undefined {
  const ttl = message.body.length === 0 ? undefined : ttlOf(message);
  return ttl === undefined ? undefined : Date.now() + ttl;
}

/** A restored entry with its ttl rewritten to what is left of it (at least 1 ms: it expires on the first flush). */
function restoredMessage(e: StoredEntry, now: number): KvMsg {
  if (e.expiresAt === undefined) return e.message;
  const properties = new Map(e.message.properties);
  properties.set("ttl", (Math.max(1, e.expiresAt - now) / 1000).toFixed(3));
  return { ...e.message, properties };
}
