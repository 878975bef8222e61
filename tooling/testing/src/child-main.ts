/**
 * The child side of the `@zg/testing` process harness. A child module calls
 * {@link childMain} with a setup function; the harness reports `ready` with
 * the endpoints, serves commands from the test, and exits on request.
 */
export interface ChildContext {
  /** Command-line arguments after the module path. */
  args: string[];
  /** Reports an event to the test (`child.waitForEvent(name)`). */
  emit(name: string, data?: unknown): void;
}

/** What a child's setup returns. */
export interface ChildSetup {
  /** Endpoints to report in the `ready` message. */
  endpoints?: Record<string, string | string[]>;
  /** Command handlers the test can `call`. */
  commands?: Record<string, (...args: unknown[]) => unknown>;
  /** Called on a clean `exit` command or SIGTERM. */
  close?: () => unknown;
}

function send(message: unknown): void {
  if (process.send !== undefined && process.connected) process.send(message);
}

/** Runs a child component under the test harness. */
export function childMain(setup: (ctx: ChildContext) => Promise<ChildSetup> | ChildSetup): void {
  const ctx: ChildContext = {
    args: process.argv.slice(2),
    emit: (name, data) => send({ type: "event", name, data }),
  };
  void (async () => {
    let result: ChildSetup;
    try {
      result = await setup(ctx);
    } catch (error) {
      process.stderr.write(`child setup failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    }
    const commands: Record<string, (...args: unknown[]) => unknown> = {
      __stall: (ms) => {
        const until = performance.now() + (ms as number);
        while (performance.now() < until) {
          /* busy loop: the event loop stalls, libzmq's I/O threads keep running */
        }
      },
      __exit: async () => {
        await result.close?.();
        setImmediate(() => process.exit(0));
      },
      ...result.commands,
    };
    process.on("message", (raw) => {
      const m = raw as { type: string; id: number; command: string; args: unknown[] };
      if (m.type !== "call") return;
      void (async () => {
        const fn = commands[m.command];
        try {
          if (fn === undefined) throw new Error(`unknown command ${m.command}`);
          const value = await fn(...m.args);
          send({ type: "reply", id: m.id, ok: true, value });
        } catch (error) {
          send({ type: "reply", id: m.id, ok: false, error: String(error) });
        }
      })();
    });
    process.on("disconnect", () => process.exit(0));
    process.once("SIGTERM", () => {
      void (async () => {
        await result.close?.();
        process.exit(0);
      })();
    });
    send({ type: "ready", endpoints: result.endpoints ?? {}, pid: process.pid });
  })();
}
