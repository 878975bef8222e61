import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { LogBroker, LogPublisher } from "@zg/devices";
import { HeartbeatDealer } from "@zg/heartbeat";
import { closeAfter, tcpEndpoint, tempDir, waitFor } from "@zg/testing";
import { ConsoleServer, MAX_CONSOLE_CLIENTS } from "../src/console-server.js";
import type { ConsoleSnapshot } from "../src/model.js";

/** A fake app's `/stats`: a Majordomo broker whose `served` counter grows on every read. */
function fakeStats(): {
  served: number;
  listen(port?: number): Promise<number>;
  stop(): Promise<void>;
  garbage: boolean;
} {
  let server: Server | undefined;
  const state = {
    served: 0,
    garbage: false,
    listen: (port = 0): Promise<number> => {
      const s = createServer((_req, res) => {
        state.served += 5;
        if (state.garbage) {
          res.end("{ not json");
          return;
        }
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            components: {
              majordomo_broker: {
                replies: state.served,
                perService: {
                  echo: {
                    workers: 2,
                    idleWorkers: 1,
                    queued: 0,
                    served: state.served,
                    p50: 1,
                    p99: 3,
                  },
                },
              },
            },
          }),
        );
      });
      server = s;
      return new Promise((resolve) =>
        s.listen(port, "127.0.0.1", () => resolve((s.address() as AddressInfo).port)),
      );
    },
    stop: async (): Promise<void> => {
      const s = server;
      server = undefined;
      s?.closeAllConnections();
      await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
    },
  };
  onTestFinished(() => state.stop());
  return state;
}

/** Reads the console's SSE stream; `latest` is the last snapshot received. */
async function subscribe(
  url: string,
): Promise<{ latest: () => ConsoleSnapshot | undefined; count: () => number; close: () => void }> {
  const abort = new AbortController();
  const res = await fetch(new URL("events", url), { signal: abort.signal });
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  let latest: ConsoleSnapshot | undefined;
  let count = 0;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = event.split("\n").find((l) => l.startsWith("data: "));
          if (data !== undefined) {
            latest = JSON.parse(data.slice(6)) as ConsoleSnapshot;
            count += 1;
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  onTestFinished(() => abort.abort());
  return { latest: () => latest, count: () => count, close: () => abort.abort() };
}

describe("ConsoleServer", () => {
  it("pushes snapshots over SSE; a data source that dies is shown down, then back; garbage /stats is a failure, not a crash", async () => {
    const app = fakeStats();
    const port = await app.listen();
    const console_ = closeAfter(
      new ConsoleServer({
        listen: "127.0.0.1:0",
        targets: [{ name: "md", url: `http://127.0.0.1:${port}/stats` }],
        pollInterval: 50,
      }),
    );
    const { url } = await console_.start();
    const page = await (await fetch(url)).text();
    expect(page).toContain('<table id="services">');
    expect((await fetch(new URL("console.js", url))).headers.get("content-type")).toMatch(
      /javascript/,
    );
    expect((await fetch(new URL("nope", url))).status).toBe(404);

    const sse = await subscribe(url);
    const moving = await waitFor(
      () => {
        const s = sse.latest()?.services[0];
        return s !== undefined && s.rate > 0 && s.series.length >= 3 ? s : undefined;
      },
      { what: "the echo service with a rate and three points on the page stream" },
    );
    expect(moving).toMatchObject({ key: "md/majordomo_broker/echo", workers: 2, up: true });

    await app.stop();
    await waitFor(() => sse.latest()?.targets[0]?.up === false, { what: "md shown down" });
    expect(sse.latest()?.services[0]?.up).toBe(false);
    expect(
      sse.latest()?.logs.some((l) => l.level === "error" && l.msg.startsWith("md is down")),
    ).toBe(true);

    app.garbage = true;
    await app.listen(port);
    await waitFor(() => console_.stats().pollFailures > 0 && app.served > 0, {
      what: "a garbage poll",
    });
    const failuresBefore = console_.stats().pollFailures;
    await waitFor(() => console_.stats().pollFailures >= failuresBefore + 3, {
      what: "garbage polls counted",
    });
    expect(sse.latest()?.targets[0]?.up).toBe(false);
    app.garbage = false;
    await waitFor(
      () => sse.latest()?.targets[0]?.up === true && sse.latest()?.services[0]?.up === true,
      {
        what: "md shown up again",
      },
    );
    expect(sse.latest()?.logs.map((l) => l.msg)).toContain("md is up again");
    const s = console_.stats();
    console.log(
      `console data-source fault: polls ${s.polls}, failures ${s.pollFailures}, pushed ${s.pushed}, skipped ${s.skipped}`,
    );
  });

  it("shows presence peers come and go, and warnings from the log broker", async () => {
    const broker = closeAfter(new LogBroker({ dir: tempDir(), endpoints: tcpEndpoint() }));
    const {
      endpoints: [logEndpoint = ""],
    } = await broker.start();
    const console_ = closeAfter(
      new ConsoleServer({
        listen: "127.0.0.1:0",
        targets: [],
        pollInterval: 50,
        presence: [tcpEndpoint()],
        logs: [logEndpoint],
      }),
    );
    const { presence } = await console_.start();
    const robot = (): HeartbeatDealer =>
      new HeartbeatDealer({ router: presence, interval: 50, routingId: "robot-1" });
    const first = robot();
    await first.start();
    await waitFor(() => console_.model.snapshot(Date.now()).presence[0]?.state === "alive", {
      what: "robot-1 present",
    });
    await first.close();
    await waitFor(() => console_.model.snapshot(Date.now()).presence[0]?.state === "expired", {
      what: "robot-1 expired",
    });
    const second = closeAfter(robot());
    await second.start();
    await waitFor(() => console_.model.snapshot(Date.now()).presence[0]?.returned === 1, {
      what: "robot-1 returned",
    });

    const publisher = closeAfter(new LogPublisher({ broker: logEndpoint, app: "billing" }));
    await publisher.start();
    publisher.log("info", "not shown: below warn");
    publisher.log("warn", "card declined");
    await waitFor(() => console_.model.snapshot(Date.now()).logs.find((l) => l.app === "billing"), {
      what: "the warning from billing in the error console",
    });
    const billing = console_.model.snapshot(Date.now()).logs.filter((l) => l.app === "billing");
    expect(billing.map((l) => [l.level, l.msg])).toEqual([["warn", "card declined"]]);
  });

  it(`refuses page streams beyond MAX_CONSOLE_CLIENTS (${MAX_CONSOLE_CLIENTS}) and validates its options`, async () => {
    const console_ = closeAfter(
      new ConsoleServer({ listen: "127.0.0.1:0", targets: [], pollInterval: 1000 }),
    );
    const { url } = await console_.start();
    const streams = await Promise.all(
      Array.from({ length: MAX_CONSOLE_CLIENTS }, () => subscribe(url)),
    );
    await waitFor(() => console_.stats().clients === MAX_CONSOLE_CLIENTS, {
      what: "every stream open",
    });
    expect((await fetch(new URL("events", url))).status).toBe(503);
    expect(console_.stats().refused).toBe(1);
    for (const s of streams) s.close();
    await waitFor(() => console_.stats().clients === 0, { what: "streams closed" });
    expect(() => new ConsoleServer({ listen: "nowhere", targets: [] })).toThrow(/listen/);
    expect(
      () => new ConsoleServer({ listen: "127.0.0.1:0", targets: [], pollInterval: 1 }),
    ).toThrow(/pollInterval/);
    expect(
      () =>
        new ConsoleServer({
          listen: "127.0.0.1:0",
          targets: [
            { name: "a", url: "http://127.0.0.1:1/stats" },
            { name: "a", url: "http://127.0.0.1:1/stats" },
          ],
        }),
    ).toThrow(/twice/);
    expect(
      () => new ConsoleServer({ listen: "127.0.0.1:0", targets: [{ name: "a", url: "::" }] }),
    ).toThrow(/not a URL/);
  });
});
