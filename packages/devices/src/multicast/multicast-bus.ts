import { randomBytes } from "node:crypto";
import {
  Component,
  isZgError,
  lingerOption,
  ZgError,
  type ComponentOptions,
  type LingerOptions,
} from "@zg/core";
import type * as Draft from "zeromq/draft.js";
import { decodeBus, encodeBus, maxBusPayload } from "./wire.js";

/** Options of {@link MulticastBus}. */
export interface MulticastBusOptions extends ComponentOptions, LingerOptions {
  /**
   * A libzmq UDP endpoint: `udp://239.192.0.1:5670` (multicast group address
   * and port) or `udp://<interface-or-address>;239.192.0.1:5670` to choose the
   * interface. Every node binds and sends to the same endpoint.
   */
  endpoint: string;
  /** Groups (RADIO/DISH groups, ≤ 255 bytes) this node receives. @defaultValue none: send only */
  groups?: readonly string[];
  /** Deliver this node's own messages back to it (multicast loopback). @defaultValue false */
  receiveOwn?: boolean;
}

/** A received bus message. */
export interface BusDelivery {
  group: string;
  /** The sender's id as 16 hex digits. */
  sender: string;
  seq: number;
  payload: Buffer;
}

/** Events of a {@link MulticastBus}. */
export type MulticastBusEvents = {
  "message:received": BusDelivery;
  /** `count` messages of `sender` in `group` never arrived before `seq` (UDP loss, full receive queue). */
  "message:lost": { group: string; sender: string; count: number; seq: number };
};

/** Counters of a {@link MulticastBus}. */
export interface MulticastBusStats {
  sent: number;
  received: number;
  /** Messages detected as lost (sequence gaps). */
  lost: number;
  /** Messages that arrived after a later one of the same sender (delivered, counted). */
  late: number;
  /** Datagrams that were not bus messages (counted, dropped). */
  protocolErrors: number;
  /** Sends that failed (RADIO queue full or a socket error). */
  sendFailures: number;
}

/**
 * A small bus over libzmq's draft RADIO/DISH sockets on `udp://`, multicast
 * included, standing in for the Guide's pgm/epgm bus (which zeromq.js 6's
 * prebuilt libzmq lacks). **No reliability and no ordering across senders**:
 * UDP drops under load (a full DISH queue drops too) and nothing is resent.
 * What the bus adds is honesty: every message carries its sender's
 * sequence number per group, so the receiver reports losses
 * (`message:lost`, `stats().lost`) instead of hiding them, and a payload that
 * would not fit one datagram is refused (libzmq would truncate it silently).
 * See docs/multicast.md.
 *
 * @example
 * ```ts
 * const bus = new MulticastBus({ endpoint: "udp://239.192.0.1:5670", groups: ["weather"] });
 * await bus.start();
 * bus.on("message:received", (m) => logger.info("got", { group: m.group, seq: m.seq }));
 * bus.publish("weather", "sunny");
 * ```
 */
export class MulticastBus extends Component<MulticastBusEvents, MulticastBusStats> {
  readonly #linger: number;
  readonly #endpoint: string;
  readonly #groups: string[];
  readonly #receiveOwn: boolean;
  readonly #id = randomBytes(8).readBigUInt64BE(0);
  readonly #seq = new Map<string, number>();
  readonly #last = new Map<string, number>();
  #radio: Draft.Radio | undefined;
  #writing: Promise<void> = Promise.resolve();
  #queued = 0;
  #reader: Promise<void> | undefined;
  readonly #stats: MulticastBusStats = {
    sent: 0,
    received: 0,
    lost: 0,
    late: 0,
    protocolErrors: 0,
    sendFailures: 0,
  };

  /** @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: MulticastBusOptions) {
    super("MulticastBus", options);
    this.#linger = lingerOption(options.linger);
    if (typeof options.endpoint !== "string" || !/^udp:\/\/./.test(options.endpoint)) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `endpoint must be a udp:// endpoint, got ${String(options.endpoint)}`,
      );
    }
    this.#endpoint = options.endpoint;
    this.#groups = [...(options.groups ?? [])];
    for (const g of this.#groups) checkGroup(g);
    this.#receiveOwn = options.receiveOwn ?? false;
  }

  /** This node's sender id (16 hex digits). */
  get id(): string {
    return this.#id.toString(16).padStart(16, "0");
  }

  protected async onStart(): Promise<void> {
    const draft = await import("zeromq/draft.js");
    const radio = new draft.Radio({ linger: this.#linger });
    this.#radio = radio;
    this.own(() => radio.close());
    if (this.#groups.length > 0) {
      const dish = new draft.Dish({ linger: this.#linger });
      this.own(async () => {
        dish.close();
        await this.#reader;
      });
      try {
        await dish.bind(this.#endpoint);
      } catch (error) {
        throw new ZgError(
          "ZG_SOCKET",
          `cannot bind ${this.#endpoint}: ${(error as Error).message}`,
          {
            cause: error,
            details: { endpoint: this.#endpoint, code: (error as { code?: string }).code },
          },
        );
      }
      dish.join(...this.#groups);
      this.#reader = this.#read(dish);
    }
    try {
      radio.connect(this.#endpoint);
    } catch (error) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `cannot send to ${this.#endpoint}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * Sends one message to `group` (fire and forget; the bus never resends).
   *
   * @returns false if the bus is not running or the send queue (10 000) is full (counted)
   * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for a bad group or a payload
   * larger than one datagram holds ({@link maxBusPayload}).
   */
  publish(group: string, payload: Buffer | string): boolean {
    checkGroup(group);
    const body = typeof payload === "string" ? Buffer.from(payload) : payload;
    const max = maxBusPayload(group);
    if (body.length > max) {
      throw new ZgError(
        "ZG_INVALID_ARGUMENT",
        `payload of ${body.length} bytes exceeds one UDP datagram (${max} bytes for group ${JSON.stringify(group)})`,
      );
    }
    const radio = this.#radio;
    if (radio === undefined || !this.running) return false;
    if (this.#queued >= 10_000) {
      this.#stats.sendFailures++;
      return false;
    }
    const seq = (this.#seq.get(group) ?? 0) + 1;
    this.#seq.set(group, seq);
    const message = encodeBus(this.#id, seq, body);
    this.#queued++;
    this.#writing = this.#writing.then(async () => {
      try {
        await radio.send(message, { group });
        this.#stats.sent++;
      } catch (error) {
        if (!radio.closed) {
          this.#stats.sendFailures++;
          this.logger.warn("bus send failed", { error: String(error) });
        }
      } finally {
        this.#queued--;
      }
    });
    return true;
  }

  /** Resolves when every message published so far was handed to libzmq. */
  async flush(): Promise<void> {
    await this.#writing;
  }

  async #read(dish: Draft.Dish): Promise<void> {
    for (;;) {
      let body: Buffer;
      let group: string;
      try {
        const [message, meta] = await dish.receive();
        body = message;
        group = meta.group.toString();
      } catch (error) {
        if (!dish.closed)
          this.logger.error("bus receive failed; reader stopped", { error: String(error) });
        return;
      }
      try {
        this.#deliver(group, body);
      } catch (error) {
        if (isZgError(error, "ZG_PROTOCOL")) {
          this.#stats.protocolErrors++;
          this.logger.warn("not a bus message; dropped", { group, error: error.message });
        } else {
          this.logger.error("bus delivery failed", { error: String(error) });
        }
      }
    }
  }

  #deliver(group: string, body: Buffer): void {
    const m = decodeBus(body);
    if (m.sender === this.#id && !this.#receiveOwn) return;
    const sender = m.sender.toString(16).padStart(16, "0");
    const key = `${sender}/${group}`;
    const last = this.#last.get(key);
    if (last !== undefined && m.seq <= last) {
      this.#stats.late++;
    } else {
      if (last !== undefined && m.seq > last + 1) {
        const count = m.seq - last - 1;
        this.#stats.lost += count;
        this.emit("message:lost", { group, sender, count, seq: m.seq });
      }
      this.#last.set(key, m.seq);
    }
    this.#stats.received++;
    this.emit("message:received", { group, sender, seq: m.seq, payload: m.payload });
  }

  stats(): MulticastBusStats {
    return { ...this.#stats };
  }
}

function checkGroup(group: string): void {
  if (typeof group !== "string" || group.length === 0 || Buffer.byteLength(group) > 255) {
    throw new ZgError(
      "ZG_INVALID_ARGUMENT",
      `a bus group is 1–255 bytes, got ${JSON.stringify(group)}`,
    );
  }
}
