import { readFileSync } from "node:fs";
import { describe, expect } from "vitest";
import { closeAfter, pythonTest, spawnPython, tcpEndpoint, waitFor } from "@zg/testing";
import {
  AsyncMajordomoClient,
  MajordomoBroker,
  MajordomoClient,
  MajordomoWorker,
  TitanicClient,
  Titanic,
} from "../src/index.js";
import { tempDir } from "@zg/testing";

// Independent pyzmq peers written from the RFCs (test/fixtures/mdp_peers.py).
const PEERS = readFileSync(new URL("./fixtures/mdp_peers.py", import.meta.url), "utf8");
const HB = { heartbeatInterval: 250, heartbeatLiveness: 3 };
const py = (...args: string[]) => spawnPython(PEERS, args);

async function ourBroker(): Promise<{ broker: MajordomoBroker; ep: string }> {
  const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
  return { broker, ep: (await broker.start()).endpoints[0] as string };
}

describe("MDP interop with pyzmq peers written from the specs", () => {
  pythonTest(
    "our broker with a Python 7/MDP worker and a Python REQ client (MMI included)",
    async () => {
      const { broker, ep } = await ourBroker();
      const pw = py("worker", ep, "1", "pyecho", "250");
      await pw.waitForLine(/^READY/);
      await waitFor(() => broker.stats().perService["pyecho"]?.workers === 1, {
        what: "python worker registered",
      });
      // our client → python worker
      const c = closeAfter(new MajordomoClient({ broker: ep, timeout: 2000 }));
      await c.start();
      expect((await c.request("pyecho", ["hello", "two"])).map(String)).toEqual([
        "py:hello",
        "two",
      ]);
      // python client → our worker
      await closeAfter(
        new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r, ...HB }),
      ).start();
      await waitFor(() => broker.stats().perService["echo"]?.workers === 1);
      const pc = py("client", ep, "1", "echo", "a", "b");
      await pc.waitForLine(/^REPLY \["a"\]/);
      await pc.waitForLine(/^REPLY \["b"\]/);
      const mmi = py("client", ep, "1", "mmi.service", "pyecho");
      await mmi.waitForLine(/^REPLY \["200"\]/);
      // The python worker keeps heartbeating: still registered after several intervals.
      await new Promise((r) => setTimeout(r, 1000));
      expect(broker.stats().perService["pyecho"]?.workers).toBe(1);
      await pw.kill();
      await waitFor(() => (broker.stats().perService["pyecho"]?.workers ?? 0) === 0, {
        timeout: 2000,
        what: "dead python worker expired",
      });
      const mmi2 = py("client", ep, "1", "mmi.service", "pyecho");
      await mmi2.waitForLine(/^REPLY \["404"\]/);
    },
    20_000,
  );

  pythonTest(
    "our broker with Python 18/MDP peers, sharing a service with 0.1 peers",
    async () => {
      const { broker, ep } = await ourBroker();
      const pw = py("worker", ep, "2", "mixed", "250");
      await pw.waitForLine(/^READY/);
      await waitFor(() => broker.stats().perService["mixed"]?.workers === 1);
      const pc = py("client", ep, "2", "mixed", "x");
      await pc.waitForLine(/^PARTIAL \["partial"\]/);
      await pc.waitForLine(/^REPLY \["py:x"\]/);
      // a 0.1 client of the same 0.2 worker sees only the final reply
      const c1 = closeAfter(new MajordomoClient({ broker: ep, timeout: 2000 }));
      await c1.start();
      expect((await c1.request("mixed", ["y"])).map(String)).toEqual(["py:y"]);
      // our 0.1 worker joins the service; a python 0.2 client reaches both
      await closeAfter(
        new MajordomoWorker({
          broker: ep,
          service: "mixed",
          handler: (r) => [Buffer.from("ts"), ...r],
          ...HB,
        }),
      ).start();
      await waitFor(() => broker.stats().perService["mixed"]?.workers === 2);
      const pc2 = py("client", ep, "2", "mixed", "1", "2", "3", "4");
      const got = [];
      for (let i = 0; i < 4; i++) got.push((await pc2.waitForLine(/^REPLY (.*)$/))[1]);
      expect(new Set(got.map((g) => (g?.includes("py:") ? "py" : "ts")))).toEqual(
        new Set(["py", "ts"]),
      );
    },
    20_000,
  );

  pythonTest(
    "our Titanic with a Python 9/TSP client (upper-case UUID, idempotent close)",
    async () => {
      const { broker, ep } = await ourBroker();
      await closeAfter(
        new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r, ...HB }),
      ).start();
      await closeAfter(
        new Titanic({ broker: ep, directory: tempDir(), ...HB, dispatchInterval: 100 }),
      ).start();
      await waitFor(() => broker.stats().perService["titanic.close"]?.workers === 1);
      const p = py("tsp", ep, "echo", "Hello world");
      expect((await p.waitForLine(/^UUID ([0-9a-f]{32})$/))[1]).toHaveLength(32);
      await p.waitForLine(/^REPLY \["Hello world"\]$/);
      await p.waitForLine(/^AFTER-CLOSE 400$/);
    },
    20_000,
  );

  pythonTest(
    "our worker and clients (sync, async, Titanic) through a Python 7/MDP broker",
    async () => {
      const pb = py("broker", "250");
      const ep = (await pb.waitForLine(/^BOUND (.*)$/))[1] as string;
      await closeAfter(
        new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r, ...HB }),
      ).start();
      await closeAfter(
        new MajordomoWorker({ broker: ep, service: "echo", handler: (r) => r, ...HB }),
      ).start();
      const c = closeAfter(new MajordomoClient({ broker: ep, timeout: 2000 }));
      await c.start();
      await waitFor(async () => (await c.request("mmi.service", ["echo"])).toString() === "200", {
        what: "workers registered at the python broker",
      });
      expect((await c.request("echo", ["hi"])).map(String)).toEqual(["hi"]);
      const ac = closeAfter(new AsyncMajordomoClient({ broker: ep, timeout: 3000 }));
      await ac.start();
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => ac.request("echo", [`n${i}`])),
      );
      expect(replies.map((r) => r.toString())).toEqual(
        Array.from({ length: 50 }, (_, i) => `n${i}`),
      );
      // Titanic is just another pair of MDP worker + client: it works through any 7/MDP broker.
      await closeAfter(
        new Titanic({ broker: ep, directory: tempDir(), ...HB, dispatchInterval: 100 }),
      ).start();
      const ti = closeAfter(new TitanicClient({ broker: ep, timeout: 2000 }));
      await ti.start();
      await waitFor(
        async () => (await c.request("mmi.service", ["titanic.request"])).toString() === "200",
      );
      expect((await ti.request("echo", ["durable"], { firstPoll: 20 })).map(String)).toEqual([
        "durable",
      ]);
      // A worker survives heartbeats from the python broker for several intervals.
      await new Promise((r) => setTimeout(r, 1000));
      expect((await c.request("echo", ["still here"])).map(String)).toEqual(["still here"]);
    },
    20_000,
  );
});
