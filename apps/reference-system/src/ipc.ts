/**
 * Messages between the launcher and its demo processes (over the Node IPC
 * channel of `child_process.fork`).
 */

/** Counters a demo worker reports each second. */
export interface WorkerReport {
  type: "worker";
  handled: number;
  /** Heartbeats the worker sent (PPP workers only; MDP workers do not count them). */
  heartbeatsSent: number | undefined;
  /** Times the worker (re)connected to its broker. */
  connects: number;
}

/** One traffic flow of the demo client. */
export interface FlowReport {
  ok: number;
  failed: number;
  /** Latencies (ms) of the requests completed since the last report. */
  latencies: number[];
  /** The last failure, if any, since the last report. */
  lastError: string | undefined;
}

/** What the demo client reports each second, per flow (`mdp echo`, `mdp slow`, `ppp`, `titanic`). */
export interface ClientReport {
  type: "client";
  flows: Record<string, FlowReport>;
  /** The request periods (ms) the client uses now, by setting (`echo-period`, …). */
  config: Record<string, number>;
}

/** A configuration change the demo client saw through Clone: applied, or rejected with the reason. */
export interface ConfigReport {
  type: "config";
  /** The Clone key, e.g. `config/demo/echo-period`. */
  key: string;
  /** The value as received (undefined: the key was deleted). */
  value: string | undefined;
  /** The value applied, ms (undefined when rejected). */
  applied: number | undefined;
  /** The value before, ms. */
  previous: number | undefined;
  /** Why the value was not applied. */
  rejected: string | undefined;
}

/** Sent once when a demo process is running. */
export interface ReadyReport {
  type: "ready";
}

/** Any message from a demo process. */
export type DemoMessage = WorkerReport | ClientReport | ConfigReport | ReadyReport;

/** Sends `message` to the launcher if there is an IPC channel. */
export function report(message: DemoMessage): void {
  if (typeof process.send === "function" && process.connected) process.send(message);
}

/**
 * Stops a demo process cleanly on SIGINT/SIGTERM/SIGHUP or when the launcher goes
 * away (IPC disconnect): runs `close`, then exits 0 (1 if close takes over 2 s).
 */
export function onStop(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(0);
    stopping = true;
    const timer = setTimeout(() => process.exit(1), 2000);
    void close().finally(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", stop);
  process.on("disconnect", stop);
}
