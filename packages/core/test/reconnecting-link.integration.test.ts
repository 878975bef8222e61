import { describe, expect, test } from "vitest";
import { closeAfter, tcpEndpoint, waitFor } from "@zg/testing";
import {
  bindAll,
  createDealer,
  createRouter,
  ManualClock,
  ReconnectingLink,
  SocketLoop,
  type Message,
  type ReconnectingLinkEvents,
} from "../src/index.js";

/** A ROUTER peer that records what each dealer sent and can answer the last one. */
async function peer() {
  const router = createRouter({ linger: 0 });
  const [endpoint] = await bindAll(router, [tcpEndpoint()]);
  const got: { id: Buffer; body: string }[] = [];
  const loop = closeAfter(
    new SocketLoop(router, {
      onMessage: (m: Message) => void got.push({ id: m[0] as Buffer, body: String(m[1]) }),
    }).start(),
  );
  const answer = (body: string): void => {
    const last = got.at(-1);
    if (last !== undefined) loop.post([last.id, body]);
  };
  return { endpoint: endpoint as string, got, answer };
}

describe("ReconnectingLink (real sockets, ManualClock for heartbeats and delays)", () => {
  test("connect hook, idle heartbeats, loss by silence, back-off, fresh socket, restore, goodbye, close", async () => {
    const p = await peer();
    const clock = new ManualClock();
    const attempts: number[] = [];
    const events: string[] = [];
    const received: string[] = [];
    const link: ReconnectingLink = new ReconnectingLink({
      clock,
      socket: (attempt) => {
        attempts.push(attempt);
        const s = createDealer({ linger: 0 });
        s.connect(p.endpoint);
        return s;
      },
      heartbeat: { interval: 100, liveness: 3, send: () => void link.post(["HB"]) },
      reconnect: { initial: 50, max: 200 },
      onConnect: (attempt) => void link.post([`READY ${attempt}`]),
      onMessage: (m) => void received.push(String(m[0])),
      goodbye: (reason) => [`BYE ${reason}`],
    });
    const on = <K extends keyof ReconnectingLinkEvents>(k: K): void =>
      void link.on(k, (e) => events.push(`${k} ${JSON.stringify(e)}`));
    on("link:connected");
    on("link:lost");
    on("link:restored");
    link.start();
    await waitFor(() => p.got.some((g) => g.body === "READY 0"), { what: "READY 0" });
    expect(link.stats()).toMatchObject({ generation: 1, connects: 1, connected: true });

    clock.advance(100); // an idle interval: one heartbeat
    await waitFor(() => p.got.some((g) => g.body === "HB"), { what: "a heartbeat" });
    p.answer("pong");
    await waitFor(() => received.length === 1, { what: "the answer" });

    clock.advance(300); // interval × liveness of silence from the peer: lost, first delay 50
    expect(link.connected).toBe(false);
    expect(link.loop).toBeUndefined();
    await waitFor(() => p.got.some((g) => g.body === "BYE silent"), { what: "goodbye" });
    expect(link.signal.aborted).toBe(true);
    clock.advance(50);
    expect(attempts).toEqual([0, 1]);
    await waitFor(() => p.got.some((g) => g.body === "READY 1"), { what: "READY on a new socket" });
    const ids = new Set(p.got.map((g) => g.id.toString("hex")));
    expect(ids.size).toBe(2); // a fresh socket, a new routing id
    p.answer("hello again");
    await waitFor(() => events.some((e) => e.startsWith("link:restored")), { what: "restored" });

    link.reconnect(0); // the owner gives up the socket (e.g. the peer said DISCONNECT)
    clock.advance(0);
    await waitFor(() => p.got.some((g) => g.body === "READY 2"), { what: "READY 2" });
    expect(events.filter((e) => e.startsWith("link:lost"))).toEqual([
      'link:lost {"reason":"silent","silentFor":300,"delay":50}',
      'link:lost {"reason":"requested","silentFor":0,"delay":0}',
    ]);
    expect(link.stats()).toMatchObject({ generation: 3, connects: 3, reconnects: 2, losses: 2 });
    expect(link.stats().heartbeatsSent).toBeGreaterThanOrEqual(1);

    await link.close();
    await link.close();
    expect(clock.pending).toBe(0);
    expect(link.post(["late"])).toBe(false);
  });

  test("holdDuringDelay keeps a socket whose peer is heard again before the delay ends; reconnect: false never replaces it", async () => {
    const p = await peer();
    for (const mode of ["hold", "never"] as const) {
      const clock = new ManualClock();
      let sockets = 0;
      const link: ReconnectingLink = new ReconnectingLink({
        clock,
        socket: () => {
          sockets++;
          const s = createDealer({ linger: 0 });
          s.connect(p.endpoint);
          return s;
        },
        heartbeat: { interval: 100, liveness: 2, send: () => void link.post(["HB"]) },
        reconnect: mode === "hold" ? { initial: 1000 } : false,
        holdDuringDelay: true,
        onConnect: () => void link.post([`hi ${mode}`]),
        onMessage: () => undefined,
      });
      const lost = link.next("link:lost");
      const restored = link.next("link:restored");
      link.start();
      await waitFor(() => p.got.some((g) => g.body === `hi ${mode}`), { what: "hello" });
      clock.advance(200);
      expect((await lost).delay).toBe(mode === "hold" ? 1000 : -1);
      expect(link.loop).toBeDefined();
      p.answer("still here");
      expect((await restored).generation).toBe(1);
      expect(clock.pending).toBe(1); // the heartbeat's timer only: the reconnect delay was cancelled
      clock.advance(150);
      expect(sockets).toBe(1);
      expect(link.connected).toBe(true);
      await link.close();
      expect(clock.pending).toBe(0);
    }
  });

  test("bad options throw synchronously", () => {
    const base = { socket: () => createDealer({ linger: 0 }), onMessage: () => undefined };
    expect(
      () => new ReconnectingLink({ ...base, heartbeat: { interval: 1, send: () => undefined } }),
    ).toThrow(/interval/);
    expect(
      () =>
        new ReconnectingLink({
          ...base,
          heartbeat: { interval: 100, send: undefined as unknown as () => void },
        }),
    ).toThrow(/heartbeat.send/);
  });
});
