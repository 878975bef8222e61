import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import {
  checkHistory,
  closeAfter,
  FaultPlan,
  History,
  spawnChild,
  tcpEndpoint,
  waitFor,
  type ChildHandle,
} from "@zg/testing";
import {
  LazyPirateClient,
  MajordomoBroker,
  MajordomoClient,
  PirateQueue,
  SimplePirateQueue,
} from "../src/index.js";

const fixture = (name: string): string =>
  fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));
const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };
const RESTARTS = 20;
const WAITING = 4;

interface Setup {
  /** Starts the worker process (again). */
  spawn: () => Promise<ChildHandle>;
  /** Requests waiting at the broker/queue for a worker. */
  queued: () => number;
  /** Live workers the broker/queue knows. */
  workers: () => number;
  /** One request on client `k`, one attempt: resolves with the reply's frames as strings. */
  request: (k: number, id: string) => Promise<string[]>;
}

/**
 * RESTARTS times: the worker process is kill -9'd, WAITING requests (one attempt each, so no retry
 * can hide a dropped one) are queued for it, and a new worker process starts. Its READY goes out
 * in `start()`, and the broker hands over a queued request at once, sometimes before the worker's
 * `start()` has resolved: a worker that dropped such a request stayed busy at the broker for good
 * (Majordomo, Simple Pirate) or cost a retry (Paranoid Pirate). Every request must be answered.
 */
async function restartsWithRequestsWaiting(name: string, setup: Setup): Promise<void> {
  const history = new History();
  const plan = new FaultPlan({
    name,
    minRequests: RESTARTS * WAITING,
    minFaults: RESTARTS,
    faultNoun: "restart",
    maxDuration: 120_000,
  });
  const waitedFor: number[] = [];
  let child: ChildHandle | undefined;
  for (let round = 0; !plan.loadDone; round++) {
    if (child !== undefined) {
      await child.kill("SIGKILL");
      await waitFor(() => setup.workers() === 0, {
        timeout: 5000,
        what: "the killed worker gone from the broker",
      });
    }
    const replies = Array.from({ length: WAITING }, async (_, k) => {
      const id = `r${round}-${k}`;
      history.invoke(id, `client${k}`);
      try {
        const got = await setup.request(k, id);
        if (got.length === 1 && got[0] === id) {
          history.ok(id, `client${k}`);
          plan.ack();
        } else history.info(id, `client${k}`, `wrong reply ${JSON.stringify(got)}`);
      } catch (error) {
        history.fail(id, `client${k}`, (error as { code?: string }).code);
        plan.fail();
      }
    });
    // Progress, not time: every request is queued before the worker (re)starts.
    await waitFor(() => setup.queued() >= WAITING, {
      timeout: 5000,
      what: `${WAITING} requests queued for the absent worker`,
    });
    const t = performance.now();
    child = await setup.spawn();
    plan.fault();
    await Promise.all(replies);
    waitedFor.push(performance.now() - t);
  }
  const report = checkHistory(history, { delivered: "acks" });
  waitedFor.sort((a, b) => a - b);
  console.log(
    plan.summary(
      `restart-to-last-reply p50 ${waitedFor[waitedFor.length >> 1]?.toFixed(0)} ms, max ${waitedFor.at(-1)?.toFixed(0)} ms`,
    ),
  );
  plan.check();
  expect(report.failed).toBe(0);
  expect(report.acked).toBe(report.attempted);
  expect(report.duplicateAcks).toEqual([]);
  expect(history.events.filter((e) => e.kind === "info")).toEqual([]);
}

/** A `spawn` that starts a new worker process with `args()` each time (the caller kills the last). */
function spawner(module: string, args: () => string[]): () => Promise<ChildHandle> {
  return () => spawnChild(module, { args: args(), bundle: true });
}

/** `WAITING` Lazy Pirate clients of `frontend`, one attempt per request. */
async function lazyClients(frontend: string): Promise<LazyPirateClient[]> {
  return Promise.all(
    Array.from({ length: WAITING }, async () => {
      const c = closeAfter(
        new LazyPirateClient({
          server: frontend,
          timeout: 10_000,
          attempts: 1,
          match: LazyPirateClient.echo,
        }),
      );
      await c.start();
      return c;
    }),
  );
}

describe(`a worker process restarting while ${WAITING} requests wait serves them (${RESTARTS} restarts)`, () => {
  test("Majordomo worker", async () => {
    const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
    const ep = (await broker.start()).endpoints[0] as string;
    const clients = await Promise.all(
      Array.from({ length: WAITING }, async () => {
        const c = closeAfter(new MajordomoClient({ broker: ep, timeout: 10_000, attempts: 1 }));
        await c.start();
        return c;
      }),
    );
    await restartsWithRequestsWaiting("Majordomo worker start with requests waiting", {
      spawn: spawner(fixture("majordomo-worker"), () => [ep, "early"]),
      queued: () => broker.stats().perService["early"]?.queued ?? 0,
      workers: () => broker.stats().perService["early"]?.workers ?? 0,
      request: async (k, id) =>
        (await (clients[k] as MajordomoClient).request("early", [id])).map(String),
    });
  }, 150_000);

  // Simple Pirate: no heartbeats, so a dead idle worker is found when a request is sent to it
  // (it is then purged and the request re-queued); each process gets its own routing id.
  test("Simple Pirate worker", async () => {
    const queue = closeAfter(new SimplePirateQueue());
    const { frontend, backend } = await queue.start();
    const clients = await lazyClients(frontend[0] as string);
    let n = 0;
    await restartsWithRequestsWaiting("Simple Pirate worker start with requests waiting", {
      spawn: spawner(fixture("simple-pirate-worker-child"), () => [
        backend[0] as string,
        `w${n++}`,
      ]),
      queued: () => queue.stats().queued,
      workers: () => 0,
      request: async (k, id) => (await (clients[k] as LazyPirateClient).request(id)).map(String),
    });
  }, 150_000);

  test("Paranoid Pirate worker", async () => {
    const queue = closeAfter(new PirateQueue({ ...HB }));
    const { frontend, backend } = await queue.start();
    const clients = await lazyClients(frontend[0] as string);
    await restartsWithRequestsWaiting("Paranoid Pirate worker start with requests waiting", {
      spawn: spawner(fixture("pirate-worker-child"), () => [backend[0] as string, "100"]),
      queued: () => queue.stats().queued,
      workers: () => queue.stats().workers,
      request: async (k, id) => (await (clients[k] as LazyPirateClient).request(id)).map(String),
    });
  }, 150_000);
});
