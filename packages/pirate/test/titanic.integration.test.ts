import { describe, expect, test } from "vitest";
import { closeAfter, tcpEndpoint, tempDir, waitFor } from "@zg/testing";
import {
  MajordomoBroker,
  MajordomoClient,
  MajordomoWorker,
  Titanic,
  TitanicClient,
} from "../src/index.js";

const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };
const str = (f: Buffer[]): string[] => f.map((x) => x.toString());

async function setup(): Promise<{ ep: string; broker: MajordomoBroker }> {
  const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
  const { endpoints } = await broker.start();
  return { ep: endpoints[0] as string, broker };
}

function titanic(ep: string, directory: string): Titanic {
  return closeAfter(
    new Titanic({
      broker: ep,
      directory,
      ...HB,
      reconnectDelay: 100,
      dispatchInterval: 100,
      dispatchTimeout: 500,
    }),
  );
}

describe("Titanic (9/TSP)", () => {
  test("request → 200 + UUID, reply 300 while pending, 200 + body when done, close, then 400", async () => {
    const { ep, broker } = await setup();
    const t = titanic(ep, tempDir());
    await t.start();
    const ti = closeAfter(new TitanicClient({ broker: ep, timeout: 2000 }));
    await ti.start();
    await waitFor(() => broker.stats().perService["titanic.request"]?.workers === 1);
    const uuid = await ti.submit("echo", ["Hello world"]);
    expect(uuid).toMatch(/^[0-9a-f]{32}$/);
    expect((await ti.reply(uuid)).status).toBe("300"); // no echo worker yet
    await closeAfter(
      new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r, ...HB }),
    ).start();
    await waitFor(async () => (await ti.reply(uuid)).status === "200", { what: "reply stored" });
    const r = await ti.reply(uuid.toUpperCase()); // either case; idempotent
    expect(r.status).toBe("200");
    expect(str(r.body)).toEqual(["Hello world"]);
    await ti.closeRequest(uuid);
    await ti.closeRequest(uuid); // always 200
    expect((await ti.reply(uuid)).status).toBe("400");
    expect(str(await ti.request("echo", ["via helper"], { firstPoll: 20 }))).toEqual([
      "via helper",
    ]);
    // Raw 9/TSP frames, as a Guide client would send them.
    const raw = closeAfter(new MajordomoClient({ broker: ep, timeout: 2000 }));
    await raw.start();
    expect(str(await raw.request("titanic.request", ["echo"]))[0]).toBe("500"); // no body frame
    expect(str(await raw.request("titanic.reply", ["nonsense"]))).toEqual(["400"]);
    expect(str(await raw.request("titanic.close", ["ABCDEF0123456789ABCDEF0123456789"]))).toEqual([
      "200",
    ]);
  });

  test("broker and worker restarts lose nothing: Titanic re-registers and retries until the service answers", async () => {
    const { ep, broker: b1 } = await setup();
    const t = titanic(ep, tempDir());
    await t.start();
    const ti = closeAfter(new TitanicClient({ broker: ep, timeout: 1000, attempts: 10 }));
    await ti.start();
    const w1 = closeAfter(
      new MajordomoWorker({
        broker: ep,
        service: "flaky",
        handler: () => new Promise<never>(() => {}),
        ...HB,
        reconnectDelay: 100,
      }),
    );
    await w1.start(); // takes the first request and never answers
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await ti.submit("flaky", [`job ${i}`]));
    await b1.close(); // broker gone: queued and in-progress calls are lost
    await w1.close();
    // libzmq releases a listening port asynchronously after close(): a broker
    // restarted in the same process on the same port waits until it is free
    // (a restarted broker process gets a fresh port table and never needs this).
    const b2 = await waitFor(
      async () => {
        const b = new MajordomoBroker({ endpoints: ep, ...HB });
        try {
          await b.start();
          return b;
        } catch (error) {
          if ((error as { details?: { code?: string } }).details?.code !== "EADDRINUSE")
            throw error;
          return undefined;
        }
      },
      { timeout: 2000, what: "the old broker's port to be released" },
    );
    closeAfter(b2);
    await closeAfter(
      new MajordomoWorker({ broker: ep, service: "flaky", handler: (r) => r, ...HB }),
    ).start();
    for (const [i, id] of ids.entries()) {
      await waitFor(async () => (await ti.reply(id)).status === "200", {
        timeout: 10_000,
        what: `reply ${i} after the restarts`,
      });
      expect(str((await ti.reply(id)).body)).toEqual([`job ${i}`]);
    }
    expect(t.stats().dispatchFailures).toBeGreaterThan(0);
  }, 20_000);

  test("pending requests are replayed after a restart", async () => {
    const { ep } = await setup();
    const dir = tempDir();
    const t1 = titanic(ep, dir);
    await t1.start();
    const ti = closeAfter(new TitanicClient({ broker: ep, timeout: 2000 }));
    await ti.start();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await ti.submit("later", [`job ${i}`]));
    await t1.close();
    const t2 = titanic(ep, dir);
    await t2.start();
    expect(t2.stats().replayed).toBe(5);
    await closeAfter(
      new MajordomoWorker({
        broker: ep,
        service: "later",
        handler: (r) => [Buffer.from("done"), ...r],
        ...HB,
      }),
    ).start();
    for (const [i, id] of ids.entries()) {
      await waitFor(async () => (await ti.reply(id)).status === "200", { what: `reply ${i}` });
      expect(str((await ti.reply(id)).body)).toEqual(["done", `job ${i}`]);
    }
  });
});
