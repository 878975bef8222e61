import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { onTestFinished, test } from "vitest";

let cached: string | null | undefined;

/**
 * The path of a Python interpreter that can `import zmq` (Debian's
 * `python3-zmq` serves `/usr/bin/python3`, which may not be the `python3`
 * first on PATH), or `undefined`. `PYTHON_ZMQ` overrides the search.
 */
export function findPythonZmq(): string | undefined {
  if (cached !== undefined) return cached ?? undefined;
  const candidates = [process.env["PYTHON_ZMQ"], "/usr/bin/python3", "python3"].filter(
    (x): x is string => typeof x === "string" && x.length > 0,
  );
  for (const py of candidates) {
    const r = spawnSync(py, ["-c", "import zmq"], { stdio: "ignore", timeout: 10_000 });
    if (r.status === 0) {
      cached = py;
      return py;
    }
  }
  cached = null;
  return undefined;
}

/**
 * `test` when pyzmq is available or when running in CI (where its absence
 * must fail loudly), else `test.skip` with the reason in the name.
 */
export function pythonTest(name: string, fn: () => Promise<void>, timeout?: number): void {
  const py = findPythonZmq();
  if (py === undefined && !process.env["CI"]) {
    test.skip(`${name} [skipped: python3-zmq not installed; apt-get install python3-zmq]`, fn);
    return;
  }
  test(
    name,
    async () => {
      if (findPythonZmq() === undefined) {
        throw new Error(
          "python3-zmq is required in CI for interoperability tests (apt-get install python3-zmq)",
        );
      }
      await fn();
    },
    timeout,
  );
}

/** A running Python peer. */
export class PythonPeer {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  output = "";
  #waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(proc: ChildProcess) {
    this.proc = proc;
    let partial = "";
    proc.stdout?.on("data", (d: Buffer) => {
      this.output += d.toString();
      partial += d.toString();
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts);
      const w = this.#waiters;
      this.#waiters = [];
      for (const f of w) f();
    });
    proc.stderr?.on("data", (d: Buffer) => {
      this.output += d.toString();
    });
    this.exited = new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
  }

  /** Waits for a stdout line matching `pattern` and returns its match. */
  async waitForLine(pattern: RegExp, timeout = 10_000): Promise<RegExpMatchArray> {
    const deadline = performance.now() + timeout;
    let from = 0;
    for (;;) {
      for (let i = from; i < this.lines.length; i++) {
        const m = (this.lines[i] as string).match(pattern);
        if (m) {
          this.lines.splice(0, i + 1);
          return m;
        }
      }
      from = this.lines.length;
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(
          `python peer: no line matching ${pattern} within ${timeout} ms\n${this.output}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Kills the peer (SIGKILL by default) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    await this.exited;
  }
}

/**
 * Runs a Python peer (source text, written from the RFCs by the test) with
 * Debian's pyzmq. The peer is killed when the test finishes.
 *
 * @throws when no Python with pyzmq is found.
 */
export function spawnPython(source: string, args: string[] = []): PythonPeer {
  const py = findPythonZmq();
  if (py === undefined)
    throw new Error("python3-zmq is not installed (apt-get install python3-zmq)");
  const proc = spawn(py, ["-u", "-c", source, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const peer = new PythonPeer(proc);
  try {
    onTestFinished(() => peer.kill());
  } catch {
    /* outside a test */
  }
  return peer;
}
