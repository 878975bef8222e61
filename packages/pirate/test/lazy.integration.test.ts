import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, ScriptedPeer, tcpEndpoint, within } from "@zg/testing";
import { LazyPirateClient } from "../src/index.js";

async function echoServer(
  endpoint = tcpEndpoint(),
): Promise<{ socket: zmq.Reply; endpoint: string }> {
  const socket = closeAfter(new zmq.Reply({ linger: 0 }));
  await socket.bind(endpoint);
  void (async () => {
    try {
      for (;;) await socket.send(await socket.receive());
    } catch {
      /* closed */
    }
  })();
  return { socket, endpoint: socket.lastEndpoint as string };
}

describe("LazyPirateClient", () => {
  test("round trips against a plain REP echo server (lpserver semantics)", async () => {
    const { endpoint } = await echoServer();
    const client = closeAfter(
      new LazyPirateClient({ server: endpoint, match: LazyPirateClient.echo }),
    );
    await client.start();
    for (let i = 0; i < 20; i++)
      expect((await client.request(String(i)))[0]?.toString()).toBe(String(i));
    // Concurrent calls are serialized, each gets its own reply.
    const replies = await Promise.all(["a", "b", "c"].map((x) => client.request(x)));
    expect(replies.map((r) => r[0]?.toString())).toEqual(["a", "b", "c"]);
    expect(client.stats()).toMatchObject({ requests: 23, replies: 23, resends: 0, failures: 0 });
  });

  test("no server: rejects ZG_RETRIES_EXHAUSTED with attempts and endpoint after attempts × timeout", async () => {
    const peer = await ScriptedPeer.create("router", { bind: [tcpEndpoint()] });
    peer.silence();
    const endpoint = peer.endpoints[0] as string;
    const client = closeAfter(
      new LazyPirateClient({ server: endpoint, timeout: 100, attempts: 3 }),
    );
    await client.start();
    const t0 = performance.now();
    await expect(client.request("hello")).rejects.toMatchObject({
      code: "ZG_RETRIES_EXHAUSTED",
      details: { attempts: 3, endpoint },
    });
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
    expect(client.stats()).toMatchObject({ resends: 2, failures: 1 });
  });

  test("a late reply to an earlier attempt and a duplicate reply are discarded, never returned", async () => {
    const server = await ScriptedPeer.create("router", { bind: [tcpEndpoint()] });
    const client = closeAfter(
      new LazyPirateClient({ server: server.endpoints[0] as string, timeout: 150, attempts: 3 }),
    );
    await client.start();
    const p = client.request("req-1");
    const first = await server.receive(); // attempt 1, socket A
    const second = await server.receive({ timeout: 1000 }); // attempt 2, socket B (after a timeout)
    // Late reply on socket A (closed): cannot reach the client. Reply on socket B twice.
    await server.send(first[0] as Buffer, "", "late-for-attempt-1");
    await server.send(second[0] as Buffer, "", "answer");
    await server.send(second[0] as Buffer, "", "duplicate");
    expect((await p)[0]?.toString()).toBe("answer");
    await within(
      (async () => {
        while (client.stats().staleReplies < 1) await new Promise((r) => setTimeout(r, 10));
      })(),
      2000,
    );
    // The next request gets its own answer, not the duplicate.
    const p2 = client.request("req-2");
    const third = await server.receive();
    await server.send(third[0] as Buffer, "", "answer-2");
    expect((await p2)[0]?.toString()).toBe("answer-2");
  });

  test("match discards foreign replies; abort and close reject with typed errors", async () => {
    const server = await ScriptedPeer.create("router", { bind: [tcpEndpoint()] });
    const client = closeAfter(
      new LazyPirateClient({
        server: server.endpoints[0] as string,
        timeout: 2000,
        match: LazyPirateClient.echo,
      }),
    );
    await client.start();
    const p = client.request("mine");
    const m = await server.receive();
    await server.send(m[0] as Buffer, "", "someone else's");
    await server.send(m[0] as Buffer, "", "mine");
    expect((await p)[0]?.toString()).toBe("mine");
    expect(client.stats().foreignReplies).toBe(1);
    const controller = new AbortController();
    const aborted = client.request("x", { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: "ZG_ABORTED" });
    const pending = client.request("y");
    await client.close();
    await expect(pending).rejects.toMatchObject({ code: "ZG_CLOSED" });
  });

  test("bad options throw synchronously", () => {
    expect(() => new LazyPirateClient({ server: "nope" })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }) as Error,
    );
    expect(() => new LazyPirateClient({ server: "tcp://127.0.0.1:1", attempts: 0 })).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }) as Error,
    );
  });
});
