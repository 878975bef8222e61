import { randomBytes } from "node:crypto";
import {
  assertArgument,
  bindAll,
  createRouter,
  durationOption,
  endpointsOption,
  integerOption,
  SocketLoop,
  validateEndpoint,
  type Clock,
  type Logger,
} from "@zg/core";
import type * as zmq from "zeromq";
import type { BrokerCore, BrokerCoreOptions } from "../broker-core.js";
import type { MajordomoBrokerEvents } from "../broker-types.js";
import {
  DEFAULT_MDP_FEDERATION_FORWARD_TIMEOUT,
  DEFAULT_MDP_FEDERATION_MAX_HOPS,
  DEFAULT_MDP_FEDERATION_PEER_LIVENESS,
  DEFAULT_MDP_FEDERATION_STATE_INTERVAL,
} from "./constants.js";
import { FederationCore, type PeeringLink } from "./federation-core.js";
import { PEER_NAME_PATTERN } from "./protocol.js";
import type { FederationStats } from "./types.js";

/** Federation options of a {@link MajordomoBroker} (`federation`). Durations in ms. */
export interface MajordomoFederationOptions {
  /** This broker's name, unique in the federation: its routing id towards peers (`[A-Za-z0-9._-]{1,64}`). */
  name: string;
  /** Endpoints to bind the peering ROUTER to; peers connect here (e.g. `tcp://*:5556`). */
  endpoints: string | readonly string[];
  /** Peers to connect to and overflow requests to: name → their peering endpoint. @defaultValue none */
  peers?: Readonly<Record<string, string>>;
  /**
   * Further broker names allowed to connect to us without being in `peers`
   * (the edge brokers below a core broker in a router tree); `"any"` = all.
   * Messages from other routing ids are ignored and counted (`impostors`).
   * @defaultValue none
   */
  accept?: readonly string[] | "any";
  /** State announcement interval. @defaultValue {@link DEFAULT_MDP_FEDERATION_STATE_INTERVAL} (Guide `peering1`) */
  stateInterval?: number;
  /** Missed announcements before a peer is lost. @defaultValue {@link DEFAULT_MDP_FEDERATION_PEER_LIVENESS} */
  peerLiveness?: number;
  /** Longest a peer may hold a forwarded request. @defaultValue {@link DEFAULT_MDP_FEDERATION_FORWARD_TIMEOUT} */
  forwardTimeout?: number;
  /** Broker-to-broker links a request may cross. @defaultValue {@link DEFAULT_MDP_FEDERATION_MAX_HOPS} */
  maxHops?: number;
}

interface Validated {
  name: string;
  endpoints: string[];
  peers: [string, string][];
  accept: readonly string[] | "any";
  stateInterval: number;
  peerLiveness: number;
  forwardTimeout: number;
  maxHops: number;
}

/** Validates {@link MajordomoFederationOptions} (constructor time). @internal */
export function federationOptions(o: MajordomoFederationOptions): Validated {
  assertArgument(
    typeof o.name === "string" && PEER_NAME_PATTERN.test(o.name),
    "federation.name must match [A-Za-z0-9._-]{1,64}",
  );
  const peers = Object.entries(o.peers ?? {});
  for (const [name, endpoint] of peers) {
    assertArgument(PEER_NAME_PATTERN.test(name), `federation peer name ${name} is invalid`);
    assertArgument(name !== o.name, "a broker cannot peer with itself");
    validateEndpoint(`federation.peers.${name}`, endpoint);
  }
  const accept = o.accept ?? [];
  assertArgument(
    accept === "any" ||
      (Array.isArray(accept) && accept.every((n: unknown) => typeof n === "string")),
    'federation.accept must be a list of names or "any"',
  );
  return {
    name: o.name,
    endpoints: endpointsOption("federation.endpoints", o.endpoints),
    peers,
    accept: accept === "any" ? "any" : [...peers.map(([n]) => n), ...accept],
    stateInterval: durationOption(
      "federation.stateInterval",
      o.stateInterval,
      DEFAULT_MDP_FEDERATION_STATE_INTERVAL,
      { min: 10 },
    ),
    peerLiveness: integerOption(
      "federation.peerLiveness",
      o.peerLiveness,
      DEFAULT_MDP_FEDERATION_PEER_LIVENESS,
      { min: 1, max: 1000 },
    ),
    forwardTimeout: durationOption(
      "federation.forwardTimeout",
      o.forwardTimeout,
      DEFAULT_MDP_FEDERATION_FORWARD_TIMEOUT,
      { min: 1 },
    ),
    maxHops: integerOption("federation.maxHops", o.maxHops, DEFAULT_MDP_FEDERATION_MAX_HOPS, {
      min: 1,
      max: 16,
    }),
  };
}

/**
 * The thin socket shell of the federation: a bound peering ROUTER (`in`:
 * peers' requests and state arrive, replies leave) and a connecting one
 * (`out`: our requests and state leave, replies arrive), both with the
 * broker's name as routing id — the Guide's `cloudfe`/`cloudbe` cross-over.
 * All decisions are {@link FederationCore}'s.
 *
 * @internal
 */
export class Federation {
  readonly #v: Validated;
  readonly #core: FederationCore;
  readonly #logger: Logger;
  readonly #maxMessageSize: number | undefined;
  #broker: BrokerCore | undefined;
  #in: SocketLoop | undefined;
  #out: SocketLoop | undefined;
  #sockets: zmq.Router[] = [];
  #bound: string[] = [];
  readonly #linger: number;

  constructor(
    v: Validated,
    env: {
      clock: Clock | undefined;
      /** The broker's `linger`, ms. */
      linger: number;
      logger: Logger;
      maxServices: number;
      maxMessageSize: number | undefined;
      emit: <K extends keyof MajordomoBrokerEvents>(
        type: K,
        event: MajordomoBrokerEvents[K],
      ) => void;
    },
  ) {
    this.#v = v;
    this.#logger = env.logger;
    this.#maxMessageSize = env.maxMessageSize;
    this.#linger = env.linger;
    const broker = (): BrokerCore => this.#broker as BrokerCore;
    this.#core = new FederationCore({
      name: v.name,
      peers: v.peers.map(([n]) => n),
      accept: v.accept,
      stateInterval: v.stateInterval,
      peerLiveness: v.peerLiveness,
      forwardTimeout: v.forwardTimeout,
      maxHops: v.maxHops,
      maxServices: env.maxServices,
      epoch: randomBytes(8).toString("hex"),
      ...(env.clock === undefined ? {} : { clock: env.clock }),
      logger: env.logger,
      send: (link, m) => {
        if (link === "in") this.#in?.post(m);
        else if (m[2]?.toString("latin1") === "STATE") {
          // Its outcome tells whether our link to the peer works (failures also reach onSendFailure).
          void this.#out?.send(m).then((outcome) => {
            if (outcome === "sent") this.#core.delivered("out", m);
          });
        } else this.#out?.post(m);
      },
      local: () => broker().localCapacity(),
      broker: {
        replied: (t, c, b) => broker().forwardReplied(t, c, b),
        failed: (t) => broker().forwardFailed(t),
        capacity: (s) => broker().offerCapacity(s),
        submit: (s, b, o) => broker().handlePeerRequest(s, b, o),
      },
      emit: (type, event) => env.emit(type, event as never),
    });
  }

  /** The broker core hooks. */
  hooks(): Pick<
    BrokerCoreOptions,
    "overflow" | "capacityChanged" | "federatedWorkers" | "federatedServices"
  > {
    return {
      overflow: (r) => this.#core.overflow(r),
      capacityChanged: () => this.#core.localChanged(),
      federatedWorkers: (s) => this.#core.workers(s),
      federatedServices: () => this.#core.services(),
    };
  }

  /** Binds and connects the peering sockets and starts the state flow. */
  async start(broker: BrokerCore): Promise<string[]> {
    this.#broker = broker;
    const router = (handover: boolean): zmq.Router => {
      const s = createRouter({
        linger: this.#linger,
        routingId: this.#v.name,
        handover,
        ...(this.#maxMessageSize === undefined ? {} : { maxMessageSize: this.#maxMessageSize }),
      });
      this.#sockets.push(s);
      return s;
    };
    // A restarted peer takes over its name on our bound socket at once.
    const inbound = router(true);
    const outbound = router(false);
    this.#bound = await bindAll(inbound, this.#v.endpoints);
    for (const [, endpoint] of this.#v.peers) outbound.connect(endpoint);
    const loop = (socket: zmq.Router, link: PeeringLink): SocketLoop =>
      new SocketLoop(socket, {
        name: `majordomo-federation-${link}`,
        logger: this.#logger,
        onMessage: (m) => this.#core.handle(link, m),
        onSendFailure: (m, outcome) => {
          if (outcome !== "closed")
            this.#core.sendFailed(link, m, outcome === "unreachable" ? "unreachable" : "other");
        },
      });
    this.#in = loop(inbound, "in");
    this.#out = loop(outbound, "out");
    this.#in.start();
    this.#out.start();
    this.#core.start();
    this.#logger.info("majordomo federation started", {
      name: this.#v.name,
      endpoints: this.#bound,
      peers: Object.fromEntries(this.#v.peers),
    });
    return [...this.#bound];
  }

  /** Requests in peers' hands. */
  get inFlight(): number {
    return this.#core.inFlight;
  }

  /** Federation figures. */
  stats(): FederationStats {
    return { ...this.#core.stats(), endpoints: [...this.#bound] };
  }

  /** Stops the state flow and closes both peering sockets. */
  async close(): Promise<void> {
    this.#core.close();
    await Promise.all([this.#in?.close(), this.#out?.close()]);
    for (const s of this.#sockets) if (!s.closed) s.close();
  }
}
