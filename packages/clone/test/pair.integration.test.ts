// The HA pair (model 6) in one process: the passive copies the active, keeps client updates
// pending, and on takeover republishes them before it serves the voting snapshot.
import { describe, expect, test } from "vitest";
import { closeAfter, ipcEndpoint, tempDir, waitFor, within } from "@zg/testing";
import { CloneClient, CloneServer, type CloneEndpoints } from "../src/index.js";

function endpoints(): CloneEndpoints {
  return {
    snapshot: ipcEndpoint("snap"),
    publisher: ipcEndpoint("pub"),
    collector: ipcEndpoint("col"),
  };
}

function pair(
  p = endpoints(),
  b = endpoints(),
  pState = ipcEndpoint("pstate"),
  bState = ipcEndpoint("bstate"),
  dirs?: [string, string],
) {
  const common = { hugzInterval: 100, flushInterval: 100 };
  const dir = (i: 0 | 1) => (dirs === undefined ? {} : { dataDir: dirs[i] });
  const primary = closeAfter(
    new CloneServer({
      ...common,
      ...dir(0),
      bind: p,
      pair: { role: "primary", stateBind: pState, statePeer: bState, peer: b, heartbeat: 100 },
    }),
  );
  const backup = closeAfter(
    new CloneServer({
      ...common,
      ...dir(1),
      bind: b,
      pair: { role: "backup", stateBind: bState, statePeer: pState, peer: p, heartbeat: 100 },
    }),
  );
  return { primary, backup, p, b, pState, bState };
}

describe("Clone HA pair", () => {
  test("the backup copies the primary; after the primary dies the client fails over with nothing acknowledged lost", async () => {
    const { primary, backup, p, b } = pair();
    await primary.start();
    await backup.start();
    await waitFor(() => primary.active, { what: "primary active" });
    const client = closeAfter(
      new CloneClient({ servers: [p, b], serverTtl: 1000, subscribeWait: 300 }),
    );
    await client.start();
    await client.waitSynced({ timeout: 10_000 });
    await client.set("/before", "1");
    await waitFor(() => backup.stats().peerSyncs >= 1 && backup.get("/before") !== undefined, {
      what: "backup copied /before",
    });
    expect(backup.active).toBe(false);

    // A stream of updates across the failover.
    const acked = new Map<string, bigint>();
    let stop = false;
    let i = 0;
    const writer = (async () => {
      while (!stop) {
        const key = `/k/${i++}`;
        const p = client.set(key, "v", { timeout: 20_000 }).then((seq) => acked.set(key, seq));
        if (i % 20 === 0) await p;
        else await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await waitFor(() => acked.size >= 100, { timeout: 10_000, what: "100 acks before the kill" });
    const ackedBeforeKill = new Set(acked.keys());
    await primary.close();
    const failover = await within(client.next("server:changed"), 10_000, "client failover");
    expect(failover.to).toBe(b.snapshot);
    await waitFor(() => backup.active, { timeout: 10_000, what: "backup active" });
    await waitFor(() => client.syncState === "active" && client.server === b.snapshot, {
      timeout: 10_000,
      what: "client synced with the backup",
    });
    await waitFor(() => acked.size >= ackedBeforeKill.size + 100, {
      timeout: 15_000,
      what: "100 acks after the failover",
    });
    stop = true;
    await writer;
    await waitFor(() => client.stats().pendingSets === 0, {
      timeout: 20_000,
      what: "all sets settled",
    });
    const lost = [...acked.keys()].filter(
      (k) => backup.get(k) === undefined || client.get(k) === undefined,
    );
    console.log(
      `pair failover: ${acked.size} acknowledged (${ackedBeforeKill.size} before the kill), lost ${lost.length}, republished ${backup.stats().republished}`,
    );
    expect(lost).toEqual([]);
    expect(client.get("/before")?.toString()).toBe("1");
  }, 60_000);

  test("with data directories: both servers stop, both restart, the map and the sequence are back", async () => {
    const dirs: [string, string] = [tempDir("zg-clone-p-"), tempDir("zg-clone-b-")];
    const first = pair(undefined, undefined, undefined, undefined, dirs);
    await first.primary.start();
    await first.backup.start();
    await waitFor(() => first.primary.active, { what: "primary active" });
    const client = closeAfter(
      new CloneClient({ servers: [first.p, first.b], serverTtl: 1000, subscribeWait: 300 }),
    );
    await client.start();
    await client.waitSynced({ timeout: 10_000 });
    for (let i = 0; i < 50; i++) await client.set(`/k/${i}`, `v${i}`);
    await waitFor(() => first.backup.sequence === 50n, { what: "backup copied all 50" });
    await client.close();
    await first.backup.close();
    await first.primary.close();

    const again = pair(first.p, first.b, first.pState, first.bState, dirs);
    await again.primary.start();
    await again.backup.start();
    await waitFor(() => again.primary.active || again.backup.active, { what: "one active" });
    const reader = closeAfter(
      new CloneClient({ servers: [first.p, first.b], serverTtl: 1000, subscribeWait: 300 }),
    );
    await reader.start();
    await reader.waitSynced({ timeout: 10_000 });
    expect(reader.size).toBe(50);
    expect(reader.getString("/k/49")).toBe("v49");
    expect(reader.sequence).toBe(50n);
    expect(await reader.set("/k/next", "x")).toBe(51n);
  }, 60_000);
});
