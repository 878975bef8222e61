// One class per Freelance model, each usable on its own; timeouts decided by the injected clock.
import { describe, expect, test } from "vitest";
import { isZgError, ManualClock } from "@zg/core";
import { closeAfter } from "@zg/testing";
import {
  FreelanceClient,
  FreelanceFlpClient,
  FreelanceSequentialClient,
  FreelanceShotgunClient,
} from "../src/index.js";

const nowhere = "tcp://127.0.0.1:1"; // nothing listens: every attempt times out

describe("Freelance: one class per model (ManualClock)", () => {
  test("model 1 tries each attempt on a fresh socket, then ZG_RETRIES_EXHAUSTED at attempts × timeout", async () => {
    const clock = new ManualClock();
    const client = closeAfter(
      new FreelanceSequentialClient({ servers: nowhere, timeout: 100, attempts: 3, clock }),
    );
    const failed: number[] = [];
    client.on("request:failed", (e) => failed.push(e.sequence));
    await client.start();
    const r = client.request("x").catch((e: unknown) => e);
    clock.advance(299);
    expect(client.stats().resends).toBe(2);
    clock.advance(1);
    const e = await r;
    expect(isZgError(e, "ZG_RETRIES_EXHAUSTED")).toBe(true);
    expect((e as { details: unknown }).details).toMatchObject({ attempts: 3, timeout: 100 });
    expect(failed).toEqual([1]);
    expect(client.stats()).toMatchObject({ requests: 1, failures: 1 });
  });

  test("model 2 and model 3 time out with ZG_TIMEOUT at the global timeout", async () => {
    for (const make of [
      (clock: ManualClock) =>
        new FreelanceShotgunClient({ servers: [nowhere], timeout: 200, clock }),
      (clock: ManualClock) => new FreelanceFlpClient({ servers: [nowhere], timeout: 200, clock }),
    ]) {
      const clock = new ManualClock();
      const client = closeAfter(make(clock));
      await client.start();
      const r = client.request("x").catch((e: unknown) => e);
      clock.advance(199);
      clock.advance(1);
      expect(isZgError(await r, "ZG_TIMEOUT")).toBe(true);
      await client.close();
      expect(clock.pending).toBe(0);
    }
  });

  test("FreelanceClient picks the class by model and forwards its events", async () => {
    const clock = new ManualClock();
    const client = closeAfter(
      new FreelanceClient({ model: 2, servers: [nowhere], timeout: 50, clock }),
    );
    const failed = client.next("request:failed");
    await client.start();
    const r = client.request("x").catch((e: unknown) => e);
    clock.advance(50);
    expect(isZgError(await r, "ZG_TIMEOUT")).toBe(true);
    expect((await failed).endpoints).toEqual([nowhere]);
    expect(client.servers).toEqual([nowhere]);
  });
});
