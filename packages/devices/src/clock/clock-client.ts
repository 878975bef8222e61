import * as zmq from "zeromq";
import {
  Component,
  connectAll,
  createSocket,
  deferred,
  endpointsOption,
  integerOption,
  lingerOption,
  SocketLoop,
  ZgError,
  type ComponentOptions,
  type Deferred,
  type LingerOptions,
  type Message,
} from "@zg/core";
import { DEFAULT_TICK_BUFFER } from "./constants.js";
import { parseResolution, resolutionName } from "./resolution.js";
import { clockTopic, decodeTick, type TickMessage } from "./wire.js";

/** Options of {@link ClockClient}. */
export interface ClockClientOptions extends ComponentOptions, LingerOptions {
  /** The {@link ClockDevice}'s endpoint(s), where the SUB socket connects. */
  device: string | readonly string[];
  /**
   * Ticks buffered per iterator before the oldest is dropped (reported as missed).
   * @defaultValue {@link DEFAULT_TICK_BUFFER}
   */
  tickBuffer?: number;
  /** Wall clock used for `receivedWall`. @defaultValue Date.now */
  wallClock?: () => number;
}

/** One tick as a subscriber sees it. Times in ms. */
export interface Tick extends TickMessage {
  /** Resolution name, e.g. `"1s"`. */
  name: string;
  /**
   * Ticks of this resolution that were published but not delivered to this
   * iterator since the previous tick it delivered (seq gap: skipped by a
   * stalled device, lost on the way, or dropped from a full buffer). 0 for
   * the first tick and after a restart.
   */
  missed: number;
  /** True when the device's instance changed since the previous tick (it restarted; seq started again). */
  restarted: boolean;
  /** How late the device sent it: `sentMono − seq·period` (< one period). */
  lateness: number;
  /** Wall clock when this process received it. */
  receivedWall: number;
}

/** Options of {@link ClockClient.ticks}. */
export interface TicksOptions {
  /** Ends the iteration (cleanly, no error) when aborted. */
  signal?: AbortSignal;
}

/** Counters of a {@link ClockClient}. */
export interface ClockClientStats {
  /** Tick messages received. */
  received: number;
  /** Messages that were not valid ticks (counted, logged, dropped). */
  protocolErrors: number;
  /** Ticks dropped from a full iterator buffer. */
  dropped: number;
  /** Ticks reported missed to iterators (sum of `missed`). */
  missed: number;
  /** Open `ticks()` iterators. */
  iterators: number;
}

interface Waiting {
  period: number;
  items: TickMessage[];
  waiter: Deferred<void> | undefined;
  ended: boolean;
}

/**
 * Subscribes to a {@link ClockDevice}: `for await (const tick of client.ticks("1s"))`.
 * Every delivered tick says how many ticks of its resolution were missed
 * since the previous one (`missed`), so nothing is silently skipped.
 *
 * @example
 * ```ts
 * const client = new ClockClient({ device: endpoint });
 * await client.start();
 * for await (const tick of client.ticks("1s")) if (tick.missed > 0) logger.warn("missed", { missed: tick.missed });
 * ```
 */
export class ClockClient extends Component<Record<never, never>, ClockClientStats> {
  readonly #linger: number;
  readonly #endpoints: string[];
  readonly #limit: number;
  readonly #wall: () => number;
  #socket: zmq.Subscriber | undefined;
  readonly #subs = new Set<Waiting>();
  readonly #topicUsers = new Map<number, number>();
  #received = 0;
  #bad = 0;
  #dropped = 0;
  #missed = 0;

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: ClockClientOptions) {
    super("ClockClient", options);
    this.#linger = lingerOption(options.linger);
    this.#endpoints = endpointsOption("device", options.device);
    this.#limit = integerOption("tickBuffer", options.tickBuffer, DEFAULT_TICK_BUFFER, { min: 1 });
    this.#wall = options.wallClock ?? Date.now;
  }

  protected onStart(): Promise<void> {
    const socket = createSocket(zmq.Subscriber, { linger: this.#linger });
    this.#socket = socket;
    const loop = this.own(
      new SocketLoop(socket, {
        name: "clock-client",
        logger: this.logger,
        onMessage: (m) => this.#onMessage(m),
      }),
    );
    this.own(() => this.#endAll());
    connectAll(socket, this.#endpoints);
    loop.start();
    return Promise.resolve();
  }

  #onMessage(message: Message): void {
    let tick: TickMessage;
    try {
      tick = decodeTick(message);
    } catch (error) {
      this.#bad++;
      this.logger.warn("not a clock tick; dropped", { error: String(error) });
      return;
    }
    this.#received++;
    for (const s of this.#subs) {
      if (s.period !== tick.period || s.ended) continue;
      if (s.items.length >= this.#limit) {
        s.items.shift();
        this.#dropped++;
      }
      s.items.push(tick);
      const w = s.waiter;
      s.waiter = undefined;
      w?.resolve();
    }
  }

  /**
   * Iterates the ticks of one resolution (`"100ms"`, `"1s"`, `1000`, …) from
   * now on. Ends when the client closes, the signal aborts or the loop breaks.
   * Several iterators may run at once; each has its own bounded buffer.
   *
   * @throws {@link ZgError} `ZG_STATE` before `start()` or after close;
   * `ZG_INVALID_ARGUMENT` for a bad resolution.
   */
  ticks(resolution: number | string, options: TicksOptions = {}): AsyncIterable<Tick> {
    const period = parseResolution(resolution);
    if (!this.running || this.#socket === undefined) {
      throw new ZgError("ZG_STATE", "ticks() needs a started ClockClient");
    }
    const s: Waiting = { period, items: [], waiter: undefined, ended: false };
    this.#subs.add(s);
    this.#subscribe(period);
    const onAbort = (): void => this.#end(s);
    if (options.signal?.aborted) this.#end(s);
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    return this.#iterate(s, () => options.signal?.removeEventListener("abort", onAbort));
  }

  async *#iterate(s: Waiting, cleanup: () => void): AsyncGenerator<Tick> {
    const name = resolutionName(s.period);
    let last: TickMessage | undefined;
    try {
      for (;;) {
        const next = s.items.shift();
        if (next === undefined) {
          if (s.ended) return;
          s.waiter = deferred();
          await s.waiter.promise;
          continue;
        }
        const restarted = last !== undefined && last.instance !== next.instance;
        if (last !== undefined && !restarted && next.seq <= last.seq) continue; // a duplicate: never delivered twice
        const missed = last === undefined || restarted ? 0 : next.seq - last.seq - 1;
        this.#missed += missed;
        last = next;
        yield {
          ...next,
          name,
          missed,
          restarted,
          lateness: next.sentMono - next.seq * next.period,
          receivedWall: this.#wall(),
        };
      }
    } finally {
      cleanup();
      this.#end(s);
      this.#subs.delete(s);
      this.#unsubscribe(s.period);
    }
  }

  #subscribe(period: number): void {
    const n = this.#topicUsers.get(period) ?? 0;
    this.#topicUsers.set(period, n + 1);
    if (n === 0) this.#socket?.subscribe(clockTopic(period));
  }

  #unsubscribe(period: number): void {
    const n = (this.#topicUsers.get(period) ?? 1) - 1;
    if (n > 0) {
      this.#topicUsers.set(period, n);
      return;
    }
    this.#topicUsers.delete(period);
    if (this.#socket !== undefined && !this.#socket.closed)
      this.#socket.unsubscribe(clockTopic(period));
  }

  #end(s: Waiting): void {
    s.ended = true;
    const w = s.waiter;
    s.waiter = undefined;
    w?.resolve();
  }

  #endAll(): void {
    for (const s of this.#subs) this.#end(s);
  }

  stats(): ClockClientStats {
    return {
      received: this.#received,
      protocolErrors: this.#bad,
      dropped: this.#dropped,
      missed: this.#missed,
      iterators: this.#subs.size,
    };
  }
}
