import type { Socket } from "zeromq";
import { describe, expect, test } from "vitest";
import {
  childLogger,
  Component,
  deferred,
  silentLogger,
  SocketLoop,
  TypedEmitter,
  type Logger,
} from "../src/index.js";

interface Events {
  "thing:happened": { n: number };
}

class Thing extends Component<Events, { n: number }, { endpoints: string[] }> {
  released: string[] = [];
  failStart = false;
  constructor(logger?: Logger) {
    super("Thing", logger === undefined ? {} : { logger });
  }
  stats(): { n: number } {
    return { n: 1 };
  }
  protected async onStart(): Promise<{ endpoints: string[] }> {
    this.own(() => this.released.push("first"));
    this.own({ close: () => this.released.push("second") });
    this.setTimer(() => {}, 60_000);
    this.setInterval(() => {}, 60_000);
    if (this.failStart) throw new Error("bind failed");
    await Promise.resolve();
    return { endpoints: ["tcp://127.0.0.1:1"] };
  }
  protected override onClose(): void {
    this.released.push("onClose");
  }
  fire(n: number): void {
    this.emit("thing:happened", { n });
  }
  crash(): void {
    this.fail(new Error("fatal"));
  }
  get isRunning(): boolean {
    return this.running;
  }
}

describe("Component lifecycle", () => {
  test("start resolves with endpoints; close releases in reverse order, once", async () => {
    const t = new Thing();
    expect(t.state).toBe("idle");
    await expect(t.start()).resolves.toEqual({ endpoints: ["tcp://127.0.0.1:1"] });
    expect(t.state).toBe("running");
    expect(t.isRunning).toBe(true);
    await expect(t.start()).rejects.toMatchObject({ code: "ZG_STATE" });
    await Promise.all([t.close(), t.close()]);
    await t.close();
    expect(t.released).toEqual(["onClose", "second", "first"]);
    expect(t.state).toBe("closed");
    await expect(t.closed).resolves.toBeUndefined();
    await expect(t.start()).rejects.toMatchObject({ code: "ZG_STATE" });
  });

  test("a failed start releases what was acquired and rethrows", async () => {
    const t = new Thing();
    t.failStart = true;
    await expect(t.start()).rejects.toThrow("bind failed");
    expect(t.released).toEqual(["onClose", "second", "first"]);
    expect(t.state).toBe("closed");
  });

  test("a fatal error while starting: start() rejects with that error, not with the symptom in onStart", async () => {
    class Starting extends Component<Record<never, never>, object> {
      readonly gate = deferred<void>();
      stats(): object {
        return {};
      }
      protected async onStart(): Promise<void> {
        await this.gate.promise;
        throw new Error("Socket operation on non-socket"); // what a closed socket says
      }
      crash(): void {
        this.fail(new Error("store append failed"));
      }
    }
    const t = new Starting("Starting");
    const started = t.start();
    t.crash();
    t.gate.resolve();
    await expect(started).rejects.toThrow("store append failed");
    await expect(t.closed).resolves.toMatchObject({ message: "store append failed" });
  });

  test("fail() closes and resolves closed with the error; await using disposes", async () => {
    const t = new Thing();
    await t.start();
    t.crash();
    await expect(t.closed).resolves.toMatchObject({ message: "fatal" });
    {
      await using u = new Thing();
      await u.start();
      expect(u.state).toBe("running");
      setImmediate(() => expect(u.state).toBe("closed"));
    }
  });

  test("typed events; listener errors are logged, not thrown", async () => {
    const lines: string[] = [];
    const logger: Logger = { ...silentLogger, error: (m) => lines.push(m) };
    const t = new Thing(logger);
    const seen: number[] = [];
    const off = t.on("thing:happened", (e) => seen.push(e.n));
    t.once("thing:happened", () => {
      throw new Error("bad listener");
    });
    t.fire(1);
    t.fire(2);
    off();
    t.fire(3);
    expect(seen).toEqual([1, 2]);
    expect(lines).toEqual(["event listener threw"]);
    expect(t.listenerCount("thing:happened")).toBe(0);
    const next = t.next("thing:happened");
    t.fire(4);
    await expect(next).resolves.toEqual({ n: 4 });
    const ac = new AbortController();
    const aborted = t.next("thing:happened", ac.signal);
    ac.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    await expect(t.next("thing:happened", AbortSignal.abort(new Error("pre")))).rejects.toThrow(
      "pre",
    );
    await t.close();
  });

  test("childLogger adds fields; the silent logger stays silent", () => {
    const seen: unknown[] = [];
    const base: Logger = {
      debug: (m, f) => seen.push(["debug", m, f]),
      info: (m, f) => seen.push(["info", m, f]),
      warn: (m, f) => seen.push(["warn", m, f]),
      error: (m, f) => seen.push(["error", m, f]),
    };
    const log = childLogger(base, { component: "X" });
    log.debug("a");
    log.info("b", { k: 1 });
    log.warn("c");
    log.error("d");
    expect(seen).toEqual([
      ["debug", "a", { component: "X" }],
      ["info", "b", { component: "X", k: 1 }],
      ["warn", "c", { component: "X" }],
      ["error", "d", { component: "X" }],
    ]);
    expect(childLogger(silentLogger, { a: 1 })).toBe(silentLogger);
    expect(new TypedEmitter<{ x: number }>().listenerCount("x")).toBe(0);
  });
});

/** A socket whose reader can be broken from the test: `receive()` rejects once `breakIt()` is called. */
function fakeSocket(): { socket: Socket; breakIt: (e: Error) => void } {
  let fail: ((e: Error) => void) | undefined;
  const socket = {
    closed: false,
    receive: () =>
      new Promise<Buffer[]>((_, reject) => {
        fail = reject;
      }),
    close() {
      this.closed = true;
      fail?.(Object.assign(new Error("closed"), { code: "EAGAIN" }));
    },
  };
  return { socket: socket as unknown as Socket, breakIt: (e) => fail?.(e) };
}

class Server extends Component<{ "request:completed": { n: number } }, { handled: number }> {
  readonly fake = fakeSocket();
  handled = 0;
  accepted = true;
  constructor(options: { closeTimeout?: number } = {}) {
    super("Server", options);
  }
  stats(): { handled: number } {
    return { handled: this.handled };
  }
  protected onStart(): Promise<void> {
    this.own(new SocketLoop(this.fake.socket, { onMessage: () => {} })).start();
    return Promise.resolve();
  }
  protected override onDrain(): void {
    this.accepted = false;
  }
  /** Runs `fn` as tracked in-flight work, refusing when not running. */
  handle<T>(fn: () => Promise<T>): Promise<T> {
    this.assertRunning("handle");
    return this.track(
      fn().then((v) => {
        this.handled++;
        return v;
      }),
    );
  }
  get signal(): AbortSignal {
    return this.closeSignal;
  }
}

describe("Component: fatal loops, drain, bounded close", () => {
  test("an owned loop whose reader dies fails the component: component:failed, closed carries the error", async () => {
    const s = new Server();
    const failed: { component: string; error: Error }[] = [];
    s.on("component:failed", (e) => failed.push(e));
    await s.start();
    s.fake.breakIt(new Error("EFAULT"));
    const error = await s.closed;
    expect(error).toMatchObject({ code: "ZG_SOCKET", message: "receive failed" });
    expect(failed).toEqual([{ component: "Server", error }]);
    expect(s.state).toBe("closed");
    await s.close(); // idempotent after a fatal close
  });

  test("a loop closed on purpose is not a failure", async () => {
    const s = new Server();
    await s.start();
    await s.close();
    await expect(s.closed).resolves.toBeUndefined();
  });

  test("drain stops taking work, waits for in-flight work, then closes", async () => {
    const s = new Server();
    await s.start();
    const gate = deferred<string>();
    const work = s.handle(() => gate.promise);
    const drained = s.drain({ timeout: 5000 });
    expect(s.state).toBe("draining");
    expect(s.accepted).toBe(false);
    expect(() => s.handle(() => Promise.resolve(1))).toThrow(
      expect.objectContaining({ code: "ZG_STATE" }) as Error,
    );
    gate.resolve("done");
    await expect(work).resolves.toBe("done");
    await expect(drained).resolves.toEqual({ completed: true, remaining: 0 });
    expect(s.state).toBe("closed");
    expect(s.handled).toBe(1);
    expect(s.signal.aborted).toBe(true);
  });

  test("drain is bounded: after the timeout it closes with the work still pending", async () => {
    const s = new Server();
    await s.start();
    void s.handle(() => new Promise(() => {}));
    const t0 = performance.now();
    await expect(s.drain({ timeout: 50 })).resolves.toEqual({ completed: false, remaining: 1 });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(s.state).toBe("closed");
    expect(() => s.drain({ timeout: -1 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }) as Error,
    );
  });

  test("close waits a bounded time for handlers, then aborts; a handler that calls close() does not deadlock", async () => {
    const s = new Server({ closeTimeout: 50 });
    await s.start();
    let closedFromHandler = false;
    const work = s.handle(async () => {
      await s.close(); // would wait for itself forever without the bound
      closedFromHandler = true;
      return s.signal.aborted;
    });
    await expect(work).resolves.toBe(true);
    expect(closedFromHandler).toBe(true);
    expect(s.state).toBe("closed");
    expect(() => new Server({ closeTimeout: Number.NaN })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }) as Error,
    );
  });

  test("not running is ZG_STATE before start and after close", async () => {
    const s = new Server();
    expect(() => s.handle(() => Promise.resolve(1))).toThrow(
      expect.objectContaining({
        code: "ZG_STATE",
        details: { state: "idle", operation: "handle" },
      }) as Error,
    );
    await s.start();
    await s.close();
    expect(() => s.handle(() => Promise.resolve(1))).toThrow(
      expect.objectContaining({
        code: "ZG_STATE",
        details: { state: "closed", operation: "handle" },
      }) as Error,
    );
  });
});
