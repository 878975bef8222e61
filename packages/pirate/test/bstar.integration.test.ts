import { describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { isZgError, ManualClock } from "@zg/core";
import { closeAfter, delay, ipcEndpoint, waitFor } from "@zg/testing";
import {
  BinaryStar,
  BinaryStarClient,
  BinaryStarWitness,
  type BinaryStarOptions,
  type BinaryStarRole,
} from "../src/bstar/index.js";

const HB = 100;

function server(
  role: BinaryStarRole,
  state: { primary: string; backup: string },
  extra: Partial<BinaryStarOptions> = {},
): BinaryStar {
  return closeAfter(
    new BinaryStar({
      role,
      heartbeat: HB,
      state: state[role],
      peer: role === "primary" ? state.backup : state.primary,
      frontend: { endpoints: "tcp://127.0.0.1:*", handler: (body) => [Buffer.from(role), ...body] },
      ...extra,
    }),
  );
}

function statePair(): { primary: string; backup: string } {
  return { primary: ipcEndpoint("primary-state"), backup: ipcEndpoint("backup-state") };
}

describe("BinaryStar pair (one process, real sockets)", () => {
  it("primary becomes active and backup passive; the client is served by the primary", async () => {
    const st = statePair();
    const p = server("primary", st);
    const b = server("backup", st);
    const [pe, be] = await Promise.all([p.start(), b.start()]);
    await waitFor(() => p.pairState === "active" && b.pairState === "passive", {
      timeout: 5000,
      what: "pair did not settle",
    });
    expect(pe.state[0]).toMatch(/^ipc:/);
    const client = closeAfter(
      new BinaryStarClient({
        servers: [pe.endpoints[0] ?? "", be.endpoints[0] ?? ""],
        timeout: 500,
        settle: 50,
      }),
    );
    await client.start();
    for (let i = 0; i < 5; i++) {
      const reply = await client.request(String(i));
      expect(reply.map(String)).toEqual(["primary", String(i)]);
    }
    expect(p.stats()).toMatchObject({ state: 3, votesAccepted: 5, badStates: 0, splits: 0 });
    expect(b.stats()).toMatchObject({ state: 4 });
  });

  it("a backup alone never serves; a primary alone serves after the peer expiry", async () => {
    const st = statePair();
    const b = server("backup", st);
    const be = await b.start();
    const lone = closeAfter(
      new BinaryStarClient({
        servers: [be.endpoints[0] ?? ""],
        timeout: 4 * HB,
        attempts: 2,
        settle: 0,
      }),
    );
    await lone.start();
    await expect(lone.request("x")).rejects.toMatchObject({ code: "ZG_RETRIES_EXHAUSTED" });
    expect(b.pairState).toBe("backup");
    expect(b.stats().votesDropped).toBeGreaterThan(0);

    const st2 = statePair();
    const p = server("primary", st2);
    const pe = await p.start();
    const c = closeAfter(
      new BinaryStarClient({ servers: [pe.endpoints[0] ?? ""], timeout: 4 * HB, settle: 0 }),
    );
    await c.start();
    const reply = await c.request("y");
    expect(reply.map(String)).toEqual(["primary", "y"]);
    expect(p.pairState).toBe("active");
  });

  it("fails over to the backup on a vote after the primary stops, and never gives the request to both", async () => {
    const st = statePair();
    const p = server("primary", st);
    const b = server("backup", st);
    const [pe, be] = await Promise.all([p.start(), b.start()]);
    await waitFor(() => p.pairState === "active" && b.pairState === "passive", { timeout: 5000 });
    const client = closeAfter(
      new BinaryStarClient({
        servers: [pe.endpoints[0] ?? "", be.endpoints[0] ?? ""],
        timeout: 3 * HB,
        settle: HB,
      }),
    );
    await client.start();
    expect((await client.request("a")).map(String)).toEqual(["primary", "a"]);
    await p.close();
    const t0 = performance.now();
    expect((await client.request("b")).map(String)).toEqual(["backup", "b"]);
    const took = performance.now() - t0;
    expect(b.pairState).toBe("active");
    expect(b.stats().failovers).toBe(1);
    console.log(
      `bstar in-process failover: ${Math.round(took)} ms, timeouts ${client.stats().timeouts}`,
    );
  });

  it("the BinaryStarClient aborts during the settle delay", async () => {
    const dead = ipcEndpoint("nobody");
    const client = closeAfter(
      new BinaryStarClient({ servers: [dead, dead], timeout: 50, settle: 10_000 }),
    );
    await client.start();
    const ac = new AbortController();
    const pending = client.request("x", { signal: ac.signal });
    await waitFor(() => client.stats().timeouts === 1, { timeout: 5000 });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: "ZG_ABORTED" });
    expect(client.stats().aborted).toBe(1);
  });
});

describe("BinaryStarClient on real sockets with an injected clock", () => {
  it("times out, fails over and re-sends only after the settle delay, all on the clock; a late reply from the first server is never taken", async () => {
    const routers = [0, 1].map(() => closeAfter(new zmq.Router({ linger: 0 })));
    const [a, b] = routers as [zmq.Router, zmq.Router];
    await Promise.all(routers.map((r) => r.bind("tcp://127.0.0.1:*")));
    const clock = new ManualClock();
    const client = closeAfter(
      new BinaryStarClient({
        servers: [a.lastEndpoint ?? "", b.lastEndpoint ?? ""],
        timeout: 1000,
        settle: 2000,
        clock,
      }),
    );
    const retries: { attempt: number; endpoint: string }[] = [];
    client.on("request:retry", (e) => retries.push(e));
    await client.start();
    const reply = client.request("x");
    const [idA, ...atA] = await a.receive();
    expect(atA.map(String)).toEqual(["", "x"]);
    clock.advance(1000);
    expect(retries).toEqual([{ attempt: 1, endpoint: b.lastEndpoint }]);
    expect(client.stats()).toMatchObject({ timeouts: 1, server: 1 });
    // A answers late, on the socket the client abandoned: never taken for the reply.
    await a.send([idA as Buffer, Buffer.alloc(0), Buffer.from("late")]);
    clock.advance(1999);
    const early = b.receive();
    let heard = false;
    void early.then(() => (heard = true));
    await delay(100); // real time passes; the clock does not, so B hears nothing yet
    expect(heard, "B heard the request before the settle delay ended").toBe(false);
    clock.advance(1);
    const [idB, ...atB] = await early;
    expect(atB.map(String)).toEqual(["", "x"]);
    await b.send([idB as Buffer, Buffer.alloc(0), Buffer.from("from b")]);
    expect((await reply).map(String)).toEqual(["from b"]);
    expect(client.stats()).toMatchObject({ requests: 1, replies: 1, timeouts: 1, server: 1 });
  });
});

describe("BinaryStar bad input", () => {
  it("the state SUB counts and drops garbage, never changes state from it, and survives a flood", async () => {
    const st = statePair();
    const rogue = new zmq.Publisher({ linger: 0 });
    await rogue.bind(st.backup); // where the primary's SUB connects
    try {
      const p = server("primary", st);
      await p.start();
      await delay(3 * HB); // slow joiner
      const garbage: Buffer[][] = [
        [Buffer.from("2"), Buffer.from("2")],
        [Buffer.from("")],
        [Buffer.from("x")],
        [Buffer.from("0")],
        [Buffer.from("5")],
        [Buffer.from("22")],
        [Buffer.from([0x32, 0x00])],
        [Buffer.alloc(1000, 0x32)], // over BSTAR_MAX_STATE_MESSAGE: the connection is dropped by libzmq
      ];
      for (const m of garbage) await rogue.send(m);
      await waitFor(() => p.stats().badStates >= 7, {
        timeout: 5000,
        what: "bad states not counted",
      });
      // A flood of garbage: nothing changes, nothing crashes.
      for (let i = 0; i < 5000; i++) await rogue.send([Buffer.from(String(i % 10) + "x")]);
      expect(p.state).toBe("running");
      expect(p.stats()).toMatchObject({ statesReceived: 0, splits: 0 });
      expect(p.pairState).toBe("primary");
    } finally {
      rogue.close();
    }
  });

  it("the voter ROUTER drops requests without a delimiter or a body, and they are no votes", async () => {
    const st = statePair();
    const p = server("primary", st);
    const pe = await p.start();
    await delay(3 * HB);
    const d = new zmq.Dealer({ linger: 0 });
    d.connect(pe.endpoints[0] ?? "");
    try {
      await d.send([Buffer.from("no delimiter")]);
      await d.send([Buffer.alloc(0)]);
      await waitFor(() => p.stats().badRequests === 2, { timeout: 5000 });
      expect(p.pairState).toBe("primary"); // garbage is not a vote
      await d.send([Buffer.alloc(0), Buffer.from("ok")]);
      const [empty, body] = await d.receive();
      expect(empty?.length).toBe(0);
      expect(String(body)).toBe("primary");
      expect(p.pairState).toBe("active");
    } finally {
      d.close();
    }
  });

  it("a peer claiming active while this server is active is a fatal dual-active; passive + passive is dual-passive", async () => {
    for (const [mine, theirs, kind] of [
      ["2", "3", "dual-active"], // we see a backup: active; then the peer says active
      ["3", "4", "dual-passive"], // we see an active peer: passive; then the peer says passive
    ] as const) {
      const st = statePair();
      const rogue = new zmq.Publisher({ linger: 0 });
      await rogue.bind(st.backup);
      try {
        const p = server("primary", st);
        const splits: string[] = [];
        p.on("pair:split", (e) => splits.push(e.kind));
        await p.start();
        const want = mine === "2" ? "active" : "passive";
        await waitFor(
          async () => {
            await rogue.send(mine);
            return p.pairState === want;
          },
          { timeout: 5000, what: `peer state ${mine} did not move the primary to ${want}` },
        );
        await rogue.send(theirs);
        const error = await p.closed;
        expect(splits).toEqual([kind]);
        expect(isZgError(error, "ZG_STATE")).toBe(true);
        expect(p.vote()).toBe(false);
        expect(p.active).toBe(false);
      } finally {
        rogue.close();
      }
    }
  });
});

describe("BinaryStarWitness", () => {
  it("reports what it hears from each server and forgets a silent one after 2 × heartbeat", async () => {
    const st = statePair();
    const p = server("primary", st);
    const b = server("backup", st);
    await Promise.all([p.start(), b.start()]);
    const w = closeAfter(
      new BinaryStarWitness({
        primary: st.primary,
        backup: st.backup,
        endpoints: ipcEndpoint("w"),
        heartbeat: HB,
      }),
    );
    await w.start();
    await waitFor(() => w.view().primary === "active" && w.view().backup === "passive", {
      timeout: 5000,
    });
    await b.close();
    await waitFor(() => w.view().backup === undefined, { timeout: 5000 });
    expect(w.view().primary).toBe("active");
  });
});
