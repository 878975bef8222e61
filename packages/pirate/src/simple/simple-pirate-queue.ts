import {
  LoadBalancingBroker,
  type LoadBalancingBrokerOptions,
} from "../lb/load-balancing-broker.js";

/** Options of {@link SimplePirateQueue}: those of {@link LoadBalancingBroker}. */
export type SimplePirateQueueOptions = LoadBalancingBrokerOptions;

/**
 * The Guide's Simple Pirate queue (ch. 4, "Basic Reliable Queuing (Simple
 * Pirate Pattern)", `spqueue`): exactly the {@link LoadBalancingBroker}, used
 * with Lazy Pirate clients and {@link SimplePirateWorker}s that send READY
 * (`0x01`). Unlike `spqueue.py` under Python 3, READY is never forwarded to the
 * frontend. Known weaknesses (they motivate {@link PirateQueue}): no
 * heartbeats, so a dead idle worker stays in the list until a send to it
 * fails, and workers do not re-register after a queue restart.
 *
 * @example
 * ```ts
 * const queue = new SimplePirateQueue();
 * const { frontend, backend } = await queue.start();
 * await queue.close();
 * ```
 */
export class SimplePirateQueue extends LoadBalancingBroker {
  /** @throws `ZG_INVALID_ARGUMENT` for a bad option. */
  constructor(options: SimplePirateQueueOptions = {}) {
    super(options, "SimplePirateQueue");
  }
}
