import { describe, expect, test } from "vitest";
import { deferred } from "@zg/core";
import { closeAfter, waitFor, within } from "@zg/testing";
import {
  LazyPirateClient,
  PirateQueue,
  PirateWorker,
  SimplePirateQueue,
  SimplePirateWorker,
} from "../src/index.js";

interface WorkerOptions {
  endpoint: string[];
  closeTimeout: number;
  handler: (body: Buffer[]) => Promise<Buffer[]>;
}

describe("drain() and close() with work in flight (real sockets)", () => {
  test("a draining PirateQueue finishes the request in a worker's hands, takes no new one, then closes", async () => {
    const queue = closeAfter(new PirateQueue({ heartbeatInterval: 100 }));
    const { frontend, backend } = await queue.start();
    const started = deferred<void>();
    const release = deferred<void>();
    const worker = closeAfter(
      new PirateWorker({
        queue: backend,
        heartbeatInterval: 100,
        handler: async (body) => {
          started.resolve();
          await release.promise;
          return body;
        },
      }),
    );
    await worker.start();
    await waitFor(() => queue.stats().idleWorkers === 1, { what: "the worker's READY" });
    const client = closeAfter(
      new LazyPirateClient({ server: frontend[0] as string, timeout: 5000, attempts: 1 }),
    );
    await client.start();
    const first = client.request("in flight");
    await started.promise;
    const drained = queue.drain({ timeout: 10_000 });
    expect(queue.state).toBe("draining");
    // A request sent now is not taken: the frontend is no longer read.
    const late = closeAfter(
      new LazyPirateClient({ server: frontend[0] as string, timeout: 200, attempts: 1 }),
    );
    await late.start();
    const refused = late.request("too late");
    await expect(refused).rejects.toMatchObject({ code: "ZG_RETRIES_EXHAUSTED" });
    release.resolve();
    expect((await first)[0]?.toString()).toBe("in flight");
    await expect(drained).resolves.toEqual({ completed: true, remaining: 0 });
    expect(queue.state).toBe("closed");
    expect(worker.stats().requests).toBe(1);
  });

  test("drain is bounded: a hung worker does not hold the queue past its timeout", async () => {
    const queue = closeAfter(new SimplePirateQueue());
    const { frontend, backend } = await queue.start();
    const started = deferred<void>();
    const worker = closeAfter(
      new SimplePirateWorker({
        queue: backend,
        handler: () => {
          started.resolve();
          return new Promise<never>(() => {});
        },
      }),
    );
    await worker.start();
    await waitFor(() => queue.stats().idleWorkers === 1, { what: "the worker's READY" });
    const client = closeAfter(
      new LazyPirateClient({ server: frontend[0] as string, timeout: 5000, attempts: 1 }),
    );
    await client.start();
    void client.request("hangs").catch(() => undefined);
    await started.promise;
    await expect(within(queue.drain({ timeout: 100 }), 5000, "bounded drain")).resolves.toEqual({
      completed: false,
      remaining: 1,
    });
  });

  test.each([
    [
      "PirateWorker",
      () => new PirateQueue({ heartbeatInterval: 100 }),
      (o: WorkerOptions) => new PirateWorker({ ...o, heartbeatInterval: 100 }),
    ],
    [
      "SimplePirateWorker",
      () => new SimplePirateQueue(),
      (o: WorkerOptions) => new SimplePirateWorker(o),
    ],
  ] as const)(
    "a %s handler that calls close() does not deadlock",
    async (_name, makeQueue, makeWorker) => {
      const queue = closeAfter(makeQueue());
      const { frontend, backend } = await queue.start();
      let closing: Promise<void> | undefined;
      const worker: PirateWorker | SimplePirateWorker = makeWorker({
        endpoint: backend,
        closeTimeout: 50,
        handler: async (body) => {
          closing = worker.close();
          await closing; // waits for itself only closeTimeout ms, then the close proceeds
          return body;
        },
      });
      closeAfter(worker);
      await worker.start();
      await waitFor(() => queue.stats().idleWorkers === 1, { what: "the worker's READY" });
      const client = closeAfter(
        new LazyPirateClient({ server: frontend[0] as string, timeout: 300, attempts: 1 }),
      );
      await client.start();
      void client.request("close yourself").catch(() => undefined);
      await waitFor(() => closing !== undefined, { what: "the handler's close() call" });
      await within(closing as unknown as Promise<void>, 5000, "close() called from the handler");
      expect(worker.state).toBe("closed");
      await expect(worker.closed).resolves.toBeUndefined();
    },
  );
});
