import { describe, expect, test } from "vitest";
import { childLogger, Component, silentLogger, TypedEmitter, type Logger } from "../src/index.js";

interface Events {
  [type: string]: unknown;
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
    expect(new TypedEmitter().listenerCount("x")).toBe(0);
  });
});
