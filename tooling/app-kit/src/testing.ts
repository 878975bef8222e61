import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, onTestFinished } from "vitest";

/** A JSON log line of an app. */
export type LogLine = Record<string, unknown> & { event?: string; msg?: string };

/** How an app process ended. */
export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of {@link spawnApp}. */
export interface SpawnAppOptions {
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Working directory. */
  cwd?: string;
  /** Node flags before the bin, e.g. `["--import", "tsx"]` for a TypeScript fixture. */
  execArgv?: readonly string[];
}

/**
 * A built app bin running as a child process (`node <bin> …args`), its JSON
 * log lines parsed as they arrive. Killed with SIGKILL when the test ends if
 * it is still running.
 */
export class AppProcess {
  readonly proc: ChildProcess;
  /** Parsed JSON lines from stdout. */
  readonly lines: LogLine[] = [];
  /** Raw stdout and stderr. */
  stdout = "";
  stderr = "";
  /** Resolves when the process exits. */
  readonly exited: Promise<AppExit>;
  #waiters: (() => void)[] = [];
  #exit: AppExit | undefined;

  constructor(bin: string, args: readonly string[], options: SpawnAppOptions = {}) {
    this.proc = spawn(process.execPath, [...(options.execArgv ?? []), bin, ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let partial = "";
    this.proc.stdout?.on("data", (d: Buffer) => {
      this.stdout += d.toString();
      partial += d.toString();
      let nl: number;
      while ((nl = partial.indexOf("\n")) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ msg: line, raw: true });
        }
      }
      this.#wake();
    });
    this.proc.stderr?.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.exited = new Promise((resolve) => {
      this.proc.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        this.#wake();
        resolve({ code, signal });
      });
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** The pid. */
  get pid(): number {
    return this.proc.pid as number;
  }

  /** True while running. */
  get alive(): boolean {
    return this.#exit === undefined;
  }

  /** Resolves with the first line matching `predicate`; rejects on exit or after `timeout` ms. */
  async waitForLine(
    predicate: (line: LogLine) => boolean,
    timeout = 15_000,
    what = "log line",
  ): Promise<LogLine> {
    const deadline = performance.now() + timeout;
    for (;;) {
      const found = this.lines.find(predicate);
      if (found) return found;
      if (this.#exit)
        throw new Error(
          `app exited (${this.#exit.code ?? this.#exit.signal}) before ${what}\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(
          `no ${what} within ${timeout} ms\nstdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Resolves with the ready line (`"event":"ready"`). */
  ready(timeout = 15_000): Promise<LogLine & { endpoints: Record<string, string[]> }> {
    return this.waitForLine((l) => l.event === "ready", timeout, "ready line") as Promise<
      LogLine & { endpoints: Record<string, string[]> }
    >;
  }

  /** Sends `signal` and resolves with the exit and the ms it took. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<AppExit & { ms: number }> {
    const t0 = performance.now();
    if (this.alive) this.proc.kill(signal);
    const exit = await this.exited;
    return { ...exit, ms: performance.now() - t0 };
  }
}

/** Starts a built app bin; it is SIGKILLed at the end of the test if still alive. */
export function spawnApp(
  bin: string,
  args: readonly string[] = [],
  options: SpawnAppOptions = {},
): AppProcess {
  const app = new AppProcess(bin, args, options);
  onTestFinished(async () => {
    if (app.alive) {
      app.proc.kill("SIGKILL");
      await app.exited;
    }
  });
  return app;
}

/** Runs a built app bin to completion (e.g. `--help` or a startup error). */
export async function runAppToExit(
  bin: string,
  args: readonly string[] = [],
  options: SpawnAppOptions & { timeout?: number } = {},
): Promise<AppExit & { stdout: string; stderr: string }> {
  const app = spawnApp(bin, args, options);
  const timeout = options.timeout ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exit = await Promise.race([
    app.exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`app did not exit within ${timeout} ms\n${app.stdout}\n${app.stderr}`)),
        timeout,
      );
    }),
  ]);
  clearTimeout(timer);
  return { ...exit, stdout: app.stdout, stderr: app.stderr };
}

/** True if a process with this pid still exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/**
 * The command of the app whose test calls it: the first `bin` of
 * `<app>/package.json` (a shim importing `dist/main.js`), from `import.meta.url`
 * of a file in `<app>/test/`. Throws a clear error if the app was not built
 * (turbo runs build before test; or `pnpm turbo run build --filter <app>`).
 */
export function builtBin(testFileUrl: string): string {
  const pkgPath = fileURLToPath(new URL("../package.json", testFileUrl));
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { bin?: Record<string, string> };
  const bin = Object.values(pkg.bin ?? {})[0];
  if (bin === undefined) throw new Error(`${pkgPath} has no bin`);
  const built = fileURLToPath(new URL("../dist/main.js", testFileUrl));
  if (!existsSync(built))
    throw new Error(`${built} is missing: build the app first (turbo runs build before test)`);
  return join(dirname(pkgPath), bin);
}

/**
 * Sends SIGTERM and checks the app's promise: exit 0 within `withinMs`
 * (2 s), `stopping` and `stopped` logged, the process gone.
 */
export async function expectCleanStop(app: AppProcess, withinMs = 2000): Promise<void> {
  const exit = await app.stop("SIGTERM");
  expect(exit, `${app.stdout}\n${app.stderr}`).toMatchObject({ code: 0, signal: null });
  expect(exit.ms).toBeLessThan(withinMs);
  const events = app.lines.map((l) => l.event).filter((e) => e !== undefined);
  expect(events).toEqual(expect.arrayContaining(["ready", "stopping", "stopped"]));
  expect(processExists(app.pid)).toBe(false);
  expect(app.stderr).toBe("");
}

/**
 * Node flags that preload the receive-fault hook: on SIGUSR2 every pending and
 * future zeromq.js `receive()` in the app process rejects (`EFAULT`), as a
 * real receive failure would. Pass as {@link SpawnAppOptions.execArgv}.
 */
export const RECEIVE_FAULT_PRELOAD: readonly string[] = [
  "--import",
  fileURLToPath(new URL("../fault/break-receive-on-sigusr2.mjs", import.meta.url)),
];

/**
 * The fatal-path promise of an app: after SIGUSR2 breaks its sockets' readers
 * (the app must have been spawned with {@link RECEIVE_FAULT_PRELOAD}), the
 * app exits non-zero within `withinMs` and logs exactly one fatal line, which
 * names the component and the error. Resolves with that line.
 */
export async function expectFatalExit(
  app: AppProcess,
  withinMs = 5000,
): Promise<LogLine & { component: string; error: string }> {
  const t0 = performance.now();
  app.proc.kill("SIGUSR2");
  const exit = await within(app.exited, withinMs, "exit after the receive fault");
  const fatal = app.lines.filter((l) => l["level"] === "fatal");
  expect(exit, `${app.stdout}\n${app.stderr}`).toMatchObject({ code: 1, signal: null });
  expect(performance.now() - t0).toBeLessThan(withinMs);
  expect(fatal, app.stdout).toHaveLength(1);
  const line = fatal[0] as LogLine & { component: string; error: string };
  expect(line).toMatchObject({
    event: "failed",
    component: expect.any(String) as string,
    error: expect.stringContaining("receive failed") as string,
    cause: expect.stringContaining("injected receive fault") as string,
  });
  return line;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
