import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeAfter, tempDir, waitFor } from "@zg/testing";
import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import { ZnsAgent, ZnsClient, ZnsServer, type ZnsAgentOptions } from "../src/index.js";

const names = (port: number, extra = ""): string =>
  `zns\n    version = 1\nname\n    echo\n        connect = tcp://127.0.0.1:${port}\n        bind = tcp://127.0.0.1:${port}\n        ttl = 200\n        env = test\n            connect = tcp://127.0.0.1:${port + 1}\n${extra}`;

const fast = { syncInterval: 100 };

function agent(dir: string, servers: string[], options: Partial<ZnsAgentOptions> = {}): ZnsAgent {
  return closeAfter(
    new ZnsAgent({ servers, runtimeDir: dir, serverTimeout: 500, feedOptions: fast, ...options }),
  );
}

describe("ZnsServer → ZnsAgent → ZnsClient", () => {
  test("a name changed in the central file reaches every agent within 1 s; a client connected by name follows it", async () => {
    const dir = tempDir("zns-");
    const file = join(dir, "names.zpl");
    writeFileSync(file, names(6000));
    const server = closeAfter(new ZnsServer({ names: file, feedOptions: fast }));
    const { endpoints } = await server.start();
    const agents = [0, 1, 2].map((i) => agent(join(dir, `a${i}`), endpoints));
    await Promise.all(agents.map((a) => a.start()));
    await waitFor(() => agents.every((a) => a.resolve("echo") !== undefined), {
      what: "every agent synced",
    });
    expect(agents[0]!.resolve("echo")).toEqual({
      connect: ["tcp://127.0.0.1:6000"],
      bind: ["tcp://127.0.0.1:6000"],
      source: "feed",
      stale: false,
      ttl: 200,
    });
    expect(agents[0]!.resolve("echo", "test")?.connect).toEqual(["tcp://127.0.0.1:6001"]);

    // A real REP server the client reaches by name, then the name moves to a second one.
    const rep1 = closeAfter(new zmq.Reply({ linger: 0 }));
    await rep1.bind("tcp://127.0.0.1:*");
    const rep2 = closeAfter(new zmq.Reply({ linger: 0 }));
    await rep2.bind("tcp://127.0.0.1:*");
    const port = (s: zmq.Reply): number => Number(/:(\d+)$/.exec(s.lastEndpoint!)![1]);
    writeFileSync(file, names(port(rep1)));
    await waitFor(() =>
      agents.every((a) => a.resolve("echo")?.connect[0]?.endsWith(`:${port(rep1)}`)),
    );

    const client = closeAfter(new ZnsClient({ agent: agents[0]!.endpoint, followInterval: 50 }));
    await client.start();
    const req = closeAfter(new zmq.Dealer({ linger: 0 }));
    const link = await client.connectByName(req, "echo");
    expect(link.endpoints).toEqual([`tcp://127.0.0.1:${port(rep1)}`]);
    const echo = async (rep: zmq.Reply, text: string): Promise<string> => {
      await req.send(["", text]);
      const [msg] = await rep.receive();
      await rep.send(msg!);
      const [, back] = await req.receive();
      return back!.toString();
    };
    expect(await echo(rep1, "one")).toBe("one");

    const changed = performance.now();
    const arrivals = agents.map(
      (a) =>
        new Promise<number>((r) => a.on("table:updated", () => r(performance.now() - changed))),
    );
    writeFileSync(file, names(port(rep2)));
    const times = await Promise.all(arrivals);
    console.log(`zns propagation to 3 agents: ${times.map((t) => t.toFixed(0)).join(", ")} ms`);
    for (const t of times) expect(t).toBeLessThan(1000);
    await waitFor(() => link.endpoints[0] === `tcp://127.0.0.1:${port(rep2)}`, {
      what: "the client followed the name",
    });
    expect(await echo(rep2, "two")).toBe("two");
    link.close();
  });

  test("server stopped: agents answer from cache with stale: true; server restarted: they re-sync and clear the flag", async () => {
    const dir = tempDir("zns-");
    const file = join(dir, "names.zpl");
    writeFileSync(file, names(7000));
    const server = new ZnsServer({ names: file, feedOptions: fast });
    const { endpoints } = await server.start();
    const a = agent(join(dir, "a"), endpoints);
    await a.start();
    await waitFor(() => a.resolve("echo")?.stale === false, { what: "synced" });
    const stale = new Promise((r) => a.once("feed:stale", r));
    await server.close();
    await stale;
    expect(a.resolve("echo")).toMatchObject({
      connect: ["tcp://127.0.0.1:7000"],
      source: "cache",
      stale: true,
    });

    // Over ipc, through a client, too.
    const client = closeAfter(new ZnsClient({ agent: a.endpoint }));
    await client.start();
    expect(await client.resolve("echo")).toMatchObject({ stale: true, source: "cache" });

    writeFileSync(file, names(7100));
    const again = closeAfter(
      new ZnsServer({ names: file, endpoints: endpoints[0]!, feedOptions: fast }),
    );
    await again.start();
    await waitFor(() => a.resolve("echo")?.stale === false, { what: "re-synced" });
    expect(a.resolve("echo")).toMatchObject({
      connect: ["tcp://127.0.0.1:7100"],
      source: "feed",
      stale: false,
    });
    expect(a.stats().stale).toBe(false);
  });

  test("a restarted agent answers from its disk cache and its local file before any server is heard", async () => {
    const dir = tempDir("zns-");
    const file = join(dir, "names.zpl");
    writeFileSync(file, names(7200));
    const server = new ZnsServer({ names: file, feedOptions: fast });
    const { endpoints } = await server.start();
    const runtimeDir = join(dir, "rt");
    const first = new ZnsAgent({ servers: endpoints, runtimeDir, feedOptions: fast });
    await first.start();
    await waitFor(() => first.resolve("echo")?.stale === false);
    await first.close();
    await server.close();
    const local = join(dir, "local.zpl");
    writeFileSync(
      local,
      "name\n    mine\n        bind = ipc:///tmp/mine\n    echo\n        bind = tcp://*:1\n",
    );
    const second = closeAfter(
      new ZnsAgent({ servers: endpoints, runtimeDir, localFile: local, feedOptions: fast }),
    );
    await second.start();
    expect(second.resolve("mine")).toMatchObject({
      bind: ["ipc:///tmp/mine"],
      source: "local",
      stale: false,
    });
    expect(second.resolve("echo")).toMatchObject({ bind: ["tcp://*:1"], source: "local" }); // local wins
    writeFileSync(local, "name\n    other\n        bind = ipc:///tmp/other\n");
    await waitFor(() => second.resolve("other") !== undefined, { what: "local file reloaded" });
    expect(second.resolve("echo")).toMatchObject({
      connect: ["tcp://127.0.0.1:7200"],
      source: "cache",
      stale: true,
    });
  });
});

describe("bad input everywhere: a clear error, counted, never a crash", () => {
  test("malformed and oversized lookups are answered 400/505 or dropped, and counted", async () => {
    const dir = tempDir("zns-");
    const local = join(dir, "local.zpl");
    writeFileSync(local, "name\n    a\n        connect = tcp://127.0.0.1:1\n");
    const a = agent(join(dir, "rt"), [], { localFile: local });
    await a.start();
    const raw = closeAfter(new zmq.Router({ linger: 0 }));
    raw.connect(a.endpoint);
    await new Promise((r) => setTimeout(r, 100)); // ROUTER: wait for the handshake before routing
    const ask = async (...frames: (string | Buffer)[]): Promise<string[]> => {
      await raw.send([a.endpoint, "1", ...frames]);
      const [, , ...reply] = await raw.receive();
      return reply.map((x) => x.toString());
    };
    expect(await ask("ZNS01", "RESOLVE", "a", "")).toEqual([
      "ZNS01",
      "OK",
      JSON.stringify({
        connect: ["tcp://127.0.0.1:1"],
        bind: [],
        source: "local",
        stale: false,
        ttl: 1000,
      }),
    ]);
    expect((await ask("ZNS01", "RESOLVE", "nope", ""))[2]).toBe("404");
    expect((await ask("garbage"))[2]).toBe("400");
    expect((await ask("ZNS09", "RESOLVE", "a", ""))[2]).toBe("505");
    expect((await ask("ZNS01", "RESOLVE", "x".repeat(300), ""))[2]).toBe("400");
    // larger than DEFAULT_LOOKUP_MAX_MESSAGE_SIZE: libzmq drops the connection, the agent lives on
    await raw.send([a.endpoint, "2", "ZNS01", "RESOLVE", "x".repeat(10_000), ""]);
    expect(a.stats()).toMatchObject({ protocolErrors: 3, notFound: 1 });
    const client = closeAfter(new ZnsClient({ agent: a.endpoint }));
    await client.start();
    await expect(client.resolve("nope")).rejects.toMatchObject({
      code: "ZG_UNREACHABLE",
      details: { code: "404" },
    });
    expect(() => client.resolve("a b")).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    expect((await client.resolve("a")).connect).toEqual(["tcp://127.0.0.1:1"]);
  });

  test("garbage on the feed is counted; a names file that is not ZPL fails start, an invalid edit keeps the last table", async () => {
    const dir = tempDir("zns-");
    const file = join(dir, "names.zpl");
    writeFileSync(file, "name\n  broken\n");
    await expect(new ZnsServer({ names: file }).start()).rejects.toMatchObject({
      code: "ZG_DECODE",
      line: 2,
    });
    writeFileSync(file, names(7300));
    const server = closeAfter(new ZnsServer({ names: file, feedOptions: fast }));
    const { endpoints } = await server.start();
    const invalid = new Promise<Error>((r) => server.once("names:invalid", (e) => r(e.error)));
    writeFileSync(file, "name\n    x\n        connect = not-an-endpoint\n");
    expect((await invalid).message).toMatch(
      /line 3, column 9: \/name\/x\/connect: not a ZeroMQ endpoint/,
    );
    expect(server.stats()).toMatchObject({ entries: 1, fileErrors: 1 });
    const raw = closeAfter(new zmq.Dealer({ linger: 0 }));
    raw.connect(endpoints[0]!);
    await raw.send(["rubbish"]);
    await raw.send(["ZNSF01", "TABLE", "v", "{}"]);
    await waitFor(() => (server.stats().feed["protocolErrors"] ?? 0) === 2, {
      what: "feed protocol errors counted",
    });
    const a = agent(join(dir, "a"), endpoints);
    await a.start();
    await waitFor(() => a.resolve("echo")?.connect[0] === "tcp://127.0.0.1:7300", {
      what: "last good table served",
    });
  });
});
