// Model 1, "shrugging it off" (no heartbeat): its consequences, shown, and what the other models change.
import { describe, expect, test } from "vitest";
import * as zmq from "zeromq";
import {
  bindAll,
  createDealer,
  createRouter,
  createSocket,
  identityKey,
  SocketLoop,
} from "@zg/core";
import { closeAfter, delay, tcpEndpoint, waitFor, watchStalls } from "@zg/testing";
import {
  HeartbeatDealer,
  HeartbeatMonitor,
  HeartbeatPublisher,
  HeartbeatRouter,
} from "../src/index.js";

const ROUNDS = 5;
const PER_ROUND = 20;

describe("no heartbeat", () => {
  test("a ROUTER keeping per-peer state grows without bound as peers come and go; a presence table purges them", async () => {
    // Without heartbeats: state per identity, and nothing ever says a peer is gone.
    const state = new Map<string, { hello: number }>();
    const router = createRouter({ linger: 0 });
    const [ep] = await bindAll(router, [tcpEndpoint()]);
    const loop = closeAfter(
      new SocketLoop(router, {
        onMessage: (m) => void state.set(identityKey(m[0] as Buffer), { hello: Date.now() }),
      }).start(),
    );
    // With ping-pong heartbeats.
    const tracked = closeAfter(new HeartbeatRouter({ endpoints: tcpEndpoint(), interval: 100 }));
    const [hbEp] = (await tracked.start()).endpoints;
    const sizes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const peers = Array.from({ length: PER_ROUND }, (_, i) => {
        const d = createDealer({ linger: 0, routingId: `r${round}-${i}` });
        d.connect(ep as string);
        return d;
      });
      const hbPeers = Array.from(
        { length: PER_ROUND },
        (_, i) =>
          new HeartbeatDealer({
            router: hbEp as string,
            interval: 100,
            routingId: `r${round}-${i}`,
          }),
      );
      await Promise.all(peers.map((d) => d.send("hello")));
      await Promise.all(hbPeers.map((d) => d.start()));
      await waitFor(
        () => state.size === (round + 1) * PER_ROUND && tracked.stats().peers === PER_ROUND,
        { what: `round ${round}` },
      );
      for (const d of peers) d.close();
      await Promise.all(hbPeers.map((d) => d.close()));
      await waitFor(() => tracked.stats().peers === 0, { what: "purge", timeout: 2000 });
      sizes.push(state.size);
    }
    process.stdout.write(
      `no heartbeat: per-peer state after each round ${sizes.join(", ")}; with heartbeats: ${tracked.stats().peers} (expired ${tracked.stats().expired})\n`,
    );
    expect(sizes).toEqual(Array.from({ length: ROUNDS }, (_, r) => (r + 1) * PER_ROUND));
    expect(tracked.stats()).toMatchObject({ peers: 0, expired: ROUNDS * PER_ROUND });
    expect(loop.stats().received).toBe(ROUNDS * PER_ROUND);
  });

  test("a SUB cannot tell 'no data' from 'publisher dead'; the one-way monitor can", async () => {
    const idle = closeAfter(createSocket(zmq.Publisher, { linger: 0 }));
    const doomed = createSocket(zmq.Publisher, { linger: 0 });
    await idle.bind(tcpEndpoint());
    await doomed.bind(tcpEndpoint());
    const observe = async (endpoint: string): Promise<string> => {
      const sub = createSocket(zmq.Subscriber, { linger: 0, receiveTimeout: 500 });
      sub.subscribe();
      sub.connect(endpoint);
      try {
        await sub.receive();
        return "message";
      } catch (error) {
        return (error as { code?: string }).code ?? "error";
      } finally {
        sub.close();
      }
    };
    const doomedEp = doomed.lastEndpoint as string;
    doomed.close();
    // Both look the same to a bare SUB: the receive times out.
    expect(await observe(idle.lastEndpoint as string)).toBe("EAGAIN");
    expect(await observe(doomedEp)).toBe("EAGAIN");
    // With one-way heartbeats: alive vs dead.
    const alivePub = closeAfter(
      new HeartbeatPublisher({ endpoints: tcpEndpoint(), interval: 100 }),
    );
    const [aliveEp] = (await alivePub.start()).endpoints;
    const monitor = closeAfter(
      new HeartbeatMonitor({ publishers: [aliveEp as string, doomedEp], interval: 100 }),
    );
    await monitor.start();
    const stalls = watchStalls(); // a stall of I/2 in this process (both ends) makes a heartbeat late: "silent"
    await delay(500);
    stalls.stop();
    expect(monitor.publisherState(aliveEp as string)).toMatch(
      stalls.max < 40 ? /^alive$/ : /^(alive|silent)$/,
    );
    expect(monitor.publisherState(doomedEp)).toBe("dead");
  });
});
