import { randomUUID } from "node:crypto";
import {
  assertArgument,
  Component,
  durationOption,
  endpointsOption,
  integerOption,
  isZgError,
  type ComponentOptions,
  type Frame,
} from "@zg/core";
import { MajordomoClient } from "../majordomo/client.js";
import { MajordomoWorker } from "../majordomo/worker.js";
import {
  decodeTspRequest,
  decodeTspStatus,
  decodeTspUuid,
  encodeTspReply,
  TSP_ERROR,
  TSP_OK,
  TSP_PENDING,
  TSP_UNKNOWN,
} from "./protocol.js";
import { TitanicStore, type TitanicFsyncPolicy, type TitanicStoreStats } from "./store.js";

export { TSP_ERROR, TSP_OK, TSP_PENDING, TSP_UNKNOWN } from "./protocol.js";

/** Dispatcher wake-up period, ms: Guide `titanic` wakes at least once a second. */
export const DEFAULT_TITANIC_DISPATCH_INTERVAL = 1000;
/** Reply timeout when Titanic calls a real service, ms: Guide `titanic` `mmi.service` check, 1000 ms, 1 try. */
export const DEFAULT_TITANIC_DISPATCH_TIMEOUT = 1000;
/** Requests Titanic sends to services at once. The Guide sends one at a time; 4 here. */
export const DEFAULT_TITANIC_DISPATCH_CONCURRENCY = 4;

/**
 * Largest `titanic.request` body (the frames after the service name, summed),
 * bytes; a larger one is refused with `400` and a reason frame. Not in the
 * Guide (its `titanic` stores any size).
 */
export const DEFAULT_TITANIC_MAX_BODY = 16_777_216;

/** Options of {@link Titanic}. Durations in milliseconds. */
export interface TitanicOptions extends ComponentOptions {
  /** The Majordomo broker's endpoint. */
  broker: string;
  /** Directory of the durable store (created if missing). */
  directory: string;
  /** When the store fsyncs (see {@link TitanicFsyncPolicy}). @defaultValue "always" */
  fsync?: TitanicFsyncPolicy;
  /** fsync period of the `"interval"` policy. @defaultValue 100 */
  fsyncInterval?: number;
  /** Workers per Titanic service (concurrent `titanic.request` writes share fsyncs). @defaultValue 1 */
  workers?: number;
  /** Heartbeat interval of Titanic's workers; match the broker. @defaultValue 2500 (Guide `mdwrkapi`) */
  heartbeatInterval?: number;
  /** Heartbeat liveness of Titanic's workers. @defaultValue 3 */
  heartbeatLiveness?: number;
  /** Reconnect delay of Titanic's workers. @defaultValue 2500 (Guide `mdwrkapi`) */
  reconnectDelay?: number;
  /** Dispatcher wake-up period (retries of failed calls). @defaultValue {@link DEFAULT_TITANIC_DISPATCH_INTERVAL} */
  dispatchInterval?: number;
  /** Reply timeout of a call to a real service (one try per pass). @defaultValue {@link DEFAULT_TITANIC_DISPATCH_TIMEOUT} */
  dispatchTimeout?: number;
  /** Calls to real services in flight at once. @defaultValue {@link DEFAULT_TITANIC_DISPATCH_CONCURRENCY} */
  dispatchConcurrency?: number;
  /** Largest request body, bytes (see {@link DEFAULT_TITANIC_MAX_BODY}). @defaultValue {@link DEFAULT_TITANIC_MAX_BODY} */
  maxBody?: number;
  /** Compaction threshold of the store, bytes. @defaultValue 1048576 (`DEFAULT_TITANIC_COMPACT_MIN_BYTES`) */
  compactMinBytes?: number;
}

/** Counters of a {@link Titanic}. */
export interface TitanicStats {
  /** `titanic.request` acknowledged with 200. */
  accepted: number;
  /** Replies stored from real services. */
  completed: number;
  /** Calls to real services that failed (retried on a later pass). */
  dispatchFailures: number;
  /** `titanic.reply` answered. */
  replyQueries: number;
  /** `titanic.close` answered. */
  closes: number;
  /** Requests answered 500 (store failure or malformed request). */
  errors: number;
  /** `titanic.request` refused with 400 because the body exceeded `maxBody`. */
  tooLarge: number;
  /** Requests replayed from the store at start. */
  replayed: number;
  store: TitanicStoreStats | undefined;
}

/** Events of a {@link Titanic}. */
export interface TitanicEvents {
  "request:accepted": { uuid: string; service: string };
  "request:completed": { uuid: string; service: string };
}

/**
 * Titanic (Guide ch. 4, 9/TSP): disconnected reliability on top of
 * Majordomo. An MDP worker for `titanic.request`, `titanic.reply` and
 * `titanic.close`, and an MDP client of the real services. A request is on
 * disk (fsync by default) **before** its UUID is returned; pending requests
 * are replayed after a restart; the dispatcher retries failed calls on every
 * pass, forever. Execution is at-least-once: a crash between a service's reply
 * and its storage repeats the call after restart. `start()` fails with
 * `ZG_STORAGE` when another Titanic holds the directory (see
 * {@link TitanicStore}); a store failure (disk full …) answers `500` until it
 * clears; a body over `maxBody` is refused with `400` and a reason.
 *
 * @example
 * ```ts
 * const titanic = new Titanic({ broker, directory: "/var/lib/titanic" });
 * await titanic.start();
 * await titanic.close();
 * ```
 */
export class Titanic extends Component<TitanicEvents, TitanicStats> {
  readonly #o: TitanicOptions;
  readonly #broker: string;
  readonly #workers: number;
  readonly #dispatchInterval: number;
  readonly #dispatchTimeout: number;
  readonly #concurrency: number;
  #store: TitanicStore | undefined;
  readonly #inFlight = new Set<string>();
  readonly #idleClients: MajordomoClient[] = [];
  readonly #retryAfter = new Map<string, number>();
  readonly #stats = {
    accepted: 0,
    completed: 0,
    dispatchFailures: 0,
    replyQueries: 0,
    closes: 0,
    errors: 0,
    tooLarge: 0,
    replayed: 0,
  };
  readonly #maxBody: number;
  #pumping = false;

  constructor(options: TitanicOptions) {
    super("titanic", options);
    this.#broker = endpointsOption("broker", options.broker)[0] as string;
    assertArgument(
      typeof options.directory === "string" && options.directory.length > 0,
      "directory must be a path",
    );
    this.#workers = integerOption("workers", options.workers, 1, { min: 1, max: 64 });
    this.#dispatchInterval = durationOption(
      "dispatchInterval",
      options.dispatchInterval,
      DEFAULT_TITANIC_DISPATCH_INTERVAL,
      { min: 1 },
    );
    this.#dispatchTimeout = durationOption(
      "dispatchTimeout",
      options.dispatchTimeout,
      DEFAULT_TITANIC_DISPATCH_TIMEOUT,
      { min: 1 },
    );
    this.#concurrency = integerOption(
      "dispatchConcurrency",
      options.dispatchConcurrency,
      DEFAULT_TITANIC_DISPATCH_CONCURRENCY,
      { min: 1, max: 1024 },
    );
    this.#maxBody = integerOption("maxBody", options.maxBody, DEFAULT_TITANIC_MAX_BODY, {
      min: 1,
      max: 0xffff_0000,
    });
    this.#o = options;
  }

  stats(): TitanicStats {
    return { ...this.#stats, store: this.#store?.stats() };
  }

  protected async onStart(): Promise<void> {
    const o = this.#o;
    const store = await TitanicStore.open(o.directory, {
      ...(o.fsync === undefined ? {} : { fsync: o.fsync }),
      ...(o.fsyncInterval === undefined ? {} : { fsyncInterval: o.fsyncInterval }),
      ...(o.compactMinBytes === undefined ? {} : { compactMinBytes: o.compactMinBytes }),
      logger: this.logger,
    });
    this.#store = store;
    this.own(() => store.close());
    this.#stats.replayed = store.pending().length;
    for (let i = 0; i < this.#concurrency; i++) {
      const c = new MajordomoClient({
        broker: this.#broker,
        timeout: this.#dispatchTimeout,
        attempts: 1,
        logger: this.logger,
      });
      this.own(c);
      await c.start();
      this.#idleClients.push(c);
    }
    const common = {
      broker: this.#broker,
      logger: this.logger,
      ...(o.heartbeatInterval === undefined ? {} : { heartbeatInterval: o.heartbeatInterval }),
      ...(o.heartbeatLiveness === undefined ? {} : { heartbeatLiveness: o.heartbeatLiveness }),
      ...(o.reconnectDelay === undefined ? {} : { reconnectDelay: o.reconnectDelay }),
    };
    const services: [string, (body: Frame[]) => Promise<Frame[]>][] = [
      ["titanic.request", (b) => this.#onRequest(b)],
      ["titanic.reply", (b) => this.#onReply(b)],
      ["titanic.close", (b) => this.#onClose(b)],
    ];
    for (const [service, handler] of services) {
      for (let i = 0; i < this.#workers; i++) {
        const w = this.own(new MajordomoWorker({ ...common, service, handler }));
        await w.start();
      }
    }
    this.setInterval(() => this.#pump(), this.#dispatchInterval);
    this.#pump();
  }

  async #onRequest(body: Frame[]): Promise<Frame[]> {
    const req = decodeTspRequest(body);
    if (!req.ok) {
      this.#stats.errors++;
      return encodeTspReply(TSP_ERROR, req.reason);
    }
    if (req.bodyBytes > this.#maxBody) {
      this.#stats.tooLarge++;
      return encodeTspReply(
        TSP_UNKNOWN,
        `request body of ${req.bodyBytes} bytes exceeds the limit of ${this.#maxBody} bytes (maxBody)`,
      );
    }
    const uuid = randomUUID().replace(/-/g, "");
    try {
      // Resolves only once the whole record is written and fsynced (per policy): then the UUID goes out.
      await (this.#store as TitanicStore).putRequest(uuid, req.service, req.body);
    } catch (error) {
      this.#stats.errors++;
      this.logger.error("cannot store request", { error: String(error) });
      return encodeTspReply(TSP_ERROR, "cannot store the request; retry later");
    }
    this.#stats.accepted++;
    this.emit("request:accepted", { uuid, service: req.service });
    queueMicrotask(() => this.#pump());
    return encodeTspReply(TSP_OK, uuid);
  }

  async #onReply(body: Frame[]): Promise<Frame[]> {
    this.#stats.replyQueries++;
    const uuid = decodeTspUuid(body);
    const store = this.#store;
    const info = uuid === undefined ? undefined : store?.info(uuid);
    if (uuid === undefined || store === undefined || info === undefined)
      return encodeTspReply(TSP_UNKNOWN);
    if (!info.answered) return encodeTspReply(TSP_PENDING);
    try {
      const reply = await store.getReply(uuid);
      if (reply === undefined)
        return encodeTspReply(store.info(uuid) === undefined ? TSP_UNKNOWN : TSP_PENDING);
      return encodeTspReply(TSP_OK, ...reply);
    } catch (error) {
      this.#stats.errors++;
      this.logger.error("cannot read a stored reply", { uuid, error: String(error) });
      return encodeTspReply(TSP_ERROR);
    }
  }

  async #onClose(body: Frame[]): Promise<Frame[]> {
    this.#stats.closes++;
    const uuid = decodeTspUuid(body);
    if (uuid !== undefined) {
      this.#retryAfter.delete(uuid.toLowerCase());
      try {
        await this.#store?.remove(uuid);
      } catch (error) {
        // Not forgotten: the client retries the close later.
        this.#stats.errors++;
        this.logger.error("cannot close request", { error: String(error) });
        return encodeTspReply(TSP_ERROR);
      }
    }
    return encodeTspReply(TSP_OK);
  }

  /** Starts calls for pending requests while clients are free. */
  #pump(): void {
    const store = this.#store;
    if (this.#pumping || store === undefined || (!this.running && this.state !== "starting"))
      return;
    this.#pumping = true;
    try {
      const now = performance.now();
      for (const uuid of store.pendingKeys()) {
        if (this.#idleClients.length === 0) break;
        if (this.#inFlight.has(uuid) || (this.#retryAfter.get(uuid) ?? 0) > now) continue;
        const client = this.#idleClients.pop() as MajordomoClient;
        this.#inFlight.add(uuid);
        void this.#dispatch(client, store, uuid);
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #dispatch(client: MajordomoClient, store: TitanicStore, uuid: string): Promise<void> {
    let ok = false;
    try {
      const info = store.info(uuid);
      const e = info === undefined || info.answered ? undefined : await store.get(uuid);
      if (e === undefined || e.reply !== undefined) {
        ok = true; // closed or answered meanwhile
        return;
      }
      // Like the Guide, ask the broker first, so requests for absent services do not pile up
      // there; the broker answers mmi.* itself, so those go straight through.
      if (!e.service.startsWith("mmi.")) {
        const status = decodeTspStatus(await client.request("mmi.service", [e.service]));
        if (status !== TSP_OK) return;
      }
      const reply = await client.request(e.service, e.request);
      if (await store.putReply(uuid, reply)) {
        this.#stats.completed++;
        this.emit("request:completed", { uuid, service: e.service });
      }
      ok = true;
    } catch (error) {
      if (!isZgError(error)) this.logger.warn("dispatch failed", { uuid, error: String(error) });
    } finally {
      this.#inFlight.delete(uuid);
      this.#idleClients.push(client);
      if (ok) this.#retryAfter.delete(uuid);
      else {
        this.#stats.dispatchFailures++;
        this.#retryAfter.set(uuid, performance.now() + this.#dispatchInterval / 2);
      }
      if (this.running) queueMicrotask(() => this.#pump());
    }
  }
}
