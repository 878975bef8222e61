import { fork, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";

/** Messages a child started with {@link spawnChild} sends to the test. */
export type ChildMessage =
  | { type: "ready"; endpoints: Record<string, string | string[]>; pid: number; info?: unknown }
  | { type: "reply"; id: number; ok: boolean; value?: unknown; error?: string }
  | { type: "event"; name: string; data?: unknown };

/** Options of {@link spawnChild}. */
export interface SpawnChildOptions {
  /** Command-line arguments for the child module. */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** ms to wait for the child's `ready` message. @defaultValue 15000 */
  readyTimeout?: number;
  /** Pipe the child's stdout/stderr to this process (debugging). @defaultValue false */
  inheritOutput?: boolean;
  /**
   * Bundle the module and the workspace sources it imports (`@zg/*`, through
   * the `@zg/source` condition) into one plain ES module with esbuild, once per
   * test process, and run that with plain Node instead of through tsx. Other
   * packages (zeromq …) stay external. A start then costs ~0.12 s instead of
   * ~0.45 s, for tests that restart a process hundreds of times.
   * @defaultValue false
   */
  bundle?: boolean;
}

const bundles = new Map<string, Promise<string>>();

/** The bundle of `module` (see {@link SpawnChildOptions.bundle}), built once per process. */
function bundleOf(module: string): Promise<string> {
  let out = bundles.get(module);
  if (out === undefined) {
    out = buildBundle(module);
    bundles.set(module, out);
  }
  return out;
}

async function buildBundle(module: string): Promise<string> {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [module],
    write: false,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    conditions: ["@zg/source"],
    logLevel: "error",
    plugins: [
      {
        name: "workspace-only",
        setup(b) {
          // Bare imports outside the workspace stay imports: node_modules resolve them at run time.
          b.onResolve({ filter: /^[^./]/ }, (a) =>
            a.path.startsWith("@zg/") ? undefined : { path: a.path, external: true },
          );
        },
      },
    ],
  });
  const code = result.outputFiles[0]?.contents;
  if (code === undefined) throw new Error(`esbuild produced no output for ${module}`);
  // Next to the module's package (its node_modules resolve the external imports), in its git-ignored
  // .tmp/, named by content: concurrent test processes share identical bundles, and a file only adds
  // up when the sources change.
  let root = dirname(module);
  while (!existsSync(join(root, "package.json")) && dirname(root) !== root) root = dirname(root);
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  const name = basename(module).replace(/\.[cm]?[jt]s$/, "");
  const outfile = join(root, ".tmp", "child-bundles", `${name}-${hash}.mjs`);
  if (!existsSync(outfile)) {
    mkdirSync(dirname(outfile), { recursive: true });
    const partial = `${outfile}.${process.pid}.partial`;
    writeFileSync(partial, code);
    renameSync(partial, outfile);
  }
  return outfile;
}

/**
 * A component running in its own Node process (a TypeScript module run
 * through tsx), with a control channel: wait for `ready` and its bound
 * endpoints, send commands, kill -9, SIGSTOP/SIGCONT, restart. Every child is
 * killed when the test finishes.
 */
export class ChildHandle {
  readonly module: string;
  readonly options: SpawnChildOptions;
  proc!: ChildProcess;
  /** Endpoints the child reported in its last `ready` message. */
  endpoints: Record<string, string | string[]> = {};
  /** Events the child reported (`{ type: "event" }` messages), in order. */
  readonly events: { name: string; data?: unknown; at: number }[] = [];
  /** stdout + stderr of the current process, for failure messages. */
  output = "";
  #nextId = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #exited!: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #eventWaiters: (() => void)[] = [];

  constructor(module: string, options: SpawnChildOptions) {
    this.module = module;
    this.options = options;
  }

  /** The child's pid. */
  get pid(): number {
    return this.proc.pid as number;
  }

  /** Resolves when the current process exits. */
  get exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exited;
  }

  /** True while the current process is running. */
  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts (or restarts) the process and waits for `ready`. */
  async start(extraArgs: string[] = []): Promise<Record<string, string | string[]>> {
    const bundled = this.options.bundle === true ? await bundleOf(this.module) : undefined;
    const proc = fork(bundled ?? this.module, [...(this.options.args ?? []), ...extraArgs], {
      execArgv: bundled === undefined ? ["--conditions=@zg/source", "--import", "tsx"] : [],
      env: { ...process.env, ...this.options.env },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
    });
    this.proc = proc;
    this.output = "";
    const append = (d: Buffer): void => {
      this.output += d.toString();
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
      if (this.options.inheritOutput) process.stderr.write(d);
    };
    proc.stdout?.on("data", append);
    proc.stderr?.on("data", append);
    this.#exited = new Promise((resolve) => {
      proc.once("exit", (code, signal) => {
        for (const p of this.#pending.values())
          p.reject(new Error(`child exited (${code ?? signal}) before replying`));
        this.#pending.clear();
        resolve({ code, signal });
      });
    });
    const ready = new Promise<Record<string, string | string[]>>((resolve, reject) => {
      const timeout = setTimeout(
        () =>
          reject(
            new Error(
              `child ${this.module} not ready within ${this.options.readyTimeout ?? 15000} ms\n${this.output}`,
            ),
          ),
        this.options.readyTimeout ?? 15000,
      );
      proc.on("message", (raw) => {
        const m = raw as ChildMessage;
        if (m.type === "ready") {
          clearTimeout(timeout);
          this.endpoints = m.endpoints;
          resolve(m.endpoints);
        } else if (m.type === "reply") {
          const p = this.#pending.get(m.id);
          this.#pending.delete(m.id);
          if (m.ok) p?.resolve(m.value);
          else p?.reject(new Error(m.error ?? "child command failed"));
        } else if (m.type === "event") {
          this.events.push({ name: m.name, data: m.data, at: performance.now() });
          const w = this.#eventWaiters;
          this.#eventWaiters = [];
          for (const f of w) f();
        }
      });
      void this.#exited.then(({ code, signal }) => {
        clearTimeout(timeout);
        reject(
          new Error(`child ${this.module} exited (${code ?? signal}) before ready\n${this.output}`),
        );
      });
    });
    return ready;
  }

  /** Sends a command to the child's handler and resolves with its answer. */
  call<T = unknown>(command: string, ...args: unknown[]): Promise<T> {
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ type: "call", id, command, args });
    });
  }

  /** Waits for an event named `name` (optionally matching `predicate`) and returns it. */
  async waitForEvent(
    name: string,
    {
      timeout = 5000,
      predicate,
    }: { timeout?: number; predicate?: (data: unknown) => boolean } = {},
  ): Promise<{ name: string; data?: unknown; at: number }> {
    const deadline = performance.now() + timeout;
    let from = 0;
    for (;;) {
      for (let i = from; i < this.events.length; i++) {
        const e = this.events[i];
        if (e !== undefined && e.name === name && (predicate === undefined || predicate(e.data))) {
          this.events.splice(i, 1);
          return e;
        }
      }
      from = this.events.length;
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(
          `child: no ${name} event within ${timeout} ms\n${this.output.slice(-2000)}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#eventWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a signal (SIGKILL by default) and waits for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.alive) this.proc.kill(signal);
    await this.#exited;
  }

  /** SIGSTOP: freezes the process, libzmq's I/O threads included. */
  pause(): void {
    this.proc.kill("SIGSTOP");
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    this.proc.kill("SIGCONT");
  }

  /** Asks the child to busy-loop its event loop for `ms` (libzmq threads keep running). */
  async stall(ms: number): Promise<void> {
    await this.call("__stall", ms);
  }

  /** kill -9 then start again (same module, same arguments). */
  async restart(extraArgs: string[] = []): Promise<Record<string, string | string[]>> {
    await this.kill("SIGKILL");
    return this.start(extraArgs);
  }
}

/**
 * Starts `module` (a path or `file:` URL to a TypeScript file that calls
 * {@link childMain} from `@zg/testing/child`) in a child process and waits
 * for it to report ready. The child is killed when the test finishes.
 */
export async function spawnChild(
  module: string | URL,
  options: SpawnChildOptions = {},
): Promise<ChildHandle> {
  const path = module instanceof URL ? fileURLToPath(module) : module;
  const child = new ChildHandle(path, options);
  try {
    onTestFinished(async () => {
      if (child.proc !== undefined && child.alive) {
        child.proc.kill("SIGCONT");
        await child.kill("SIGKILL");
      }
    });
  } catch {
    /* outside a test: the caller kills it */
  }
  await child.start();
  return child;
}

/** What {@link runScript} saw. */
export interface ScriptRun {
  /** Exit code; `null` when killed (by signal, or after the timeout). */
  code: number | null;
  /** True when the script outlived `timeout` and was killed. */
  timedOut: boolean;
  /** stdout and stderr, interleaved as they arrived. */
  output: string;
  stdout: string;
  /** Wall time until exit, in ms. */
  ms: number;
}

/**
 * Runs a TypeScript file to completion in a fresh Node process (through tsx,
 * workspace packages resolved to their sources), for "the process exits by
 * itself" and README quick-start tests. Never blocks the test's event loop;
 * kills the process with SIGKILL after `timeout` ms.
 */
export async function runScript(
  file: string | URL,
  { timeout = 15_000 }: { timeout?: number } = {},
): Promise<ScriptRun> {
  const path = file instanceof URL ? fileURLToPath(file) : file;
  const started = performance.now();
  const proc = spawn(process.execPath, ["--conditions=@zg/source", "--import", "tsx", path], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let stdout = "";
  proc.stdout.on("data", (d: Buffer) => {
    output += d.toString();
    stdout += d.toString();
  });
  proc.stderr.on("data", (d: Buffer) => (output += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, timeout);
  const code = await new Promise<number | null>((resolve) => {
    proc.once("close", (c) => resolve(c));
  });
  clearTimeout(timer);
  return { code, timedOut, output, stdout, ms: performance.now() - started };
}

/**
 * Runs the first ` ```ts ` block after a README's "## Quick start" heading as a
 * script (written to `dir`, inside the package so its self-reference resolves
 * to the sources) and returns its line count and how the process ended.
 *
 * @throws when the README has no such block.
 */
export async function runReadmeQuickStart(
  readme: string,
  dir: URL,
): Promise<{ lines: number; run: ScriptRun }> {
  const section = readme.slice(readme.indexOf("## Quick start"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error("the README has no ```ts block under ## Quick start");
  const path = fileURLToPath(dir);
  mkdirSync(path, { recursive: true });
  const file = join(path, "quick-start.ts");
  writeFileSync(file, code);
  return { lines: code.trim().split("\n").length, run: await runScript(file) };
}
