import * as zmq from "zeromq";
import {
  bindAll,
  Component,
  createRouter,
  createSocket,
  durationOption,
  EMPTY_FRAME,
  endpointsOption,
  isZgError,
  lingerOption,
  ProtocolError,
  SocketLoop,
  splitEnvelope,
  systemClock,
  ZgError,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type Frame,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { replyFrames, type RequestHandler } from "../common/handler.js";
import {
  BinaryStarFsm,
  BSTAR_STATE_CODES,
  decodeBinaryStarState,
  DEFAULT_BSTAR_HEARTBEAT,
  encodeBinaryStarState,
  type BinaryStarEvent,
  type BinaryStarRole,
  type BinaryStarSplit,
  type BinaryStarState,
  type BinaryStarStep,
} from "./fsm.js";
import { decodeWitnessView } from "./witness.js";

/** Largest state or witness message accepted, bytes; bigger ones disconnect the sender (ZMQ_MAXMSGSIZE). */
export const BSTAR_MAX_STATE_MESSAGE = 64;

/** The optional built-in voter: a ROUTER the component owns, serving requests through `handler`. */
export interface BinaryStarFrontendOptions {
  /**
   * Endpoints the request ROUTER binds (Guide: 5001 primary, 5002 backup).
   * Required; the deprecated `bind` is read when it is absent.
   */
  endpoints?: string | readonly string[];
  /** @deprecated Since 0.2: use {@link BinaryStarFrontendOptions.endpoints} (same meaning). */
  bind?: string | readonly string[];
  /**
   * Serves one request body (the frames after the empty delimiter); its
   * result is the reply body. Called only for requests the pair accepts.
   */
  handler: RequestHandler;
}

/** Options of {@link BinaryStar}. Durations in milliseconds. */
export interface BinaryStarOptions extends ComponentOptions, LingerOptions {
  /** Which of the pair this server is. */
  role: BinaryStarRole;
  /**
   * Endpoint the state PUB binds (Guide: 5003 primary, 5004 backup); named
   * like its list in {@link BinaryStarEndpoints}. Required; the deprecated
   * `stateBind` is read when it is absent.
   */
  state?: string;
  /** @deprecated Since 0.2: use {@link BinaryStarOptions.state} (same meaning). */
  stateBind?: string;
  /** The peer's state PUB endpoint, which the state SUB connects to (Guide: primary → 5004, backup → 5003). */
  peer: string;
  /** State-publish interval; the peer expires after 2 × heartbeat. @defaultValue {@link DEFAULT_BSTAR_HEARTBEAT} (1000) */
  heartbeat?: number;
  /**
   * Endpoint of a {@link BinaryStarWitness}'s PUB (beyond the Guide). With a
   * witness, a vote makes this server active only while the witness is
   * reachable (heard within 2 × heartbeat) and reports the peer as silent too,
   * so a cut peer link alone never makes a second active server.
   */
  witness?: string;
  /** A request ROUTER owned by the component (the voter); omit and call {@link BinaryStar.vote} from your own socket instead. */
  frontend?: BinaryStarFrontendOptions;
  /** Stall guard (see {@link BinaryStarFsm}). @defaultValue true */
  stallGuard?: boolean;
  /** Time source of the FSM. @defaultValue systemClock */
  clock?: Clock;
}

/**
 * What {@link BinaryStar.start} resolves with: the real bound endpoints, in
 * the `{ endpoints }` shape of every bound component (`BoundEndpoints` from
 * `@zg/core`) plus one named list for the state side.
 */
export interface BinaryStarEndpoints extends BoundEndpoints {
  /** The request ROUTER endpoints, where clients connect (empty without the `frontend` option). */
  endpoints: string[];
  /** The state PUB endpoint (one), where the peer's SUB connects. */
  state: string[];
  /** @deprecated Use `endpoints` (the same list). */
  frontend: string[];
}

/** Counters of a {@link BinaryStar}. */
export interface BinaryStarStats {
  /** Current FSM state as its wire code, 1 primary, 2 backup, 3 active, 4 passive (a metric-friendly number). */
  state: number;
  /** 1 while the peer counts as alive (a valid state heard within 2 × heartbeat), else 0. */
  peerAlive: number;
  /** Transitions into `active` from `passive` or from the initial state on a vote: failovers (and the primary's lone start). */
  failovers: number;
  /** Transitions into `active` for any reason. */
  activations: number;
  /** Transitions into `passive`. */
  passivations: number;
  /** State messages published. */
  statesSent: number;
  /** Valid state messages received from the peer. */
  statesReceived: number;
  /** State messages dropped as malformed (wrong frame count, not "1".."4"). */
  badStates: number;
  /** Requests accepted (served). */
  votesAccepted: number;
  /** Requests dropped because this server is not active. */
  votesDropped: number;
  /** Split brains detected (dual-active, dual-passive). */
  splits: number;
  /** Stalls noticed by the stall guard. */
  stalls: number;
  /** Witness messages received. */
  witnessMessages: number;
  /** Witness messages dropped as malformed. */
  badWitness: number;
  /** Takeovers refused by the witness check. */
  witnessVetoes: number;
  /** Requests on the built-in frontend dropped as malformed (no delimiter, no body). */
  badRequests: number;
  /** Handler calls that threw or rejected (the request gets no reply). */
  handlerErrors: number;
}

/** Events of a {@link BinaryStar} (a closed map). */
export type BinaryStarEvents = {
  /** The FSM moved; `cause` is the event (or `stall` for the stall guard). */
  "state:changed": { from: BinaryStarState; to: BinaryStarState; cause: BinaryStarEvent | "stall" };
  /** This server became active: serve requests from now on. */
  "pair:active": { from: BinaryStarState; cause: BinaryStarEvent | "stall" };
  /** This server became passive: requests are dropped. */
  "pair:passive": { from: BinaryStarState; cause: BinaryStarEvent | "stall" };
  /** A split brain was detected; fatal: the component closes and `closed` resolves with a `ZG_STATE` error. */
  "pair:split": { kind: BinaryStarSplit; state: BinaryStarState };
  /** The stall guard found that this process had been frozen for `gap` ms and restarted the FSM. */
  "pair:stalled": { gap: number; from: BinaryStarState };
  /** Bad input on the state SUB, the witness SUB or the frontend: counted and dropped. */
  "protocol:invalid": { socket: "state" | "witness" | "frontend"; reason: string };
};

/**
 * The Guide's Binary Star high-availability pair (ch. 4, "High-Availability
 * Pair"; `bstar.py`, `bstarsrv2.py`): a primary and a backup exchange their
 * state over PUB/SUB every heartbeat (one frame, "1".."4"); client requests
 * arriving at the active server are served, at the passive one they are
 * votes: once the peer has been silent for 2 × heartbeat, a vote makes the
 * passive server active (failover). A split brain (both active, or both
 * passive) is fatal: the component logs it, emits `pair:split` and closes, so
 * it never keeps serving on both sides.
 *
 * The application keeps its own request socket and asks {@link vote} per
 * request (serve when true, drop when false), or passes `frontend` and lets
 * the component own the ROUTER.
 *
 * @example
 * ```ts
 * const pair = new BinaryStar({
 *   role: "primary", stateBind: "tcp://*:5003", peer: "tcp://backup:5004",
 *   frontend: { bind: "tcp://*:5001", handler: (body) => body },
 * });
 * pair.on("pair:active", () => logger.info("serving"));
 * await pair.start();
 * ```
 */
export class BinaryStar extends Component<BinaryStarEvents, BinaryStarStats, BinaryStarEndpoints> {
  readonly #linger: number;
  /** Which of the pair this server is. */
  readonly role: BinaryStarRole;
  /** State-publish interval, ms. */
  readonly heartbeat: number;
  readonly #stateEndpoint: string;
  readonly #options: BinaryStarOptions;
  readonly #clock: Clock;
  readonly #handler: RequestHandler | undefined;
  #fsm: BinaryStarFsm;
  #pub: SocketLoop | undefined;
  #frontend: SocketLoop | undefined;
  #witnessSeenAt = -Infinity;
  #witnessPeer: BinaryStarState | undefined;
  readonly #stats: Omit<BinaryStarStats, "state" | "peerAlive"> = {
    failovers: 0,
    activations: 0,
    passivations: 0,
    statesSent: 0,
    statesReceived: 0,
    badStates: 0,
    votesAccepted: 0,
    votesDropped: 0,
    splits: 0,
    stalls: 0,
    witnessMessages: 0,
    badWitness: 0,
    witnessVetoes: 0,
    badRequests: 0,
    handlerErrors: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: BinaryStarOptions) {
    super("BinaryStar", options);
    this.#linger = lingerOption(options.linger);
    if (options.role !== "primary" && options.role !== "backup") {
      throw new ZgError("ZG_INVALID_ARGUMENT", `role must be "primary" or "backup"`);
    }
    this.#stateEndpoint = endpointsOption("state", options.state ?? options.stateBind)[0] as string;
    endpointsOption("peer", options.peer);
    if (options.witness !== undefined) endpointsOption("witness", options.witness);
    if (options.frontend !== undefined) {
      endpointsOption("frontend.endpoints", options.frontend.endpoints ?? options.frontend.bind);
      if (typeof options.frontend.handler !== "function") {
        throw new ZgError("ZG_INVALID_ARGUMENT", "frontend.handler must be a function");
      }
    }
    this.role = options.role;
    this.heartbeat = durationOption("heartbeat", options.heartbeat, DEFAULT_BSTAR_HEARTBEAT, {
      min: 1,
    });
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#handler = options.frontend?.handler;
    this.#fsm = this.#newFsm();
  }

  #newFsm(): BinaryStarFsm {
    return new BinaryStarFsm({
      role: this.role,
      heartbeat: this.heartbeat,
      clock: this.#clock,
      ...(this.#options.stallGuard === undefined ? {} : { stallGuard: this.#options.stallGuard }),
      ...(this.#options.witness === undefined ? {} : { canTakeOver: () => this.#witnessAllows() }),
    });
  }

  /** The pair state: `primary`/`backup` (starting), `active` (serving) or `passive`. */
  get pairState(): BinaryStarState {
    return this.#fsm.state;
  }

  /** True while the peer counts as alive (a valid state heard within 2 × heartbeat). */
  get peerAlive(): boolean {
    return this.#fsm.peerAlive;
  }

  /** True while this server serves requests. */
  get active(): boolean {
    return this.running && this.#fsm.state === "active" && this.#fsm.failed === undefined;
  }

  /** Counters. */
  stats(): BinaryStarStats {
    return {
      state: BSTAR_STATE_CODES[this.#fsm.state],
      peerAlive: this.#fsm.peerAlive ? 1 : 0,
      ...this.#stats,
    };
  }

  /**
   * A client request arrived on the application's request socket: runs the
   * vote through the FSM. Serve the request when it returns true, drop it
   * (send nothing) when false, as the Guide does. Always false before
   * `start()`, after `close()` and after a split brain.
   */
  vote(): boolean {
    if (!this.running) {
      this.#stats.votesDropped++;
      return false;
    }
    const step = this.#fsm.clientRequest();
    if (step.from !== step.to || step.stalled !== undefined || step.split !== undefined)
      this.#apply(step, "client-request");
    if (step.reason === "witness") this.#stats.witnessVetoes++;
    if (step.accept && this.running) {
      this.#stats.votesAccepted++;
      return true;
    }
    this.#stats.votesDropped++;
    return false;
  }

  protected async onStart(): Promise<BinaryStarEndpoints> {
    this.#fsm = this.#newFsm();
    const pub = this.own(createSocket(zmq.Publisher, { linger: this.#linger }));
    const [state] = (await bindAll(pub, [this.#stateEndpoint])) as [string];
    this.#pub = this.own(new SocketLoop(pub, { name: "state-pub", logger: this.logger }));
    this.#pub.start();

    const sub = this.own(
      createSocket(zmq.Subscriber, {
        linger: this.#linger,
        maxMessageSize: BSTAR_MAX_STATE_MESSAGE,
      }),
    );
    sub.subscribe();
    sub.connect(this.#options.peer);
    this.own(
      new SocketLoop(sub, {
        name: "state-sub",
        logger: this.logger,
        onMessage: (m) => this.#onState(m),
      }),
    ).start();

    if (this.#options.witness !== undefined) {
      const w = this.own(
        createSocket(zmq.Subscriber, {
          linger: this.#linger,
          maxMessageSize: BSTAR_MAX_STATE_MESSAGE,
        }),
      );
      w.subscribe();
      w.connect(this.#options.witness);
      this.own(
        new SocketLoop(w, {
          name: "witness-sub",
          logger: this.logger,
          onMessage: (m) => this.#onWitness(m),
        }),
      ).start();
    }

    let frontend: string[] = [];
    if (this.#options.frontend !== undefined) {
      const router = this.own(createRouter({ linger: this.#linger }));
      frontend = await bindAll(
        router,
        endpointsOption(
          "frontend.endpoints",
          this.#options.frontend.endpoints ?? this.#options.frontend.bind,
        ),
      );
      this.#frontend = this.own(
        new SocketLoop(router, {
          name: "frontend",
          logger: this.logger,
          onMessage: (m) => this.#onRequest(m),
        }),
      );
      this.#frontend.start();
    }

    this.setInterval(() => this.#tick(), this.heartbeat);
    this.#publish(this.#fsm.state);
    this.logger.info("binary star started", {
      state: this.#fsm.state,
      role: this.role,
      stateEndpoint: state,
      peer: this.#options.peer,
      heartbeat: this.heartbeat,
    });
    return { endpoints: frontend, state: [state], frontend };
  }

  #publish(state: BinaryStarState): void {
    if (this.#pub?.post([encodeBinaryStarState(state)]) === true) this.#stats.statesSent++;
  }

  #tick(): void {
    if (this.stopping) return;
    const beat = this.#fsm.tick();
    if (beat.step !== undefined) this.#apply(beat.step, "stall");
    if (this.stopping) return;
    this.#publish(beat.state);
  }

  #onState(message: Message): void {
    const decoded = decodeBinaryStarState(message);
    if (!decoded.ok) {
      this.#stats.badStates++;
      this.logger.warn("bad state message dropped", { reason: decoded.reason });
      this.emit("protocol:invalid", { socket: "state", reason: decoded.reason });
      return;
    }
    if (!this.running) return;
    this.#stats.statesReceived++;
    this.#apply(this.#fsm.peerState(decoded.state), `peer-${decoded.state}`);
  }

  #onWitness(message: Message): void {
    const view = decodeWitnessView(message);
    if (!view.ok) {
      this.#stats.badWitness++;
      this.logger.warn("bad witness message dropped", { reason: view.reason });
      this.emit("protocol:invalid", { socket: "witness", reason: view.reason });
      return;
    }
    this.#stats.witnessMessages++;
    this.#witnessSeenAt = this.#clock.now();
    this.#witnessPeer = this.role === "primary" ? view.backup : view.primary;
  }

  /** The witness check: the witness is reachable and does not see the peer either. */
  #witnessAllows(): boolean {
    const fresh = this.#clock.now() < this.#witnessSeenAt + 2 * this.heartbeat;
    return fresh && this.#witnessPeer === undefined;
  }

  /** Logs and emits what one FSM step did; handles a split. */
  #apply(step: BinaryStarStep, cause: BinaryStarEvent | "stall"): void {
    if (step.stalled !== undefined) {
      this.#stats.stalls++;
      this.logger.warn("process was frozen past the peer expiry; restarting the pair FSM", {
        state: this.role,
        gap: Math.round(step.stalled),
        previous: step.from,
      });
      this.emit("pair:stalled", { gap: step.stalled, from: step.from });
      this.#changed(step.from, this.role, "stall");
      this.#changed(this.role, step.to, cause);
    } else {
      this.#changed(step.from, step.to, cause);
    }
    if (step.split !== undefined) {
      this.#stats.splits++;
      const message =
        step.split === "dual-active"
          ? "dual-active: both servers of the pair are active; stopping"
          : "dual-passive: both servers of the pair are passive; stopping";
      this.logger.error(message, { state: step.to, split: step.split });
      this.emit("pair:split", { kind: step.split, state: step.to });
      this.fail(new ZgError("ZG_STATE", message, { details: { split: step.split } }));
    }
  }

  #changed(from: BinaryStarState, to: BinaryStarState, cause: BinaryStarEvent | "stall"): void {
    if (from === to) return;
    this.logger.info(`state ${from} -> ${to}`, { state: to, from, cause });
    this.emit("state:changed", { from, to, cause });
    if (to === "active") {
      this.#stats.activations++;
      if (cause === "client-request") this.#stats.failovers++;
      this.emit("pair:active", { from, cause });
    } else if (to === "passive") {
      this.#stats.passivations++;
      this.emit("pair:passive", { from, cause });
    }
  }

  #reply(envelope: Frame[], reply: Parameters<typeof replyFrames>[0]): void {
    this.#frontend?.post([...envelope, EMPTY_FRAME, ...replyFrames(reply)]);
  }

  #handlerFailed(error: unknown): void {
    this.#stats.handlerErrors++;
    this.logger.warn("request handler failed", { error: String(error) });
  }

  #onRequest(message: Message): void {
    let envelope: Frame[];
    let body: Frame[];
    try {
      ({ envelope, body } = splitEnvelope(message));
      if (envelope.length === 0) throw new ProtocolError("request has no routing id");
      if (body.length === 0) throw new ProtocolError("request has no body");
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#stats.badRequests++;
      this.emit("protocol:invalid", { socket: "frontend", reason: error.message });
      return;
    }
    if (!this.vote()) return;
    try {
      const result = (this.#handler as RequestHandler)(body);
      if (result instanceof Promise) {
        result.then(
          (reply) => this.#reply(envelope, reply),
          (error: unknown) => this.#handlerFailed(error),
        );
      } else this.#reply(envelope, result);
    } catch (error) {
      this.#handlerFailed(error);
    }
  }
}
