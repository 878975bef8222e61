import { constants } from "node:fs";
import { access, mkdir, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import * as zmq from "zeromq";
import type { Logger } from "@zg/core";
import { AppError, explainStartupError } from "./errors.js";
import { logBrokerDestination } from "./log-broker.js";
import { createAppLogger, toZgLogger, type PinoLogger } from "./logging.js";
import { MetricsServer, type LabelHints, type StatsSource } from "./metrics.js";
import {
  COMMON_OPTIONS,
  formatHelp,
  howToSet,
  parseOptions,
  type OptionSpecs,
  type OptionValues,
} from "./options.js";

/** What an app registers with {@link AppContext.add}: any zg component fits. */
export interface AppComponent {
  /** A cheap counter snapshot, exported by `--metrics`. */
  stats(): unknown;
  /** Releases everything; idempotent. */
  close(): Promise<void>;
  /**
   * Stops taking new work, finishes in-flight work within `timeout` ms, then
   * closes (every zg `Component` has it). The kit calls it on shutdown.
   */
  drain?(options?: { timeout?: number }): Promise<unknown>;
  /** Resolves when the component stops (with the fatal error, if any). */
  readonly closed?: Promise<Error | undefined>;
}

/** Options of {@link AppContext.add}. */
export interface AddOptions {
  /** Stats tables to export as labelled metrics (see {@link LabelHints}). */
  labelHints?: LabelHints;
}

/** What an app's `start` receives. */
export interface AppContext<S extends OptionSpecs> {
  /** The app name, e.g. `majordomo-broker`. */
  readonly name: string;
  /** The parsed options, the app's own plus the kit's common ones. */
  readonly options: OptionValues<S & typeof COMMON_OPTIONS>;
  /** The app's pino logger (JSON lines on stdout). */
  readonly log: PinoLogger;
  /** A zg {@link Logger} writing to the app log, for a component's `logger` option. */
  readonly logger: Logger;
  /** Aborted when shutdown begins. */
  readonly signal: AbortSignal;
  /**
   * Registers a component: its `stats()` go to `--metrics`, it is drained
   * and closed on shutdown (in reverse order of registration), and an
   * unexpected stop ends the app with exit code 1. Register right after
   * constructing, before `start()`, so a failed start still closes it.
   */
  add<T extends AppComponent>(name: string, component: T, options?: AddOptions): T;
  /** Runs `fn` first on shutdown (stop accepting work), bounded by `--drain-timeout`. */
  onShutdown(fn: () => Promise<void> | void): void;
  /**
   * Creates the directory option `key` names if needed and checks that it is
   * writable; resolves with its absolute path.
   *
   * @throws {@link AppError} naming the option.
   */
  ensureDirectory(key: keyof S & string): Promise<string>;
}

/** What an app's `start` resolves with. */
export interface AppStarted {
  /** Every bound endpoint by role, e.g. `{ frontend: ["tcp://127.0.0.1:5555"] }`; printed on the ready line. */
  readonly endpoints: Readonly<Record<string, string | readonly string[]>>;
  /** Extra fields for the ready line. */
  readonly info?: Readonly<Record<string, unknown>>;
}

/** An app: its options and how it starts. Adding an app is a folder with one of these. */
export interface AppDefinition<S extends OptionSpecs> {
  /** Kebab-case name; also the `ZG_<NAME>_` environment prefix. */
  readonly name: string;
  /** The command name, e.g. `zg-majordomo-broker`. */
  readonly bin: string;
  /** One line for `--help`. */
  readonly description: string;
  /** The Guide source it re-expresses, e.g. `examples/C/mdbroker.c (chapter 4)`. */
  readonly guide: string;
  /** The app's own options (the kit adds `--metrics`, `--log-level`, `--drain-timeout`). */
  readonly options: S;
  /** Builds, registers and starts the components; resolves with the bound endpoints. */
  start(ctx: AppContext<S>): Promise<AppStarted>;
}

/** Declares an app (an identity function that keeps the option types). */
export function defineApp<S extends OptionSpecs>(definition: AppDefinition<S>): AppDefinition<S> {
  return definition;
}

/** Bound on closing the components after the drain phase, ms. */
export const CLOSE_TIMEOUT = 700;

/** Where {@link runApp} reads its inputs (the process by default; tests override). */
export interface RunAppIo {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
}

function errorLine(bin: string, error: AppError): string {
  const hint =
    error.option !== undefined && error.app !== undefined
      ? `; change ${howToSet(error.app, error.option)}`
      : "";
  return `${bin}: error: ${error.message}${hint}\n`;
}

/**
 * Runs an app as the process: parses options (or prints `--help`), starts
 * the components, logs the `ready` line, serves `--metrics`, and on
 * SIGINT/SIGTERM/SIGHUP drains (bounded by `--drain-timeout`), closes and exits 0; a
 * second signal exits at once (130/143/129). A startup failure prints one line
 * naming the option to change on stderr and exits 2 (bad option) or 1.
 */
export async function runApp<S extends OptionSpecs>(
  app: AppDefinition<S>,
  io: RunAppIo = {},
): Promise<void> {
  const specs: S & typeof COMMON_OPTIONS = { ...app.options, ...COMMON_OPTIONS };
  const fail = (error: unknown, values: Record<string, unknown>): never => {
    const e = explainStartupError(error, values);
    const withApp =
      e.app === undefined && e.option !== undefined
        ? new AppError(e.message, { app: app.name, option: e.option, exitCode: e.exitCode })
        : e;
    process.stderr.write(errorLine(app.bin, withApp));
    process.exit(withApp.exitCode);
  };

  let values: OptionValues<S & typeof COMMON_OPTIONS>;
  try {
    const parsed = parseOptions(
      app.name,
      specs,
      io.argv ?? process.argv.slice(2),
      io.env ?? process.env,
    );
    if (parsed.help) {
      process.stdout.write(`${formatHelp(app, specs)}\n`);
      process.exit(0);
    }
    values = parsed.values;
  } catch (error) {
    return fail(error, {});
  }

  // Sockets are all created with an explicit linger; never let context
  // termination block the exit on a socket someone forgot.
  zmq.context.blocky = false;
  const common = values as unknown as OptionValues<typeof COMMON_OPTIONS>;

  // --log-broker: stdout as before, plus a LogPublisher (closed last, after every component).
  const toBroker =
    common.logBroker === undefined ? undefined : logBrokerDestination(app.name, common.logBroker);
  const log = createAppLogger(app.name, common.logLevel, toBroker?.destination);
  const logger = toZgLogger(log);
  const components: {
    name: string;
    component: AppComponent;
    labelHints?: LabelHints;
  }[] = toBroker === undefined ? [] : [{ name: "logBroker", component: toBroker.publisher }];
  const shutdownHooks: (() => Promise<void> | void)[] = [];
  const abort = new AbortController();
  let ready = false;
  let stopping = false;
  let metrics: MetricsServer | undefined;

  const bounded = async (work: Promise<unknown>, ms: number): Promise<boolean> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), ms))),
    ]);
    clearTimeout(timer);
    return done;
  };

  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    log.info({ event: "stopping", reason }, "stopping");
    // Each component drains itself (stop taking work, finish in flight within the bound,
    // close); the kit's own bound covers a drain() that overruns its timeout.
    let completed = true;
    const settled = await bounded(
      Promise.all([
        ...shutdownHooks.map(async (fn) => fn()),
        ...components.map(async ({ component }) => {
          const result = await component.drain?.({ timeout: common.drainTimeout });
          if ((result as { completed?: boolean } | undefined)?.completed === false)
            completed = false;
        }),
      ]),
      common.drainTimeout + CLOSE_TIMEOUT,
    );
    const drained = settled && completed;
    if (!drained)
      log.warn(
        { event: "drain-timeout", drainTimeout: common.drainTimeout },
        "in-flight work did not finish in time",
      );
    const closing = (async () => {
      for (const { component, name } of [...components].reverse()) {
        try {
          await component.close();
        } catch (error) {
          log.warn({ component: name, error: String(error) }, "error while closing");
        }
      }
      await metrics?.close();
    })();
    const closed = await bounded(closing, CLOSE_TIMEOUT);
    if (!closed) {
      log.error(
        { event: "close-timeout", closeTimeout: CLOSE_TIMEOUT },
        "components did not close in time; exiting anyway",
      );
      process.exit(1);
    }
    log.info({ event: "stopped", code }, "stopped");
    process.exit(code);
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log.warn({ event: "forced-exit", signal }, "second signal, exiting at once");
      process.exit(signal === "SIGINT" ? 130 : signal === "SIGHUP" ? 129 : 143);
    }
    void shutdown(signal, 0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // SIGHUP (the terminal or a supervisor going away) is a graceful stop too: nothing is reloaded.
  process.on("SIGHUP", onSignal);
  process.on("uncaughtException", (error) => {
    if (!ready) fail(error, values);
    log.fatal({ event: "crashed", error: error.message }, "uncaught exception");
    process.exit(1);
  });
  process.on("unhandledRejection", (reason) => {
    if (!ready) fail(reason, values);
    log.fatal({ event: "crashed", error: String(reason) }, "unhandled rejection");
    process.exit(1);
  });

  const ctx: AppContext<S> = {
    name: app.name,
    options: values,
    log,
    logger,
    signal: abort.signal,
    add: (name, component, options = {}) => {
      components.push({
        name,
        component,
        ...(options.labelHints ? { labelHints: options.labelHints } : {}),
      });
      void component.closed?.then((error) => {
        if (stopping || !ready) return;
        // The one line an operator reads: which component stopped and why; exit 1.
        const cause = (error as { cause?: unknown } | undefined)?.cause;
        log.fatal(
          {
            event: "failed",
            component: name,
            error: error?.message ?? "closed unexpectedly",
            ...(cause === undefined
              ? {}
              : { cause: cause instanceof Error ? cause.message : JSON.stringify(cause) }),
          },
          `${name} stopped: ${error?.message ?? "closed unexpectedly"}`,
        );
        void shutdown(`${name} stopped`, 1);
      });
      return component;
    },
    onShutdown: (fn) => {
      shutdownHooks.push(fn);
    },
    ensureDirectory: async (key) => {
      const dir = resolve(String((values as Record<string, unknown>)[key]));
      try {
        await mkdirReportingCause(dir);
        await access(dir, constants.W_OK);
        const probe = join(dir, `.zg-write-test-${process.pid}`);
        await writeFile(probe, "");
        await rm(probe, { force: true });
      } catch (error) {
        const code = (error as { code?: string }).code;
        const why =
          code === "ENOTDIR" || code === "EEXIST"
            ? "not a directory"
            : code === "EACCES" || code === "EROFS" || code === "EPERM"
              ? "not writable"
              : (error as Error).message;
        throw new AppError(
          `cannot use ${dir} as a data directory: ${why}${code ? ` (${code})` : ""}`,
          { app: app.name, option: key, exitCode: 1 },
        );
      }
      return dir;
    },
  };

  try {
    let metricsUrl: string | undefined;
    if (common.metrics !== undefined) {
      const server = new MetricsServer(app.name, () =>
        components.map((c): StatsSource => ({
          name: c.name,
          stats: () => c.component.stats(),
          ...(c.labelHints ? { labelHints: c.labelHints } : {}),
        })),
      );
      try {
        metricsUrl = await server.listen(common.metrics);
        metrics = server;
      } catch (error) {
        const code = (error as { code?: string }).code;
        const why = code === "EADDRINUSE" ? "address already in use" : (error as Error).message;
        throw new AppError(`cannot serve metrics on ${common.metrics}: ${why}`, {
          app: app.name,
          option: "metrics",
          exitCode: 1,
        });
      }
    }
    const started = await app.start(ctx);
    if (stopping) return;
    ready = true;
    // Started by a supervisor with an IPC channel (the reference-system
    // launcher): when that parent goes away, stop instead of lingering.
    if (typeof process.send === "function") {
      process.once("disconnect", () => void shutdown("parent exited", 0));
    }
    log.info(
      {
        event: "ready",
        endpoints: started.endpoints,
        ...(metricsUrl === undefined
          ? {}
          : { metrics: `${metricsUrl}/metrics`, stats: `${metricsUrl}/stats` }),
        ...started.info,
      },
      `${app.name} ready`,
    );
  } catch (error) {
    if (stopping) return;
    stopping = true;
    for (const { component } of [...components].reverse()) {
      await bounded(component.close(), CLOSE_TIMEOUT);
    }
    await metrics?.close();
    fail(error, values);
  }
}

/** The first TCP endpoint of `endpoints`, rewritten so a local peer can connect (`*` and `0.0.0.0` → `127.0.0.1`). */
export function connectableEndpoint(endpoints: readonly string[]): string {
  const first = endpoints.find((e) => e.startsWith("tcp://")) ?? endpoints[0];
  if (first === undefined) throw new AppError("no endpoint bound");
  return first
    .replace("tcp://*:", "tcp://127.0.0.1:")
    .replace("tcp://0.0.0.0:", "tcp://127.0.0.1:")
    .replace("tcp://[::]:", "tcp://[::1]:");
}

/**
 * `mkdir -p` that reports the real cause: Node's recursive mkdir says ENOENT
 * for a missing directory on a read-only filesystem; creating the first
 * missing component on its own fails with the real error (EROFS, EACCES …).
 */
async function mkdirReportingCause(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    let missing = dir;
    while (
      dirname(missing) !== missing &&
      !(await stat(dirname(missing)).then(
        () => true,
        () => false,
      ))
    )
      missing = dirname(missing);
    await mkdir(missing);
    throw error;
  }
}
