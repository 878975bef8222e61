import {
  bindAll,
  createRouter,
  isZgError,
  SocketLoop,
  type Logger,
  type Message,
  type Releasable,
} from "@zg/core";
import type { BrokerEndpoints } from "../common/broker-types.js";
import { socketMaxMessageSize } from "../common/max-message-size.js";

/** What the socket shell of an LRU broker drives (an `LruQueueCore` or its 6/PPP adapter). */
export interface LruShellCore {
  onClient(message: Message): void | Promise<void>;
  onClientSendFailure(): void;
  protocolError(): void;
  releaseWaiting(): void;
  close(): void;
}

/** Options of {@link startLruBrokerLoops}. */
export interface LruBrokerLoopsOptions {
  frontend: readonly string[];
  backend: readonly string[];
  linger: number;
  /** Validated `maxMessageSize`, bytes (0 = no limit), set on both ROUTERs. */
  maxMessageSize: number;
  logger: Logger;
  core: LruShellCore;
  /** A worker message (the broker's codec decodes it into core calls). @throws ProtocolError */
  onBackend: (message: Message) => void;
  /** A backend send failed (not `closed`). */
  onBackendSendFailure: (message: Message) => void;
  /** A malformed message was counted and dropped. */
  onProtocolError: (socket: "frontend" | "backend", reason: string) => void;
  /** The component's `own()`. */
  own: <T extends Releasable>(resource: T) => T;
}

/**
 * The thin socket shell shared by the load-balancing, Simple Pirate and
 * Paranoid Pirate brokers: binds the frontend and backend ROUTERs (both with
 * `maxMessageSize`), runs one
 * `SocketLoop` on each, feeds the core, counts and drops malformed input,
 * and registers everything for release (the backpressure wait first, so a
 * held reader never blocks close).
 *
 * @internal
 */
export async function startLruBrokerLoops(
  o: LruBrokerLoopsOptions,
): Promise<{ frontend: SocketLoop; backend: SocketLoop; endpoints: BrokerEndpoints }> {
  const maxMessageSize = socketMaxMessageSize(o.maxMessageSize);
  const frontendSocket = o.own(createRouter({ linger: o.linger, maxMessageSize }));
  const backendSocket = o.own(createRouter({ linger: o.linger, maxMessageSize }));
  const frontendEndpoints = await bindAll(frontendSocket, o.frontend);
  const backendEndpoints = await bindAll(backendSocket, o.backend);
  const guard = (
    socket: "frontend" | "backend",
    fn: () => void | Promise<void>,
  ): void | Promise<void> => {
    try {
      return fn();
    } catch (error) {
      if (!isZgError(error, "ZG_PROTOCOL")) throw error;
      o.core.protocolError();
      o.logger.debug("malformed message dropped", { socket, error: error.message });
      o.onProtocolError(socket, error.message);
    }
  };
  o.own(() => o.core.close());
  const backend = o.own(
    new SocketLoop(backendSocket, {
      name: "backend",
      logger: o.logger,
      onMessage: (m) => guard("backend", () => o.onBackend(m)),
      onSendFailure: (m, outcome) => {
        if (outcome !== "closed") o.onBackendSendFailure(m);
      },
    }),
  );
  const frontend = o.own(
    new SocketLoop(frontendSocket, {
      name: "frontend",
      logger: o.logger,
      onMessage: (m) => guard("frontend", () => o.core.onClient(m)),
      onSendFailure: (_m, outcome) => {
        if (outcome !== "closed") o.core.onClientSendFailure();
      },
    }),
  );
  o.own(() => o.core.releaseWaiting()); // released first: a reader held by backpressure must not block close
  backend.start();
  frontend.start();
  return {
    frontend,
    backend,
    endpoints: { frontend: frontendEndpoints, backend: backendEndpoints },
  };
}
