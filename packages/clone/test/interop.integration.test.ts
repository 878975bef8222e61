// 12/CHP interop with independent pyzmq peers (test/fixtures/chp_peers.py, written from the spec
// and protocols.md §15, not the Guide's code), under Debian's python3-zmq:
//  - a raw Python client against our server: ICANHAZ? + subtree, KVSYNC, KTHXBAI, KVSET, KVPUB, HUGZ;
//  - our client against a Python server with the reference's quirks (random UUIDs on KTHXBAI and
//    HUGZ, KTHXBAI frame 4 = subtree, absolute ttl in KVSYNC): sync, set, TTL expiry, delete.
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { closeAfter, ipcEndpoint, pythonTest, spawnPython, waitFor } from "@zg/testing";
import { CloneClient, CloneServer, type CloneEndpoints } from "../src/index.js";

const PEERS = readFileSync(new URL("./fixtures/chp_peers.py", import.meta.url), "utf8");
const ends = (): CloneEndpoints => ({
  snapshot: ipcEndpoint("s"),
  publisher: ipcEndpoint("p"),
  collector: ipcEndpoint("c"),
});

pythonTest(
  "a raw pyzmq 12/CHP client against our server",
  async () => {
    const e = ends();
    const server = closeAfter(new CloneServer({ bind: e, hugzInterval: 200 }));
    await server.start();
    const seed = closeAfter(new CloneClient({ servers: e, subscribeWait: 300 }));
    await seed.start();
    await seed.waitSynced();
    await seed.set("/client/a", "1");
    await seed.set("/other/b", "2");
    const py = spawnPython(PEERS, ["client", e.snapshot, e.publisher, e.collector, "/client/"]);
    await py.waitForLine(/^DONE$/, 20_000);
    const lines = py.output.split("\n");
    expect(lines).toContain("SYNC /client/a 1");
    expect(lines.some((l) => l.startsWith("SYNC /other"))).toBe(false);
    expect(lines).toContain("KTHXBAI 2 /client/");
    expect(lines).toContain("PUB 3 /client/py hello");
    expect(lines.filter((l) => l.startsWith("DUP"))).toEqual([]);
    expect(lines.filter((l) => l.startsWith("HUGZ 3")).length).toBeGreaterThanOrEqual(3);
    // The Python client's update, with its ttl, is in the server's map.
    expect(server.get("/client/py")?.properties.get("ttl")).toBe("30");
    await waitFor(() => seed.getString("/client/py") === "hello", { what: "our client sees it" });
  },
  30_000,
);

pythonTest(
  "our client against a pyzmq server with the reference's quirks",
  async () => {
    const e = ends();
    const py = spawnPython(PEERS, ["server", e.snapshot, e.publisher, e.collector]);
    await py.waitForLine(/^READY$/);
    const a = closeAfter(new CloneClient({ servers: e, subscribeWait: 1000, subtree: "/client/" }));
    await a.start();
    await a.waitSynced({ timeout: 10_000 });
    expect(await a.set("/client/x", "1", { ttl: 1000 })).toBe(1n);
    await a.set("/client/y", "2");
    // A late joiner syncs: KVSYNC with an absolute ttl and the stored UUID, KTHXBAI with a random UUID.
    const b = closeAfter(new CloneClient({ servers: e, subscribeWait: 1000, subtree: "/client/" }));
    await b.start();
    await b.waitSynced({ timeout: 10_000 });
    expect(b.getString("/client/y")).toBe("2");
    expect(b.sequence).toBe(2n);
    // TTL expiry: the server publishes an empty value; both clients drop the key.
    await py.waitForLine(/^EXPIRED \/client\/x$/, 10_000);
    await waitFor(() => a.get("/client/x") === undefined && b.get("/client/x") === undefined, {
      what: "expiry reaches both clients",
    });
    await a.delete("/client/y");
    await waitFor(() => b.get("/client/y") === undefined, { what: "delete reaches b" });
    expect(a.stats().protocolErrors + b.stats().protocolErrors).toBe(0);
    expect(a.stats().stale + b.stats().stale).toBe(0);
  },
  30_000,
);
