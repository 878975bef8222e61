import { expect, test } from "vitest";
import { closeAfter, waitFor } from "@zg/testing";
import { LazyPirateClient, SimplePirateQueue, SimplePirateWorker } from "../src/index.js";

test("Simple Pirate: Lazy Pirate clients, queue and READY 0x01 workers; a dead worker's request is recovered by the client's retry", async () => {
  const queue = closeAfter(new SimplePirateQueue());
  const { frontend, backend } = await queue.start();
  let dieOnNext = false;
  const doomed = new SimplePirateWorker({
    endpoint: backend,
    routingId: "doomed",
    handler: async (body) => {
      if (dieOnNext) {
        await doomed.close(); // crash while holding the request
        return new Promise<never>(() => {});
      }
      return body;
    },
  });
  await doomed.start();
  await waitFor(() => queue.stats().idleWorkers === 1);
  const client = closeAfter(
    new LazyPirateClient({
      endpoint: frontend[0] as string,
      timeout: 300,
      retries: 3,
      match: LazyPirateClient.echo,
    }),
  );
  await client.start();
  expect((await client.request("one"))[0]?.toString()).toBe("one");
  dieOnNext = true;
  const healthy = closeAfter(
    new SimplePirateWorker({ endpoint: backend, routingId: "healthy", handler: (b) => b }),
  );
  await healthy.start();
  await waitFor(() => queue.stats().idleWorkers === 2);
  // LRU: "doomed" has been idle longest, so it takes the next request and dies with it.
  const [reply] = await client.request("two");
  expect(reply?.toString()).toBe("two");
  expect(client.stats().retries).toBe(1);
  expect(healthy.stats().replies).toBe(1);
});
