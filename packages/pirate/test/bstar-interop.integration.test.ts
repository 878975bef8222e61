// Binary Star interop with independent pyzmq peers (test/fixtures/bstar_peers.py, written from the
// pattern's wire description, not the Guide's code), under Debian's python3-zmq:
//  - our server as the peer of a Python server (both directions of the state exchange and failover);
//  - a Python Lazy Pirate client alternating between our pair;
//  - our BinaryStarClient against a Python pair, failing over when the Python primary is killed.
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { closeAfter, ipcEndpoint, pythonTest, spawnPython, waitFor } from "@zg/testing";
import { BinaryStar, BinaryStarClient } from "../src/bstar/index.js";

const PEERS = readFileSync(new URL("./fixtures/bstar_peers.py", import.meta.url), "utf8");
const HB = 100;

function ours(
  role: "primary" | "backup",
  stateBind: string,
  peer: string,
  frontend: string,
): BinaryStar {
  return closeAfter(
    new BinaryStar({
      role,
      heartbeat: HB,
      state: stateBind,
      peer,
      frontend: { endpoints: frontend, handler: (body) => [Buffer.from(`zg-${role}`), ...body] },
    }),
  );
}

pythonTest(
  "our primary with a Python backup: they settle, a Python client is served by ours, then fails over to the Python backup",
  async () => {
    const st = { p: ipcEndpoint("p-state"), b: ipcEndpoint("b-state") };
    const fe = { p: ipcEndpoint("p-fe"), b: ipcEndpoint("b-fe") };
    const primary = ours("primary", st.p, st.b, fe.p);
    const backup = spawnPython(PEERS, ["server", "backup", fe.b, st.b, st.p, String(HB)]);
    await primary.start();
    await backup.waitForLine(/^STATE passive$/, 10_000);
    await waitFor(() => primary.pairState === "active", { what: "our primary active" });

    const client = spawnPython(PEERS, ["client", `${fe.p},${fe.b}`, "400", "100", "1000000"]);
    await client.waitForLine(/^REPLY 5 zg-primary$/, 10_000);
    await primary.close();
    await backup.waitForLine(/^STATE active$/, 10_000);
    await client.waitForLine(/^FAILOVER /, 10_000);
    const [line] = await client.waitForLine(/^REPLY \d+ (?!zg-)/, 10_000);
    expect(line).toMatch(/^REPLY \d+/);
    expect(client.output).not.toMatch(/BAD/);
    console.log(`bstar interop: ours→python failover ok (${line})`);
  },
  30_000,
);

pythonTest(
  "a Python primary with our backup: ours goes passive, then takes over on a vote when the Python primary is killed",
  async () => {
    const st = { p: ipcEndpoint("p-state"), b: ipcEndpoint("b-state") };
    const fe = { p: ipcEndpoint("p-fe"), b: ipcEndpoint("b-fe") };
    const primary = spawnPython(PEERS, ["server", "primary", fe.p, st.p, st.b, String(HB)]);
    const backup = ours("backup", st.b, st.p, fe.b);
    await backup.start();
    await primary.waitForLine(/^STATE active$/, 10_000);
    await waitFor(() => backup.pairState === "passive", { what: "our backup passive" });

    const client = closeAfter(
      new BinaryStarClient({ servers: [fe.p, fe.b], timeout: 400, settle: 100 }),
    );
    await client.start();
    const first = await client.request("1");
    expect(first.map(String)).toEqual(["1"]); // the Python server echoes
    await primary.kill();
    const next = await client.request("2");
    expect(next.map(String)).toEqual(["zg-backup", "2"]);
    expect(backup.pairState).toBe("active");
    expect(backup.stats()).toMatchObject({ failovers: 1, badStates: 0, splits: 0 });
    console.log(
      `bstar interop: python→ours failover ok, client timeouts ${client.stats().timeouts}`,
    );
  },
  30_000,
);

pythonTest(
  "our BinaryStarClient against a Python pair fails over when the Python primary is killed",
  async () => {
    const st = { p: ipcEndpoint("p-state"), b: ipcEndpoint("b-state") };
    const fe = { p: ipcEndpoint("p-fe"), b: ipcEndpoint("b-fe") };
    const primary = spawnPython(PEERS, ["server", "primary", fe.p, st.p, st.b, String(HB)]);
    const backup = spawnPython(PEERS, ["server", "backup", fe.b, st.b, st.p, String(HB)]);
    await primary.waitForLine(/^STATE active$/, 10_000);
    await backup.waitForLine(/^STATE passive$/, 10_000);
    const client = closeAfter(
      new BinaryStarClient({ servers: [fe.p, fe.b], timeout: 400, settle: 100 }),
    );
    await client.start();
    for (let i = 0; i < 5; i++)
      expect((await client.request(String(i))).map(String)).toEqual([String(i)]);
    await primary.kill();
    expect((await client.request("after")).map(String)).toEqual(["after"]);
    await backup.waitForLine(/^STATE active$/, 10_000);
    expect(client.stats().timeouts).toBeGreaterThanOrEqual(1);
  },
  30_000,
);
