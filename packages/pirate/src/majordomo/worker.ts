import {
  assertArgument,
  Backoff,
  Component,
  connectAll,
  createDealer,
  durationOption,
  endpointsOption,
  heartbeatIntervalOption,
  isZgError,
  lingerOption,
  livenessOption,
  ReconnectingLink,
  ZgError,
  type Clock,
  type ComponentOptions,
  type Frame,
  type FrameLike,
  type LingerOptions,
} from "@zg/core";
import {
  DEFAULT_MDP_HEARTBEAT_INTERVAL,
  DEFAULT_MDP_HEARTBEAT_LIVENESS,
  DEFAULT_MDP_RECONNECT_DELAY,
} from "./constants.js";
import { encodeReady, encodeWorkerSignal, MMI_PREFIX, type MdpVersion } from "./protocol.js";
import { MdpWorkerCore } from "./worker-core.js";

/** What a {@link MajordomoWorker} handler gets besides the request frames. */
export interface MajordomoRequestContext {
  /** The service this worker serves. */
  service: string;
  /**
   * Sends a PARTIAL reply before the final one (18/MDP only).
   * @throws {@link ZgError} `ZG_STATE` on an MDP/0.1 worker.
   */
  partial(frames: readonly FrameLike[]): void;
  /** Aborted when the broker link is lost while the handler runs (its reply would be dropped). */
  signal: AbortSignal;
}

/** A request handler: request frames in, reply frames out. */
export type MajordomoHandler = (
  request: Frame[],
  context: MajordomoRequestContext,
) => readonly FrameLike[] | Promise<readonly FrameLike[]>;

/** Options of {@link MajordomoWorker}. Durations in milliseconds. */
export interface MajordomoWorkerOptions extends ComponentOptions, LingerOptions {
  /** The broker's endpoint. */
  broker: string;
  /** The service to register (`mmi.*` is reserved and refused). */
  service: string;
  /** Handles one request at a time. Throwing makes the worker re-register (the broker re-queues per its policy). */
  handler: MajordomoHandler;
  /** Wire version. @defaultValue "MDP/0.1" */
  version?: MdpVersion;
  /** Heartbeat interval; must match the broker's. @defaultValue {@link DEFAULT_MDP_HEARTBEAT_INTERVAL} (Guide `mdwrkapi`) */
  heartbeatInterval?: number;
  /** Missed heartbeats before the broker is declared dead. @defaultValue {@link DEFAULT_MDP_HEARTBEAT_LIVENESS} (Guide `mdwrkapi`) */
  heartbeatLiveness?: number;
  /** First delay before reconnecting after the broker went silent. @defaultValue {@link DEFAULT_MDP_RECONNECT_DELAY} (Guide `mdwrkapi`) */
  reconnectDelay?: number;
  /** Back-off cap; equal to `reconnectDelay` means no back-off (the Guide's MDP). @defaultValue reconnectDelay */
  reconnectMaxDelay?: number;
  /** Time source of heartbeats and reconnect delays. @defaultValue systemClock */
  clock?: Clock;
}

/** Counters of a {@link MajordomoWorker}. */
export interface MajordomoWorkerStats {
  /** Requests handled (replies sent). */
  handled: number;
  /** Handler failures. */
  handlerErrors: number;
  /** Times the worker connected and sent READY. */
  connects: number;
  /** DISCONNECTs received from the broker. */
  disconnectsReceived: number;
  /** Times the broker was declared dead by heartbeat silence. */
  brokerDeaths: number;
  /** Replies dropped because the link they belonged to was replaced. */
  staleReplies: number;
  /** Invalid messages from the broker (bad input), counted and dropped. */
  protocolErrors: number;
  /** HEARTBEATs sent to the broker (over every link). */
  heartbeatsSent: number;
  /** True while a handler runs. */
  busy: boolean;
}

/** Events of a {@link MajordomoWorker}. */
export interface MajordomoWorkerEvents {
  "broker:connected": { attempt: number };
  "broker:lost": { reason: "silent" | "disconnect" | "handler-error" };
}

/**
 * A Majordomo worker (Guide `mdwrkapi`): registers one service with READY,
 * heartbeats when idle, handles one request at a time, and on DISCONNECT or
 * broker silence closes its socket and registers again on a new one (at once
 * after DISCONNECT; after `reconnectDelay`, with optional back-off, after
 * silence), on `@zg/core`'s {@link ReconnectingLink}. Heartbeats keep
 * flowing while an async handler runs.
 *
 * @example
 * ```ts
 * const worker = new MajordomoWorker({ broker, service: "echo", handler: (req) => req });
 * await worker.start();
 * await worker.close();
 * ```
 */
export class MajordomoWorker extends Component<MajordomoWorkerEvents, MajordomoWorkerStats> {
  readonly #linger: number;
  readonly service: string;
  readonly version: MdpVersion;
  readonly #handler: MajordomoHandler;
  readonly #link: ReconnectingLink;
  readonly #core: MdpWorkerCore;
  /** Whether the socket being given up says DISCONNECT first (not after the broker's own DISCONNECT). */
  #sayGoodbye = true;
  readonly #stats = {
    handled: 0,
    handlerErrors: 0,
    disconnectsReceived: 0,
    brokerDeaths: 0,
    staleReplies: 0,
    protocolErrors: 0,
  };
  #busy = false;

  constructor(options: MajordomoWorkerOptions) {
    super("majordomo-worker", options);
    this.#linger = lingerOption(options.linger);
    const broker = endpointsOption("broker", options.broker)[0] as string;
    assertArgument(
      typeof options.service === "string" &&
        options.service.length > 0 &&
        options.service.length <= 255,
      "service must be a non-empty string",
    );
    assertArgument(
      !options.service.startsWith(MMI_PREFIX),
      "mmi.* services are reserved for the broker (8/MMI)",
    );
    assertArgument(typeof options.handler === "function", "handler must be a function");
    assertArgument(
      options.version === undefined ||
        options.version === "MDP/0.1" ||
        options.version === "MDP/0.2",
      "version must be MDP/0.1 or MDP/0.2",
    );
    this.service = options.service;
    this.version = options.version ?? "MDP/0.1";
    this.#handler = options.handler;
    this.#core = new MdpWorkerCore(this.version);
    const interval = heartbeatIntervalOption(
      "heartbeatInterval",
      options.heartbeatInterval,
      DEFAULT_MDP_HEARTBEAT_INTERVAL,
    );
    const liveness = livenessOption(
      "heartbeatLiveness",
      options.heartbeatLiveness,
      DEFAULT_MDP_HEARTBEAT_LIVENESS,
    );
    const delay = durationOption(
      "reconnectDelay",
      options.reconnectDelay,
      DEFAULT_MDP_RECONNECT_DELAY,
    );
    const max = durationOption("reconnectMaxDelay", options.reconnectMaxDelay, delay);
    const link: ReconnectingLink = new ReconnectingLink({
      name: "majordomo-worker",
      logger: this.logger,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      socket: () => {
        const socket = createDealer({ linger: this.#linger });
        connectAll(socket, [broker]);
        return socket;
      },
      heartbeat: {
        interval,
        liveness,
        send: () => void link.post(encodeWorkerSignal(this.version, "HEARTBEAT")),
      },
      reconnect: new Backoff({ initial: delay, max: Math.max(max, delay) }),
      onConnect: () => {
        this.#sayGoodbye = true;
        link.post(encodeReady(this.version, this.service));
      },
      onMessage: (m) => this.#onMessage(link.generation, m),
      // Tell a live broker we are leaving (7/MDP: the worker MAY send DISCONNECT at any time).
      goodbye: () =>
        this.#sayGoodbye ? encodeWorkerSignal(this.version, "DISCONNECT") : undefined,
    });
    link.on("link:connected", () =>
      this.emit("broker:connected", { attempt: link.stats().connects }),
    );
    link.on("link:lost", ({ reason }) => {
      if (reason !== "silent") return;
      this.#stats.brokerDeaths++;
      this.logger.warn("disconnected from broker - retrying", { service: this.service });
      this.emit("broker:lost", { reason: "silent" });
    });
    this.#link = link;
  }

  stats(): MajordomoWorkerStats {
    const link = this.#link.stats();
    return {
      ...this.#stats,
      connects: link.connects,
      heartbeatsSent: link.heartbeatsSent,
      busy: this.#busy,
    };
  }

  protected onStart(): Promise<void> {
    this.watch(this.#link); // a dead reader fails the worker
    this.#link.start();
    this.own(() => this.#link.close());
    return Promise.resolve();
  }

  #onMessage(generation: number, frames: Frame[]): void {
    let action;
    try {
      action = this.#core.receive(frames);
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      this.#stats.protocolErrors++;
      this.logger.debug("invalid message from broker dropped", { error: error.message });
      return;
    }
    switch (action.kind) {
      case "heartbeat":
        return;
      case "disconnect":
        this.#stats.disconnectsReceived++;
        this.#relink("disconnect");
        return;
      case "request":
        // Draining: take no new request (the broker re-queues it when this worker leaves).
        // Starting: serve it. READY went out in onStart, so the broker may hand over a queued
        // request before start() resolves; it holds this worker busy until the reply, so a
        // request dropped here would stall the worker at the broker for good.
        if (!this.serving) return;
        void this.track(this.#serve(generation, action.request, action.reply));
        return;
    }
  }

  async #serve(
    generation: number,
    request: Frame[],
    encode: (command: "PARTIAL" | "FINAL", frames: readonly FrameLike[]) => Frame[],
  ): Promise<void> {
    this.#busy = true;
    const send = (command: "PARTIAL" | "FINAL", frames: readonly FrameLike[]): boolean => {
      if (!this.#link.isCurrent(generation) || (!this.running && !this.serving)) {
        this.#stats.staleReplies++;
        return false;
      }
      this.#link.post(encode(command, frames));
      return true;
    };
    const context: MajordomoRequestContext = {
      service: this.service,
      signal: this.#link.signal,
      partial: (frames) => {
        if (this.version === "MDP/0.1")
          throw new ZgError("ZG_STATE", "PARTIAL replies need MDP/0.2");
        send("PARTIAL", frames);
      },
    };
    try {
      const reply = await this.#handler(request, context);
      if (send("FINAL", reply)) this.#stats.handled++;
    } catch (error) {
      this.#stats.handlerErrors++;
      this.logger.error("handler failed; re-registering so the broker can re-queue", {
        error: String(error),
      });
      if (this.#link.isCurrent(generation)) this.#relink("handler-error");
    } finally {
      this.#busy = false;
    }
  }

  /** Drops the current socket and registers again on a new one at once. */
  #relink(reason: "disconnect" | "handler-error"): void {
    if (!this.running && this.state !== "starting") return;
    this.emit("broker:lost", { reason });
    this.#sayGoodbye = reason !== "disconnect";
    this.#link.reconnect(0);
  }
}
