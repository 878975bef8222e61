import {
  Component,
  durationOption,
  systemClock,
  ZgError,
  type Clock,
  type ComponentOptions,
  type Frame,
  type FrameLike,
} from "@zg/core";
import { AsyncMajordomoClient, DEFAULT_MDP_CLIENT_TIMEOUT } from "@zg/pirate";

/** How long a service lookup (8/MMI `mmi.service`) is trusted, ms (project-chosen). */
export const DEFAULT_MDP_GATEWAY_SERVICE_CACHE = 1000;
/** Service names the lookup cache holds before it starts afresh (project-chosen). */
export const MAX_MDP_GATEWAY_CACHED_SERVICES = 10_000;

/** Why a gateway request got no reply. */
export type MdpFailureCode = "unknown-service" | "timeout" | "unavailable";

/** What {@link MdpGateway.request} resolves with: a reply, or a failure to tell the client. */
export type MdpOutcome =
  { ok: true; reply: Frame[] } | { ok: false; code: MdpFailureCode; message: string };

/**
 * Maps an error of `AsyncMajordomoClient.request` to a failure a bridge tells
 * its client: `ZG_TIMEOUT`/`ZG_RETRIES_EXHAUSTED` → `timeout`, anything else
 * → `unavailable`. Pure.
 */
export function mdpFailure(
  error: unknown,
  service: string,
  timeout: number,
): Extract<MdpOutcome, { ok: false }> {
  if (
    ZgError.isInstance(error) &&
    (error.code === "ZG_TIMEOUT" || error.code === "ZG_RETRIES_EXHAUSTED")
  )
    return { ok: false, code: "timeout", message: `no reply from ${service} within ${timeout} ms` };
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, code: "unavailable", message: message.replace(/[\r\n]/g, " ") };
}

/**
 * The answers of service lookups, each trusted for `ttl` ms on `clock`; at
 * most {@link MAX_MDP_GATEWAY_CACHED_SERVICES} names (then it starts afresh).
 * Pure: no sockets.
 */
export class ServiceCache {
  readonly #known = new Map<string, { ok: boolean; at: number }>();

  constructor(
    readonly ttl: number,
    readonly clock: Clock = systemClock,
  ) {}

  /** The cached answer for `service`, or `undefined` when unknown or older than `ttl`. */
  get(service: string): boolean | undefined {
    const hit = this.#known.get(service);
    return hit !== undefined && this.clock.now() - hit.at < this.ttl ? hit.ok : undefined;
  }

  /** Remembers whether `service` exists, from now. */
  set(service: string, ok: boolean): void {
    if (this.#known.size >= MAX_MDP_GATEWAY_CACHED_SERVICES) this.#known.clear();
    this.#known.set(service, { ok, at: this.clock.now() });
  }

  /** Names held now. */
  get size(): number {
    return this.#known.size;
  }
}

/** Options of {@link MdpGateway}. Durations in ms. */
export interface MdpGatewayOptions extends ComponentOptions {
  /** The Majordomo broker's endpoint. */
  broker: string;
  /** Default reply timeout. @defaultValue `DEFAULT_MDP_CLIENT_TIMEOUT` (2500 ms, Guide `mdcliapi`) */
  timeout?: number;
  /** @defaultValue {@link DEFAULT_MDP_GATEWAY_SERVICE_CACHE} */
  serviceCache?: number;
}

/**
 * The Majordomo side of a bridge: an `AsyncMajordomoClient` for requests and
 * a second, FIFO-matched (`correlate: false`) one for 8/MMI `mmi.service`
 * lookups (the broker answers MMI itself, without echoing a correlation
 * frame), the lookups cached {@link DEFAULT_MDP_GATEWAY_SERVICE_CACHE} ms, and
 * errors mapped to {@link MdpOutcome} failures. Used by `zg-ws-bridge` and
 * `zg-tcp-bridge`.
 */
export class MdpGateway extends Component<Record<never, never>, Record<never, never>> {
  readonly #broker: string;
  readonly #timeout: number;
  readonly #cache: ServiceCache;
  #client: AsyncMajordomoClient | undefined;
  #mmi: AsyncMajordomoClient | undefined;

  constructor(options: MdpGatewayOptions) {
    super("MdpGateway", options);
    this.#broker = options.broker;
    this.#timeout = durationOption("timeout", options.timeout, DEFAULT_MDP_CLIENT_TIMEOUT, {
      min: 1,
    });
    this.#cache = new ServiceCache(
      durationOption("serviceCache", options.serviceCache, DEFAULT_MDP_GATEWAY_SERVICE_CACHE),
    );
  }

  stats(): Record<never, never> {
    return {};
  }

  protected async onStart(): Promise<void> {
    const make = (correlate: boolean): AsyncMajordomoClient =>
      this.own(
        new AsyncMajordomoClient({
          broker: this.#broker,
          timeout: this.#timeout,
          correlate,
          logger: this.logger,
        }),
      );
    const client = make(true);
    const mmi = make(false);
    await Promise.all([client.start(), mmi.start()]);
    this.#client = client;
    this.#mmi = mmi;
  }

  /** 8/MMI `mmi.service`, cached. Rejects as `AsyncMajordomoClient.request` does. */
  async exists(service: string): Promise<boolean> {
    const hit = this.#cache.get(service);
    if (hit !== undefined) return hit;
    const mmi = this.#mmi;
    if (mmi === undefined) return false;
    const [code] = await mmi.request("mmi.service", [service]);
    const ok = code?.toString() === "200";
    this.#cache.set(service, ok);
    return ok;
  }

  /**
   * Sends one request (after a cached 8/MMI lookup when `checkService`, the
   * default) and resolves with the reply or a failure; never rejects.
   */
  async request(
    service: string,
    body: readonly FrameLike[],
    options: { timeout?: number; checkService?: boolean } = {},
  ): Promise<MdpOutcome> {
    const client = this.#client;
    const timeout = options.timeout ?? this.#timeout;
    if (client === undefined || !this.running)
      return { ok: false, code: "unavailable", message: "the bridge is stopping" };
    try {
      if ((options.checkService ?? true) && !(await this.exists(service)))
        return { ok: false, code: "unknown-service", message: `no worker for ${service}` };
      return { ok: true, reply: await client.request(service, body, { timeout }) };
    } catch (error) {
      return mdpFailure(error, service, timeout);
    }
  }
}
