import {
  abortError,
  assertArgument,
  Component,
  durationOption,
  endpointsOption,
  integerOption,
  isZgError,
  ZgError,
  type ComponentOptions,
} from "@zg/core";
import { FreelanceFlpClient } from "@zg/pirate";
import type { Socket } from "zeromq";
import { agentEndpoint } from "../agent/zns-agent.js";
import { decodeAnswer, encodeLookup, type Resolution } from "../agent/protocol.js";
import { isLogicalName } from "../names/names-file.js";
import { mapEndpoint, type HostLookup } from "./dns.js";

/** Time a lookup may take, 3000 ms: Guide `flcliapi` `GLOBAL_TIMEOUT` (requests are re-sent within it). */
export const DEFAULT_RESOLVE_TIMEOUT = 3000;
/** How often a socket connected by name re-resolves it, 500 ms (project choice). */
export const DEFAULT_FOLLOW_INTERVAL = 500;
/** Most answers kept in the in-process cache, 1000. */
export const DEFAULT_CACHE_ENTRIES = 1000;

/** Options of {@link ZnsClient}. Durations in ms. */
export interface ZnsClientOptions extends ComponentOptions {
  /** The agent's lookup endpoint(s), in priority order. @defaultValue {@link agentEndpoint}() */
  agent?: string | readonly string[];
  /** Environment of lookups that name none. @defaultValue the agent's */
  env?: string;
  /** Per-lookup timeout. @defaultValue {@link DEFAULT_RESOLVE_TIMEOUT} */
  timeout?: number;
  /** Answers kept in process (each for its `ttl`); 0 = no cache. @defaultValue {@link DEFAULT_CACHE_ENTRIES} */
  cacheEntries?: number;
  /** Re-resolve interval of {@link ZnsClient.connectByName} with `follow`. @defaultValue {@link DEFAULT_FOLLOW_INTERVAL} */
  followInterval?: number;
  /** Host-name lookup for {@link ZnsClient.bindByName}. @defaultValue `node:dns` `lookup` */
  lookup?: HostLookup;
}

/** Options of one lookup. */
export interface ResolveOptions {
  /** Environment ("test", "production", …). @defaultValue the client's `env`, else the agent's */
  env?: string;
  /** Overrides the client's timeout, ms. */
  timeout?: number;
  /** Aborts the lookup (`ZG_ABORTED`). */
  signal?: AbortSignal;
  /** Skip the in-process cache. @defaultValue false */
  fresh?: boolean;
}

/** Options of {@link ZnsClient.connectByName}. */
export interface ConnectByNameOptions extends ResolveOptions {
  /** Keep following the name: connect new endpoints, disconnect removed ones. @defaultValue true */
  follow?: boolean;
}

/** What {@link ZnsClient.resolve} returns: the agent's answer. */
export type ResolveResult = Resolution;

/** Events of {@link ZnsClient}. */
export interface ZnsClientEvents {
  /** A socket connected by name moved to new endpoints. */
  "name:changed": { name: string; connect: string[] };
  /** A re-resolve of a followed name failed; the socket keeps its endpoints. */
  "request:failed": { name: string; error: Error };
}

/** Stats of {@link ZnsClient}. */
export interface ZnsClientStats {
  lookups: number;
  cacheHits: number;
  agentRequests: number;
  failures: number;
  staleAnswers: number;
  /** Sockets connected by name and followed now (a level). */
  connected: number;
}

/** A socket connected by name; `close()` stops following (the socket stays connected and is the caller's). */
export interface NameConnection {
  /** The endpoints the socket is connected to now. */
  readonly endpoints: readonly string[];
  /** Stops following the name. */
  close(): void;
}

/**
 * Resolves logical names through the local {@link ZnsAgent} over `ipc://`
 * with 10/FLP (Freelance model 3: re-sent within the timeout, so a restarted
 * agent still answers), caches answers in process for their `ttl`, and
 * connects or binds zeromq sockets by name, mapping host names the way
 * libzmq cannot ({@link mapEndpoint}).
 *
 * @example
 * ```ts
 * const zns = new ZnsClient();
 * await zns.start();
 * const { connect, stale } = await zns.resolve("broker", { env: "test" });
 * await zns.close();
 * ```
 */
export class ZnsClient extends Component<ZnsClientEvents, ZnsClientStats> {
  readonly #agents: readonly string[];
  readonly #env: string | undefined;
  readonly #timeout: number;
  readonly #cacheEntries: number;
  readonly #followInterval: number;
  readonly #lookup: HostLookup | undefined;
  #flp: FreelanceFlpClient | undefined;
  readonly #cache = new Map<string, { answer: Resolution; expires: number }>();
  readonly #inflight = new Map<string, Promise<Resolution>>();
  readonly #follows = new Set<() => void>();
  readonly #stats = { lookups: 0, cacheHits: 0, agentRequests: 0, failures: 0, staleAnswers: 0 };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: ZnsClientOptions = {}) {
    super("ZnsClient", options);
    this.#agents = endpointsOption("agent", options.agent ?? agentEndpoint());
    assertArgument(
      options.env === undefined || isLogicalName(options.env),
      "env: not a valid environment name",
    );
    this.#env = options.env;
    this.#timeout = durationOption("timeout", options.timeout, DEFAULT_RESOLVE_TIMEOUT, { min: 1 });
    this.#cacheEntries = integerOption(
      "cacheEntries",
      options.cacheEntries,
      DEFAULT_CACHE_ENTRIES,
      { min: 0 },
    );
    this.#followInterval = durationOption(
      "followInterval",
      options.followInterval,
      DEFAULT_FOLLOW_INTERVAL,
      { min: 10 },
    );
    this.#lookup = options.lookup;
  }

  protected async onStart(): Promise<void> {
    const flp = this.own(
      new FreelanceFlpClient(
        { servers: this.#agents, timeout: this.#timeout, logger: this.logger },
        "ZnsClient.flp",
      ),
    );
    await flp.start();
    this.#flp = flp;
    this.own(() => {
      for (const stop of this.#follows) stop();
    });
  }

  stats(): ZnsClientStats {
    return { ...this.#stats, connected: this.#follows.size };
  }

  /**
   * Resolves `name` for `env`: `{ connect, bind, source, stale, ttl }`, from
   * the in-process cache while the answer's `ttl` lasts, else from the agent.
   *
   * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad name (synchronously
   * checked), `ZG_UNREACHABLE` for a name the agent does not know (details
   * `{ name, code: "404" }`), `ZG_TIMEOUT` when no agent answered in time,
   * `ZG_ABORTED`, `ZG_PROTOCOL` for a malformed answer, `ZG_STATE` when not running.
   */
  resolve(name: string, options: ResolveOptions = {}): Promise<ResolveResult> {
    assertArgument(
      isLogicalName(name),
      `name: not a valid logical name: ${String(name).slice(0, 64)}`,
    );
    const env = options.env ?? this.#env ?? "";
    assertArgument(env === "" || isLogicalName(env), "env: not a valid environment name");
    this.assertRunning("resolve");
    this.#stats.lookups++;
    const key = `${env}\u0000${name}`;
    if (options.fresh !== true) {
      const hit = this.#cache.get(key);
      if (hit !== undefined && hit.expires > performance.now()) {
        this.#stats.cacheHits++;
        return Promise.resolve(copy(hit.answer));
      }
      const pending = this.#inflight.get(key);
      if (pending !== undefined && options.signal === undefined) return pending.then(copy);
    }
    const work = this.#ask(name, env, options).finally(() => this.#inflight.delete(key));
    if (options.signal === undefined) this.#inflight.set(key, work);
    return work.then(copy);
  }

  async #ask(name: string, env: string, options: ResolveOptions): Promise<Resolution> {
    this.#stats.agentRequests++;
    let reply;
    try {
      if (options.signal?.aborted) throw abortError(options.signal);
      reply = await this.#flp!.request(encodeLookup(name, env), {
        ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (e) {
      this.#stats.failures++;
      throw e;
    }
    const answer = decodeAnswer(reply);
    if (typeof answer === "string") {
      this.#stats.failures++;
      throw new ZgError("ZG_PROTOCOL", `agent: ${answer}`, { details: { name } });
    }
    if ("code" in answer) {
      this.#stats.failures++;
      if (answer.code === "404")
        throw new ZgError("ZG_UNREACHABLE", `no endpoints known for name ${name}`, {
          details: { name, env, code: "404" },
        });
      throw new ZgError(
        "ZG_PROTOCOL",
        `agent refused the lookup: ${answer.code} ${answer.reason}`,
        {
          details: { name, code: answer.code },
        },
      );
    }
    if (answer.stale) this.#stats.staleAnswers++;
    if (this.#cacheEntries > 0 && answer.ttl > 0) {
      if (this.#cache.size >= this.#cacheEntries) {
        const oldest = this.#cache.keys().next();
        if (oldest.done !== true) this.#cache.delete(oldest.value);
      }
      this.#cache.set(`${env}\u0000${name}`, { answer, expires: performance.now() + answer.ttl });
    }
    return answer;
  }

  /**
   * Connects `socket` to every `connect` endpoint of `name` and, with
   * `follow` (the default), re-resolves every `followInterval` ms: new
   * endpoints are connected, removed ones disconnected. The socket stays the
   * caller's; close the returned handle (or the client) to stop following.
   *
   * @throws as {@link resolve}; `ZG_UNREACHABLE` when the name has no connect endpoints.
   */
  async connectByName(
    socket: Socket,
    name: string,
    options: ConnectByNameOptions = {},
  ): Promise<NameConnection> {
    const first = await this.resolve(name, options);
    if (first.connect.length === 0)
      throw new ZgError("ZG_UNREACHABLE", `name ${name} has no connect endpoints`, {
        details: { name },
      });
    let current: string[] = [];
    const apply = async (wanted: readonly string[]): Promise<void> => {
      const mapped = await Promise.all(wanted.map((e) => mapEndpoint(e, "connect", this.#lookup)));
      for (const e of current) if (!mapped.includes(e)) socket.disconnect(e);
      for (const e of mapped) if (!current.includes(e)) socket.connect(e);
      current = mapped;
    };
    await apply(first.connect);
    let stopped = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    const stop = (): void => {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      this.#follows.delete(stop);
    };
    if (options.follow !== false) {
      let busy = false;
      const { follow: _follow, signal: _signal, ...lookupOptions } = options;
      timer = setInterval(() => {
        if (busy || stopped || !this.accepting) return;
        busy = true;
        this.resolve(name, lookupOptions)
          .then(async (r) => {
            if (stopped || r.connect.length === 0) return;
            const before = current;
            await apply(r.connect);
            if (before.join(" ") !== current.join(" "))
              this.emit("name:changed", { name, connect: [...current] });
          })
          .catch((error: unknown) => {
            if (stopped) return;
            if (socket.closed) return stop();
            if (!isZgError(error, "ZG_STATE"))
              this.emit("request:failed", { name, error: error as Error });
          })
          .finally(() => {
            busy = false;
          });
      }, this.#followInterval);
      this.#follows.add(stop);
    }
    return {
      get endpoints() {
        return [...current];
      },
      close: stop,
    };
  }

  /**
   * Binds `socket` to every `bind` endpoint of `name` (host names looked up
   * with `node:dns`, as libzmq binds only addresses and interfaces). Resolves
   * with the endpoints actually bound (`lastEndpoint` for wildcard ports).
   *
   * @throws as {@link resolve}; `ZG_UNREACHABLE` when the name has no bind endpoints; the bind's own error.
   */
  async bindByName(socket: Socket, name: string, options: ResolveOptions = {}): Promise<string[]> {
    const r = await this.resolve(name, options);
    if (r.bind.length === 0)
      throw new ZgError("ZG_UNREACHABLE", `name ${name} has no bind endpoints`, {
        details: { name },
      });
    const bound: string[] = [];
    for (const e of r.bind) {
      const mapped = await mapEndpoint(e, "bind", this.#lookup);
      await socket.bind(mapped);
      bound.push(/:(\*|0)$/.test(mapped) ? (socket.lastEndpoint ?? mapped) : mapped);
    }
    return bound;
  }
}

function copy(r: Resolution): Resolution {
  return { ...r, connect: [...r.connect], bind: [...r.bind] };
}

let shared: { client: ZnsClient; ready: Promise<void> } | undefined;

function defaultClient(): Promise<ZnsClient> {
  if (
    shared === undefined ||
    shared.client.state === "closed" ||
    shared.client.state === "closing"
  ) {
    const client = new ZnsClient();
    shared = { client, ready: client.start() };
  }
  const { client, ready } = shared;
  return ready.then(() => client);
}

/**
 * Resolves `name` through the default agent ({@link agentEndpoint}) with a
 * shared {@link ZnsClient}, started on first use; {@link closeDefaultClient}
 * releases it.
 *
 * @example
 * ```ts
 * const { connect } = await resolve("broker", { env: "test" });
 * ```
 */
export async function resolve(name: string, options: ResolveOptions = {}): Promise<ResolveResult> {
  return (await defaultClient()).resolve(name, options);
}

/** {@link ZnsClient.connectByName} with the shared default client. */
export async function connectByName(
  socket: Socket,
  name: string,
  options: ConnectByNameOptions = {},
): Promise<NameConnection> {
  return (await defaultClient()).connectByName(socket, name, options);
}

/** {@link ZnsClient.bindByName} with the shared default client. */
export async function bindByName(
  socket: Socket,
  name: string,
  options: ResolveOptions = {},
): Promise<string[]> {
  return (await defaultClient()).bindByName(socket, name, options);
}

/** Closes the shared client of {@link resolve}, {@link connectByName} and {@link bindByName}. */
export async function closeDefaultClient(): Promise<void> {
  const s = shared;
  shared = undefined;
  await s?.client.close();
}
