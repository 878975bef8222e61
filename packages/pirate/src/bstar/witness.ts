import * as zmq from "zeromq";
import {
  assertArgument,
  bindAll,
  Component,
  createSocket,
  durationOption,
  endpointsOption,
  lingerOption,
  SocketLoop,
  systemClock,
  type BoundEndpoints,
  type Clock,
  type ComponentOptions,
  type Frame,
  type LingerOptions,
  type Message,
} from "@zg/core";
import {
  decodeBinaryStarState,
  DEFAULT_BSTAR_HEARTBEAT,
  encodeBinaryStarState,
  type BinaryStarState,
} from "./fsm.js";

/**
 * What a witness reports (project-defined, beyond the Guide): the state it
 * last heard from each server of the pair, or `undefined` when that server
 * has been silent for 2 × heartbeat.
 *
 * Wire: one message of two frames every heartbeat, `[primary][backup]`,
 * each "1".."4" or empty for a silent server.
 */
export interface WitnessView {
  primary: BinaryStarState | undefined;
  backup: BinaryStarState | undefined;
}

/** Encodes a {@link WitnessView} as `[primary][backup]`. */
export function encodeWitnessView(view: WitnessView): Buffer[] {
  const frame = (s: BinaryStarState | undefined): Buffer =>
    s === undefined ? Buffer.alloc(0) : encodeBinaryStarState(s);
  return [frame(view.primary), frame(view.backup)];
}

/** Decodes a witness message; malformed input yields a reason, never a throw. */
export function decodeWitnessView(
  message: readonly Frame[],
): ({ ok: true } & WitnessView) | { ok: false; reason: string } {
  if (message.length !== 2)
    return { ok: false, reason: `expected 2 frames, got ${message.length}` };
  const side = (f: Frame): BinaryStarState | undefined | null => {
    if (f.length === 0) return undefined;
    const d = decodeBinaryStarState([f]);
    return d.ok ? d.state : null;
  };
  const primary = side(message[0] as Frame);
  const backup = side(message[1] as Frame);
  if (primary === null || backup === null) return { ok: false, reason: "state outside 1..4" };
  return { ok: true, primary, backup };
}

/** Options of {@link BinaryStarWitness}. */
export interface BinaryStarWitnessOptions extends ComponentOptions, LingerOptions {
  /** The primary's state PUB endpoint. */
  primary: string;
  /** The backup's state PUB endpoint. */
  backup: string;
  /**
   * Where the witness PUB binds (one endpoint); servers connect their
   * `witness` option to it. Required; the deprecated `bind` is read when it is absent.
   */
  endpoints?: string | readonly [string];
  /** @deprecated Since 0.2: use {@link BinaryStarWitnessOptions.endpoints} (same meaning). */
  bind?: string;
  /** Publish interval and the servers' expiry base (2 × heartbeat); use the pair's. @defaultValue {@link DEFAULT_BSTAR_HEARTBEAT} */
  heartbeat?: number;
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
}

/** Counters of a {@link BinaryStarWitness}. */
export interface BinaryStarWitnessStats {
  /** Views published. */
  published: number;
  /** Valid states heard from the primary. */
  primaryStates: number;
  /** Valid states heard from the backup. */
  backupStates: number;
  /** Malformed state messages dropped. */
  badStates: number;
}

/** Events of a {@link BinaryStarWitness}. */
export type BinaryStarWitnessEvents = {
  /** A malformed state message was dropped. */
  "protocol:invalid": { socket: "primary" | "backup"; reason: string };
};

/**
 * A Binary Star witness (project-defined, beyond the Guide, which warns
 * "do not split a pair across network islands"): a third process, placed
 * where the clients are, that subscribes to both servers' state PUBs and
 * publishes every heartbeat which of them it can hear. A server started
 * with `witness` takes over on a vote only while it hears the witness and
 * the witness no longer hears the peer, so a broken peer link alone (the
 * peer still alive and reachable from the clients' side) never produces a
 * second active server.
 */
export class BinaryStarWitness extends Component<
  BinaryStarWitnessEvents,
  BinaryStarWitnessStats,
  BoundEndpoints
> {
  readonly #linger: number;
  readonly #bind: string;
  readonly #options: BinaryStarWitnessOptions;
  readonly #clock: Clock;
  /** Publish interval, ms. */
  readonly heartbeat: number;
  #pub: SocketLoop | undefined;
  readonly #last = {
    primary: { state: undefined as BinaryStarState | undefined, at: -Infinity },
    backup: { state: undefined as BinaryStarState | undefined, at: -Infinity },
  };
  readonly #stats: BinaryStarWitnessStats = {
    published: 0,
    primaryStates: 0,
    backupStates: 0,
    badStates: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: BinaryStarWitnessOptions) {
    super("BinaryStarWitness", options);
    this.#linger = lingerOption(options.linger);
    endpointsOption("primary", options.primary);
    endpointsOption("backup", options.backup);
    const bind = endpointsOption("endpoints", options.endpoints ?? options.bind);
    assertArgument(bind.length === 1, "endpoints must name exactly one endpoint");
    this.#bind = bind[0] as string;
    this.heartbeat = durationOption("heartbeat", options.heartbeat, DEFAULT_BSTAR_HEARTBEAT, {
      min: 1,
    });
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Counters. */
  stats(): BinaryStarWitnessStats {
    return { ...this.#stats };
  }

  /** The current view (what the next publish will say). */
  view(): WitnessView {
    const now = this.#clock.now();
    const fresh = (s: {
      state: BinaryStarState | undefined;
      at: number;
    }): BinaryStarState | undefined => (now < s.at + 2 * this.heartbeat ? s.state : undefined);
    return { primary: fresh(this.#last.primary), backup: fresh(this.#last.backup) };
  }

  protected async onStart(): Promise<BoundEndpoints> {
    const pub = this.own(createSocket(zmq.Publisher, { linger: this.#linger }));
    const [endpoint] = (await bindAll(pub, [this.#bind])) as [string];
    this.#pub = this.own(new SocketLoop(pub, { name: "witness-pub", logger: this.logger }));
    this.#pub.start();
    for (const side of ["primary", "backup"] as const) {
      const sub = this.own(
        createSocket(zmq.Subscriber, { linger: this.#linger, maxMessageSize: 64 }),
      );
      sub.subscribe();
      sub.connect(this.#options[side]);
      this.own(
        new SocketLoop(sub, {
          name: `witness-${side}`,
          logger: this.logger,
          onMessage: (m) => this.#onState(side, m),
        }),
      ).start();
    }
    this.setInterval(() => {
      if (this.#pub?.post(encodeWitnessView(this.view())) === true) this.#stats.published++;
    }, this.heartbeat);
    return { endpoints: [endpoint] };
  }

  #onState(side: "primary" | "backup", message: Message): void {
    const d = decodeBinaryStarState(message);
    if (!d.ok) {
      this.#stats.badStates++;
      this.emit("protocol:invalid", { socket: side, reason: d.reason });
      return;
    }
    this.#stats[side === "primary" ? "primaryStates" : "backupStates"]++;
    this.#last[side] = { state: d.state, at: this.#clock.now() };
  }
}
