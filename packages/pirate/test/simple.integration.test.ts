import { expect, test } from "vitest";
import { closeAfter, spawnChild, waitFor } from "@zg/testing";
import { LazyPirateClient, SimplePirateQueue, SimplePirateWorker } from "../src/index.js";

const workerModule = new URL("./fixtures/simple-pirate-worker-child.ts", import.meta.url);

test("Simple Pirate: Lazy Pirate clients, queue and READY 0x01 workers; a worker kill -9'd holding a request: the client's retry recovers it", async () => {
  const queue = closeAfter(new SimplePirateQueue());
  const { frontend, backend } = await queue.start();
  const doomed = await spawnChild(workerModule, { args: [backend[0] as string, "doomed"] });
  await waitFor(() => queue.stats().idleWorkers === 1, { what: "the doomed worker's READY" });
  const client = closeAfter(
    new LazyPirateClient({
      server: frontend[0] as string,
      timeout: 300,
      attempts: 3,
      match: LazyPirateClient.echo,
    }),
  );
  await client.start();
  expect((await client.request("one"))[0]?.toString()).toBe("one");
  await doomed.call("hold");
  const healthy = closeAfter(
    new SimplePirateWorker({ queue: backend, routingId: "healthy", handler: (b) => b }),
  );
  await healthy.start();
  await waitFor(() => queue.stats().idleWorkers === 2, { what: "both workers idle" });
  // LRU: "doomed" has been idle longest, so it takes the next request; it is killed holding it.
  const two = client.request("two");
  expect((await doomed.waitForEvent("held")).data).toBe("two");
  await doomed.kill("SIGKILL");
  const [reply] = await two;
  expect(reply?.toString()).toBe("two");
  expect(client.stats().resends).toBe(1);
  expect(healthy.stats().replies).toBe(1);
  console.log(
    `simple pirate crash: 1 kill -9 (worker holding a request), ${client.stats().resends} client resend, 0 lost`,
  );
});
