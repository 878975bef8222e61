import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { delay, spawnChild, within } from "../src/index.js";

const FIXTURE = new URL("./fixtures/echo-child.ts", import.meta.url);

async function roundTrip(endpoint: string, body: string, timeout = 2000): Promise<string> {
  const req = new zmq.Request({ linger: 0, receiveTimeout: timeout });
  req.connect(endpoint);
  try {
    await req.send(body);
    const [reply] = await req.receive();
    return reply?.toString() ?? "";
  } finally {
    req.close();
  }
}

describe("child-process harness", () => {
  test("ready with endpoints, commands, events, SIGSTOP/SIGCONT, kill -9 and restart", async () => {
    const child = await spawnChild(FIXTURE);
    const ep = child.endpoints["rep"] as string;
    expect(ep).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(await roundTrip(ep, "one")).toBe("one");
    await child.waitForEvent("served");
    expect(await child.call("served")).toBe(1);

    child.pause();
    await expect(roundTrip(ep, "frozen", 300)).rejects.toMatchObject({ code: "EAGAIN" });
    child.resume();
    await delay(50);

    const t0 = performance.now();
    await child.stall(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);

    await child.kill("SIGKILL");
    expect(child.alive).toBe(false);
    expect((await child.exited).signal).toBe("SIGKILL");
    const again = await child.start();
    expect(await roundTrip(again["rep"] as string, "two")).toBe("two");
    await within(child.call("__exit"), 2000, "clean exit");
    expect((await child.exited).code).toBe(0);
  });

  test("bundle: the same child as one plain ES module, restarted by kill -9 in a fraction of the tsx start", async () => {
    const child = await spawnChild(FIXTURE, { bundle: true });
    expect(child.proc.spawnargs.some((a) => a.includes("tsx"))).toBe(false);
    expect(child.proc.spawnargs.some((a) => a.endsWith(".mjs"))).toBe(true);
    expect(await roundTrip(child.endpoints["rep"] as string, "bundled")).toBe("bundled");
    expect(await child.call("served")).toBe(1);
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      await child.kill("SIGKILL");
      const t0 = performance.now();
      const ep = (await child.start())["rep"] as string;
      starts.push(performance.now() - t0);
      expect(await roundTrip(ep, `again ${i}`)).toBe(`again ${i}`);
    }
    process.stdout.write(
      `bundled child starts (ms): ${starts.map((t) => t.toFixed(0)).join(" ")}\n`,
    );
  });
});
