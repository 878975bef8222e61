import { fork, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { DemoMessage } from "./ipc.js";

/** What to run: a Node module with arguments. */
export interface ChildSpec {
  /** Unique display name, also the log file name (`<name>.log`). */
  readonly name: string;
  /** Absolute path of the module to run. */
  readonly module: string;
  /** Its arguments. */
  readonly args: readonly string[];
}

/** The `"event":"ready"` JSON line of an app built on @zg/app-kit. */
export type ReadyLine = Record<string, unknown> & { endpoints: Record<string, string[]> };

/**
 * One supervised process of the reference system. It runs in its own process
 * group (so a terminal Ctrl-C reaches only the launcher, which then stops
 * everything in order) with an IPC channel (so it stops by itself if the
 * launcher dies). stdout and stderr go to `<logDir>/<name>.log`.
 */
export class Child {
  readonly spec: ChildSpec;
  proc: ChildProcess | undefined;
  /** The last IPC report (demo processes). */
  lastReport: DemoMessage | undefined;
  /** The ready line (apps) once seen. */
  readyLine: ReadyLine | undefined;
  /** Called with every IPC message that is not a ready or periodic report (e.g. a configuration change). */
  onMessage: ((child: Child, message: DemoMessage) => void) | undefined;
  /** Set when the launcher stops the process on purpose (chaos or shutdown). */
  expectedExit = false;
  #log: WriteStream;
  #exited: Promise<void> = Promise.resolve();
  #onExit: ((child: Child, code: number | null, signal: NodeJS.Signals | null) => void) | undefined;

  constructor(
    spec: ChildSpec,
    logDir: string,
    onExit?: (child: Child, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {
    this.spec = spec;
    this.#log = createWriteStream(join(logDir, `${spec.name}.log`), { flags: "a" });
    this.#onExit = onExit;
  }

  /** The current pid. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** True while the process runs. */
  get alive(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves when the current process has exited. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /**
   * Starts the process; resolves when it is ready: an app's `"event":"ready"`
   * stdout line, or a demo process's `{ type: "ready" }` IPC message.
   */
  start(timeout = 20_000): Promise<void> {
    this.expectedExit = false;
    this.readyLine = undefined;
    this.lastReport = undefined;
    const proc = fork(this.spec.module, [...this.spec.args], {
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      detached: true,
    });
    this.proc = proc;
    let tail = "";
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => settle(new Error(`${this.spec.name} not ready within ${timeout} ms\n${tail}`)),
        timeout,
      );
      let partial = "";
      proc.stdout?.on("data", (d: Buffer) => {
        this.#log.write(d);
        tail = (tail + d.toString()).slice(-4000);
        partial += d.toString();
        let nl: number;
        while ((nl = partial.indexOf("\n")) >= 0) {
          const line = partial.slice(0, nl);
          partial = partial.slice(nl + 1);
          if (this.readyLine === undefined && line.includes('"event":"ready"')) {
            try {
              this.readyLine = JSON.parse(line) as ReadyLine;
              settle();
            } catch {
              // not JSON after all; keep waiting
            }
          }
        }
      });
      proc.stderr?.on("data", (d: Buffer) => {
        this.#log.write(d);
        tail = (tail + d.toString()).slice(-4000);
      });
      proc.on("message", (m) => {
        const message = m as DemoMessage;
        if (message.type === "ready") settle();
        else if (message.type === "worker" || message.type === "client") this.lastReport = message;
        else this.onMessage?.(this, message);
      });
      this.#exited = new Promise<void>((done) => {
        proc.once("exit", (code, signal) => {
          settle(
            new Error(`${this.spec.name} exited (${code ?? signal}) before it was ready\n${tail}`),
          );
          this.#onExit?.(this, code, signal);
          done();
        });
      });
    });
  }

  /** Sends a signal to the process (ignored if it is not running). */
  kill(signal: NodeJS.Signals): void {
    if (this.alive) this.proc?.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 2500): Promise<"clean" | "killed"> {
    this.expectedExit = true;
    if (!this.alive) return "clean";
    this.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      this.exited.then(() => "clean" as const),
      new Promise<"killed">((r) => {
        timer = setTimeout(() => {
          this.kill("SIGKILL");
          r("killed");
        }, graceMs);
      }),
    ]);
    clearTimeout(timer);
    await this.exited;
    return result;
  }

  /** Closes the log file. */
  closeLog(): void {
    this.#log.end();
  }
}
