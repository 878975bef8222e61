import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, waitFor } from "@zg/testing";
import { FreelanceClient, FreelanceServer, type FreelanceModel } from "../src/index.js";
import { flpRouter } from "./fixtures/flp-router.js";

async function servers(
  model: FreelanceModel,
  n: number,
): Promise<{ servers: FreelanceServer[]; endpoints: string[]; served: string[][] }> {
  const served: string[][] = [];
  const list: FreelanceServer[] = [];
  const endpoints: string[] = [];
  for (let i = 0; i < n; i++) {
    const log: string[] = [];
    served.push(log);
    const s = closeAfter(
      new FreelanceServer({
        model,
        handler: (body) => {
          log.push(body[0]?.toString() ?? "");
          return [`s${i}:${body[0]?.toString() ?? ""}`];
        },
      }),
    );
    list.push(s);
    endpoints.push(...(await s.start()).endpoints);
  }
  return { servers: list, endpoints, served };
}

describe("Freelance", () => {
  test("model 1: sequential failover tries each endpoint once, in order", async () => {
    const {
      servers: [s0],
      endpoints,
    } = await servers(1, 2);
    const client = closeAfter(new FreelanceClient({ model: 1, servers: endpoints, timeout: 200 }));
    await client.start();
    expect((await client.request("a"))[0]?.toString()).toBe("s0:a");
    await s0?.close();
    expect((await client.request("b"))[0]?.toString()).toBe("s1:b");
    expect(client.stats().resends).toBe(1);
  });

  test("model 1: a single dead endpoint is tried `attempts` times, then ZG_RETRIES_EXHAUSTED", async () => {
    const {
      servers: [s0],
      endpoints,
    } = await servers(1, 1);
    await s0?.close();
    const client = closeAfter(
      new FreelanceClient({ model: 1, servers: endpoints, timeout: 80, attempts: 3 }),
    );
    await client.start();
    await expect(client.request("x")).rejects.toMatchObject({
      code: "ZG_RETRIES_EXHAUSTED",
      details: { attempts: 3 },
    });
  });

  test("model 2: shotgun, first reply wins, duplicates discarded", async () => {
    const { endpoints, served } = await servers(2, 3);
    const client = closeAfter(new FreelanceClient({ model: 2, servers: endpoints, timeout: 1000 }));
    await client.start();
    await new Promise((r) => setTimeout(r, 100));
    const [reply] = await client.request("q");
    expect(reply?.toString()).toMatch(/^s[012]:q$/);
    await waitFor(() => served.flat().length === 3, { what: "every server got a copy" });
    await waitFor(() => client.stats().staleReplies === 2, { what: "2 late copies discarded" });
  });

  test("model 3 (10/FLP): identity = endpoint, PING/PONG, control frame echoed, failover when a server dies", async () => {
    const { servers: list, endpoints, served } = await servers(3, 2);
    const client = closeAfter(
      new FreelanceClient({
        model: 3,
        servers: endpoints,
        timeout: 2000,
        pingInterval: 100,
        serverTtl: 1000,
        resendInterval: 150,
      }),
    );
    await client.start();
    await waitFor(() => client.activeServers().length === 2, { what: "both servers alive" });
    expect((await client.request("a"))[0]?.toString()).toBe("s0:a");
    await list[0]?.close();
    const t0 = performance.now();
    expect((await client.request("b"))[0]?.toString()).toBe("s1:b");
    expect(performance.now() - t0).toBeLessThan(1000);
    await waitFor(() => !client.activeServers().includes(endpoints[0] as string), {
      what: "s0 left the active list",
    });
    expect(served[1]).toContain("b");
  });

  test("model 3: a connected but frozen server leaves the active list after serverTtl; re-sends go to the next live server", async () => {
    // A fake FLP server that answers PINGs, then freezes (connection kept open: only the TTL can catch it).
    const { socket: frozen, endpoint: frozenEndpoint } = await flpRouter();
    let answering = true;
    let requestsSeen = 0;
    void (async () => {
      try {
        for await (const [id, cmd] of frozen) {
          if (cmd?.toString() === "PING") {
            if (answering) await frozen.send([id as Buffer, "PONG"]);
          } else requestsSeen++;
        }
      } catch {
        /* closed */
      }
    })();
    const { endpoints } = await servers(3, 1);
    const client = closeAfter(
      new FreelanceClient({
        model: 3,
        servers: [frozenEndpoint, ...endpoints],
        timeout: 3000,
        pingInterval: 100,
        serverTtl: 1000,
        resendInterval: 200,
      }),
    );
    const expired: string[] = [];
    client.on("server:expired", (e) => expired.push(`${e.endpoint}:${e.reason}`));
    await client.start();
    await waitFor(() => client.activeServers().length === 2, { what: "both alive" });
    answering = false; // frozen from now on
    // The frozen server is still within its TTL, so it is first in the active list and gets the first try;
    // the re-send 200 ms later goes to the next live server.
    const [reply] = await client.request("x");
    expect(reply?.toString()).toBe("s0:x");
    expect(requestsSeen).toBeGreaterThanOrEqual(1);
    await waitFor(() => expired.includes(`${frozenEndpoint}:ttl`), {
      timeout: 3000,
      what: "ttl expiry",
    });
    expect(client.activeServers()).toEqual(endpoints);
  });

  test("model 3 server speaks the wire: raw ROUTER probe (spec, not Guide code)", async () => {
    const { endpoints } = await servers(3, 1);
    const probe = closeAfter(new zmq.Router({ linger: 0, mandatory: true }));
    probe.connect(endpoints[0] as string);
    await new Promise((r) => setTimeout(r, 100));
    await probe.send([endpoints[0] as string, "PING"]);
    const pong = await probe.receive();
    expect(pong.map((f) => f.toString())).toEqual([endpoints[0], "PONG"]);
    await probe.send([endpoints[0] as string, "ctl-42", "hello"]);
    const reply = await probe.receive();
    expect(reply.map((f) => f.toString())).toEqual([endpoints[0], "ctl-42", "s0:hello"]);
  });

  test("model 3: no live server → ZG_TIMEOUT after the global timeout", async () => {
    const client = closeAfter(
      new FreelanceClient({ model: 3, servers: ["tcp://127.0.0.1:1"], timeout: 200 }),
    );
    await client.start();
    await expect(client.request("x")).rejects.toMatchObject({ code: "ZG_TIMEOUT" });
  });
});
