// A partition between the two servers only (both still reachable by the clients), made with the
// @zg/testing FaultProxy on the peer links. The plain pair ends up with two active servers (the
// Guide's documented limit: "do not split a pair across network islands"); with a witness the
// backup's takeover is vetoed and only the primary ever answers.
import { describe, expect, it } from "vitest";
import { isZgError } from "@zg/core";
import { closeAfter, FaultProxy, waitFor } from "@zg/testing";
import { BinaryStar, BinaryStarClient, BinaryStarWitness } from "../src/bstar/index.js";

const HB = 100;

async function proxy(): Promise<FaultProxy> {
  const p = closeAfter(new FaultProxy());
  await p.start();
  return p;
}

async function proxiedPair(withWitness: boolean) {
  // The peer links: primary SUB → backup PUB, backup SUB → primary PUB, each through a proxy.
  const toBackup = await proxy();
  const toPrimary = await proxy();
  let witness: BinaryStarWitness | undefined;
  const witnessLinks: FaultProxy[] = [];
  if (withWitness) {
    // The witness sits with the clients: its links are never cut (proxies only to learn the addresses late).
    witnessLinks.push(await proxy(), await proxy());
    witness = closeAfter(
      new BinaryStarWitness({
        primary: witnessLinks[0]?.endpoint ?? "",
        backup: witnessLinks[1]?.endpoint ?? "",
        endpoints: "tcp://127.0.0.1:*",
        heartbeat: HB,
      }),
    );
  }
  const witnessEndpoint = witness === undefined ? undefined : (await witness.start()).endpoints[0];
  const make = (role: "primary" | "backup", peer: string): BinaryStar =>
    closeAfter(
      new BinaryStar({
        role,
        heartbeat: HB,
        state: "tcp://127.0.0.1:*",
        peer,
        ...(witnessEndpoint === undefined ? {} : { witness: witnessEndpoint }),
        frontend: {
          endpoints: "tcp://127.0.0.1:*",
          handler: (body) => [Buffer.from(role), ...body],
        },
      }),
    );
  const primary = make("primary", toBackup.endpoint);
  const backup = make("backup", toPrimary.endpoint);
  const [pe, be] = await Promise.all([primary.start(), backup.start()]);
  toPrimary.setTarget(pe.state[0] ?? "");
  toBackup.setTarget(be.state[0] ?? "");
  witnessLinks[0]?.setTarget(pe.state[0] ?? "");
  witnessLinks[1]?.setTarget(be.state[0] ?? "");
  await waitFor(() => primary.pairState === "active" && backup.pairState === "passive", {
    timeout: 10_000,
    what: "precondition: primary active, backup passive",
  });
  if (witness !== undefined) {
    const w = witness;
    await waitFor(() => w.view().primary === "active" && w.view().backup === "passive", {
      timeout: 10_000,
      what: "precondition: the witness hears both servers",
    });
  }
  const partition = (): void => {
    toBackup.partition();
    toPrimary.partition();
  };
  const heal = (): void => {
    toBackup.heal();
    toPrimary.heal();
  };
  return {
    primary,
    backup,
    frontends: [pe.endpoints[0] ?? "", be.endpoints[0] ?? ""] as const,
    partition,
    heal,
  };
}

/** A client loop; counts replies per answering server. */
function clientLoop(servers: readonly string[]) {
  const byServer = { primary: 0, backup: 0 };
  let running = true;
  const client = closeAfter(new BinaryStarClient({ servers, timeout: 3 * HB, settle: HB }));
  const done = (async () => {
    await client.start();
    for (let i = 0; running; i++) {
      try {
        const reply = await client.request(String(i));
        byServer[String(reply[0]) as "primary" | "backup"]++;
      } catch (error) {
        if (isZgError(error, "ZG_CLOSED")) return;
        throw error;
      }
    }
  })();
  return {
    byServer,
    stop: async () => {
      running = false;
      await client.close();
      await done;
    },
  };
}

describe("Binary Star: partition between the servers only", () => {
  it("plain pair: a client reaching the backup makes it active too (dual-active), detected as fatal when the link heals, leaving at most one active", async () => {
    const { primary, backup, frontends, partition, heal } = await proxiedPair(false);
    const front = clientLoop([frontends[0], frontends[1]]);
    await waitFor(() => front.byServer.primary >= 5, { what: "precondition: primary serving" });
    partition();
    await waitFor(() => !backup.peerAlive, {
      what: "the backup's peer expiry after the partition",
    });
    // A client that tries the backup first (it sits on the backup's side, or just failed over).
    const behind = clientLoop([frontends[1], frontends[0]]);
    await waitFor(() => behind.byServer.backup >= 5, {
      timeout: 10_000,
      what: "the backup serving during the partition",
    });
    const during = { primary: front.byServer.primary, backup: behind.byServer.backup };
    expect(primary.pairState).toBe("active");
    expect(backup.pairState).toBe("active"); // split brain: both serve
    const primaryServedDuring = front.byServer.primary;
    await waitFor(() => front.byServer.primary > primaryServedDuring, {
      what: "primary still serving",
    });
    await behind.stop();
    await front.stop();
    heal();
    // Each side now hears the other claim "active": whichever hears it first stops; the other may
    // stop too, or see its peer vanish and stay the only active server. Never both serving.
    await waitFor(() => primary.stats().splits + backup.stats().splits >= 1, {
      timeout: 10_000,
      what: "dual-active detected after the heal",
    });
    await waitFor(() => !(primary.active && backup.active), { what: "at most one active server" });
    const survivors = [primary, backup].filter((x) => x.active).map((x) => x.role);
    for (const x of [primary, backup]) {
      if (x.stats().splits > 0) expect(isZgError(await x.closed, "ZG_STATE")).toBe(true);
    }
    console.log(
      `bstar partition, plain pair: faults=1 (partition, healed), dual-active: primary served ${during.primary}, ` +
        `backup served ${during.backup} during the partition; on heal ${primary.stats().splits + backup.stats().splits} side(s) detected dual-active and stopped, still active: ${survivors.join(",") || "none"}`,
    );
  }, 60_000);

  it("with a witness: the backup's takeover is vetoed, only the primary answers, and healing finds a sound pair", async () => {
    const { primary, backup, frontends, partition, heal } = await proxiedPair(true);
    const front = clientLoop([frontends[0], frontends[1]]);
    await waitFor(() => front.byServer.primary >= 5, { what: "precondition: primary serving" });
    partition();
    await waitFor(() => !backup.peerAlive, {
      what: "the backup's peer expiry after the partition",
    });
    const behind = clientLoop([frontends[1], frontends[0]]);
    // The client that tried the backup first is dropped there, fails over and is served by the primary.
    await waitFor(() => behind.byServer.primary >= 5 && backup.stats().witnessVetoes >= 1, {
      timeout: 10_000,
      what: "the backup's vote vetoed and the client served by the primary",
    });
    expect(backup.pairState).toBe("passive");
    expect(behind.byServer.backup).toBe(0);
    heal();
    const served = front.byServer.primary;
    await waitFor(() => front.byServer.primary >= served + 5, {
      what: "primary serving after heal",
    });
    await behind.stop();
    await front.stop();
    expect(primary.stats().splits + backup.stats().splits).toBe(0);
    expect(primary.state).toBe("running");
    expect(backup.state).toBe("running");
    expect(front.byServer.backup).toBe(0);
    console.log(
      `bstar partition, witness: faults=1 (partition, healed), witness vetoes ${backup.stats().witnessVetoes}, ` +
        `backup served 0, primary served ${front.byServer.primary + behind.byServer.primary}, no split`,
    );
  }, 60_000);

  it("with a witness, a real primary death still fails over (the witness stops hearing it too)", async () => {
    const { primary, backup, frontends } = await proxiedPair(true);
    const front = clientLoop([frontends[0], frontends[1]]);
    await waitFor(() => front.byServer.primary >= 5, { what: "precondition: primary serving" });
    await primary.close();
    await waitFor(() => front.byServer.backup >= 5, {
      timeout: 10_000,
      what: "backup serving after the primary died",
    });
    await front.stop();
    expect(backup.pairState).toBe("active");
  }, 60_000);
});
