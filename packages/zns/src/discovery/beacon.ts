import { randomBytes } from "node:crypto";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import {
  assertArgument,
  Component,
  durationOption,
  integerOption,
  type Clock,
  type ComponentOptions,
} from "@zg/core";
import { PresenceTracker } from "@zg/heartbeat";
import { decodeZreBeacon, encodeZreBeacon, UDPPING_BEACON } from "./protocol.js";

/** UDP port of ZRE beacons, 5670 (36/ZRE, IANA "zre-disc"). */
export const DEFAULT_BEACON_PORT = 5670;
/** UDP port of the Guide's `udpping` examples, 9999. */
export const UDPPING_PORT = 9999;
/** Beacon interval, 1000 ms: Guide `udpping1`–`3` `PING_INTERVAL`. */
export const DEFAULT_BEACON_INTERVAL = 1000;
/** Missed intervals before a peer has left, 5 (Guide `udpping3`: `PEER_EXPIRY` 5000 ms at 1 s beacons). */
export const DEFAULT_BEACON_LIVENESS = 5;
/** Broadcast address, 255.255.255.255 (Guide `udpping`: `INADDR_BROADCAST`). */
export const DEFAULT_BROADCAST_ADDRESS = "255.255.255.255";

/** Beacon formats: 36/ZRE (22 bytes) or the Guide's `udpping1`/`udpping2` ("!"). */
export type BeaconFormat = "zre" | "udpping";

/** Options of {@link Beacon}. Durations in ms. */
export interface BeaconOptions extends ComponentOptions {
  /** Time source of peer expiry. @defaultValue systemClock */
  clock?: Clock;
  /** @defaultValue "zre" */
  format?: BeaconFormat;
  /** UDP port shared by every node (SO_REUSEADDR). @defaultValue {@link DEFAULT_BEACON_PORT} (zre) / {@link UDPPING_PORT} (udpping) */
  port?: number;
  /** ZRE: the service port this node announces; leave out to only listen. udpping: any value sends "!" beacons. */
  announce?: number;
  /** ZRE: this node's 16-byte UUID. @defaultValue random */
  uuid?: Buffer;
  /** @defaultValue {@link DEFAULT_BEACON_INTERVAL} */
  interval?: number;
  /** @defaultValue {@link DEFAULT_BEACON_LIVENESS} */
  liveness?: number;
  /** Where beacons go. @defaultValue {@link DEFAULT_BROADCAST_ADDRESS} */
  broadcastAddress?: string;
  /** Local address to bind. @defaultValue "0.0.0.0" */
  bindAddress?: string;
}

/** A discovered peer. */
export interface BeaconPeer {
  /** ZRE: the UUID as 32 uppercase hex digits (as `udpping3` prints it); udpping: `address:port`. */
  id: string;
  /** The sender's IP address. */
  address: string;
  /** ZRE: the announced service port; udpping: the sender's UDP port. */
  port: number;
}

/** Events of {@link Beacon}. */
export interface BeaconEvents {
  /** A new peer (or one that had left) was heard. */
  "peer:joined": BeaconPeer;
  /** A peer sent a leaving beacon (ZRE port 0) or was silent for interval × liveness. */
  "peer:left": { id: string; reason: "leaving" | "expired" };
  /** Every valid beacon from another node (the Guide's "Found peer IP:port"). */
  "beacon:received": BeaconPeer;
  /** A datagram that is not a beacon of this format (dropped, counted). */
  "protocol:invalid": { reason: string; address: string };
}

/** Stats of {@link Beacon}. */
export interface BeaconStats {
  sent: number;
  received: number;
  own: number;
  protocolErrors: number;
  sendErrors: number;
  peers: number;
  joined: number;
  left: number;
}

/**
 * UDP discovery (Guide ch. 8, `udpping1`–`3`; 36/ZRE beacons): broadcasts a
 * beacon every `interval` ms (the first at once) on a UDP port every node
 * shares, and tracks the nodes it hears with `@zg/heartbeat`'s
 * `PresenceTracker` (any beacon is a sign of life; interval × liveness of
 * silence is `peer:left`). ZRE beacons of the wrong size, header or version
 * and this node's own beacons are dropped; port 0 means the sender is
 * leaving, and `close()` sends one. `start()` resolves with the bound UDP port.
 *
 * @example
 * ```ts
 * const beacon = new Beacon({ announce: 5555 });
 * beacon.on("peer:joined", ({ address, port }) => console.log(`tcp://${address}:${port}`));
 * await beacon.start();
 * await beacon.close();
 * ```
 */
export class Beacon extends Component<BeaconEvents, BeaconStats, { port: number }> {
  /** The beacon format. */
  readonly format: BeaconFormat;
  /** This node's UUID (ZRE). */
  readonly uuid: Buffer;
  readonly #port: number;
  readonly #announce: number | undefined;
  readonly #interval: number;
  readonly #liveness: number;
  readonly #clock: Clock | undefined;
  readonly #broadcast: string;
  readonly #bind: string;
  #socket: UdpSocket | undefined;
  #tracker: PresenceTracker<string> | undefined;
  readonly #peers = new Map<string, BeaconPeer>();
  readonly #stats = {
    sent: 0,
    received: 0,
    own: 0,
    protocolErrors: 0,
    sendErrors: 0,
    joined: 0,
    left: 0,
  };

  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: BeaconOptions = {}) {
    super("Beacon", options);
    this.#clock = options.clock;
    this.format = options.format ?? "zre";
    assertArgument(
      this.format === "zre" || this.format === "udpping",
      'format must be "zre" or "udpping"',
    );
    this.#port = integerOption(
      "port",
      options.port,
      this.format === "zre" ? DEFAULT_BEACON_PORT : UDPPING_PORT,
      {
        min: 0,
        max: 65_535,
      },
    );
    if (options.announce !== undefined)
      this.#announce = integerOption("announce", options.announce, 0, { min: 1, max: 65_535 });
    this.uuid = options.uuid ?? randomBytes(16);
    assertArgument(this.uuid.length === 16, "uuid must be 16 bytes");
    this.#interval = durationOption("interval", options.interval, DEFAULT_BEACON_INTERVAL, {
      min: 10,
    });
    this.#liveness = integerOption("liveness", options.liveness, DEFAULT_BEACON_LIVENESS, {
      min: 1,
      max: 100,
    });
    this.#broadcast = options.broadcastAddress ?? DEFAULT_BROADCAST_ADDRESS;
    this.#bind = options.bindAddress ?? "0.0.0.0";
  }

  /** Peers heard and not yet left. */
  peers(): BeaconPeer[] {
    return [...this.#peers.values()].map((p) => ({ ...p }));
  }

  stats(): BeaconStats {
    return { ...this.#stats, peers: this.#peers.size };
  }

  protected async onStart(): Promise<{ port: number }> {
    const tracker = new PresenceTracker<string>({
      ...(this.#clock === undefined ? {} : { clock: this.#clock }),
      interval: this.#interval,
      liveness: this.#liveness,
    });
    this.#tracker = tracker;
    this.own(() => tracker.close());
    tracker.on("peer:expired", ({ key }) => this.#left(key, "expired"));
    const socket = createSocket({ type: "udp4", reuseAddr: true });
    this.#socket = socket;
    this.own(
      () =>
        new Promise<void>((resolve) => {
          try {
            socket.close(() => resolve());
          } catch {
            resolve();
          }
        }),
    );
    socket.on("message", (msg, rinfo) => this.#onDatagram(msg, rinfo.address, rinfo.port));
    socket.on("error", (e) => this.logger.warn("beacon socket error", { error: e.message }));
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(this.#port, this.#bind, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    socket.setBroadcast(true);
    if (this.#announce !== undefined) {
      this.#send();
      this.setInterval(() => this.#send(), this.#interval);
    }
    return { port: socket.address().port };
  }

  protected override async onClose(): Promise<void> {
    if (this.#announce !== undefined && this.format === "zre" && this.#socket !== undefined)
      await this.#sendNow(encodeZreBeacon(this.uuid, 0)).catch(() => undefined);
  }

  #beacon(): Buffer {
    return this.format === "zre" ? encodeZreBeacon(this.uuid, this.#announce ?? 0) : UDPPING_BEACON;
  }

  #send(): void {
    this.#sendNow(this.#beacon()).catch(() => undefined);
  }

  #sendNow(datagram: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket!.send(datagram, this.#port, this.#broadcast, (error) => {
        if (error) {
          this.#stats.sendErrors++;
          this.logger.warn("beacon send failed", { error: error.message });
          reject(error);
        } else {
          this.#stats.sent++;
          resolve();
        }
      });
    });
  }

  #onDatagram(msg: Buffer, address: string, udpPort: number): void {
    if (this.stopping) return;
    let peer: BeaconPeer;
    if (this.format === "udpping") {
      if (msg.length !== 1 || msg[0] !== UDPPING_BEACON[0])
        return this.#invalid("not a udpping beacon", address);
      peer = { id: `${address}:${udpPort}`, address, port: udpPort };
    } else {
      const beacon = decodeZreBeacon(msg);
      if (typeof beacon === "string") return this.#invalid(beacon, address);
      if (beacon.uuid.equals(this.uuid)) {
        this.#stats.own++;
        return;
      }
      const id = beacon.uuid.toString("hex").toUpperCase();
      if (beacon.port === 0) {
        this.#stats.received++;
        if (this.#tracker?.remove(id) === true || this.#peers.has(id)) this.#left(id, "leaving");
        return;
      }
      peer = { id, address, port: beacon.port };
    }
    this.#stats.received++;
    const seen = this.#tracker?.seen(peer.id);
    const known = this.#peers.get(peer.id);
    this.#peers.set(peer.id, peer);
    this.emit("beacon:received", { ...peer });
    if (known === undefined && (seen === "joined" || seen === "returned" || seen === "alive")) {
      this.#stats.joined++;
      this.emit("peer:joined", { ...peer });
    }
  }

  #left(id: string, reason: "leaving" | "expired"): void {
    if (!this.#peers.delete(id)) return;
    this.#stats.left++;
    this.emit("peer:left", { id, reason });
  }

  #invalid(reason: string, address: string): void {
    this.#stats.protocolErrors++;
    this.logger.debug("bad beacon", { reason, address });
    this.emit("protocol:invalid", { reason, address });
  }
}
