import { describe, expect, test } from "vitest";
import { ManualClock } from "@zg/core";
import {
  CloneClientCore,
  hugz,
  kthxbai,
  newUuid,
  type CloneClientCoreEvent,
  type CloneClientCoreOptions,
  type KvMsg,
} from "../src/index.js";

const kv = (key: string, sequence: bigint, value = "v"): KvMsg => ({
  key,
  sequence,
  uuid: newUuid(),
  properties: new Map(),
  body: Buffer.from(value),
});

function setup(options: Partial<CloneClientCoreOptions> = {}) {
  const clock = new ManualClock();
  const requests: [number, string][] = [];
  const events: CloneClientCoreEvent[] = [];
  const core = new CloneClientCore(
    { requestSnapshot: (s, t) => requests.push([s, t]), emit: (e) => events.push(e) },
    { servers: 2, clock, ...options },
  );
  const types = () => events.map((e) => e.type);
  return { clock, core, requests, events, types };
}

describe("CloneClientCore (protocols.md §15.3)", () => {
  test("waits for the subscription (a HUGZ), then asks; KTHXBAI makes it active", () => {
    const { core, requests, events } = setup({ subtree: "/a/" });
    core.start();
    expect(core.state).toBe("initial");
    expect(requests).toEqual([]);
    core.onPublished(0, hugz(0n));
    expect(requests).toEqual([[0, "/a/"]]);
    expect(core.state).toBe("syncing");
    core.onSnapshot(0, kv("/a/1", 3n, "one"));
    core.onSnapshot(0, kv("/b/1", 2n)); // outside the subtree: ignored
    core.onSnapshot(0, kthxbai(4n, "/a/", 1));
    expect(core.state).toBe("active");
    expect([...core.map.keys()]).toEqual(["/a/1"]);
    expect(events.at(-1)).toMatchObject({ type: "synced", sequence: 4n, size: 1, complete: true });
  });

  test("a HUGZ naming another run than the snapshot's: the server restarted, take a fresh snapshot", () => {
    const { core, requests, events } = setup({ subtree: "/a/" });
    core.start();
    core.onPublished(0, hugz(0n, undefined, "run1"));
    core.onSnapshot(0, kv("/a/1", 3n, "one"));
    core.onSnapshot(0, kthxbai(9n, "/a/", 1, "run1"));
    core.onPublished(0, hugz(9n, undefined, "run1")); // same run: nothing happens
    expect(core.state).toBe("active");
    expect(requests).toHaveLength(1);
    // Restarted without its state: sequence back to 0, another run.
    core.onPublished(0, kv("/a/1", 1n, "lost")); // not above 9: dropped, as CHP says
    core.onPublished(0, hugz(1n, undefined, "run2"));
    expect(events.at(-1)).toMatchObject({ type: "stale", reason: "restart", got: 1n });
    expect(requests).toHaveLength(2);
    core.onSnapshot(0, kv("/a/1", 1n, "lost"));
    core.onSnapshot(0, kthxbai(1n, "/a/", 1, "run2"));
    expect(core.state).toBe("active");
    expect(core.sequence).toBe(1n);
    expect(core.map.get("/a/1")?.body.toString()).toBe("lost");
    // A server without run= (the Guide's): never judged restarted.
    const old = setup({ subscribeWait: 0 });
    old.core.start();
    old.core.onSnapshot(0, kthxbai(5n, ""));
    old.core.onPublished(0, hugz(1n, undefined, "x"));
    expect(old.events.some((e) => e.type === "stale")).toBe(false);
  });

  test("a snapshot with fewer entries than its count= is asked again", () => {
    const { core, requests, events } = setup({ subscribeWait: 0 });
    core.start();
    core.onSnapshot(0, kv("/a", 1n));
    core.onSnapshot(0, kthxbai(2n, "", 2));
    expect(events.at(-1)).toMatchObject({ type: "incomplete", expected: 2, got: 1 });
    expect(core.state).toBe("syncing");
    expect(requests).toHaveLength(2);
  });

  test("snapshot + buffered updates newer than the snapshot; older ones dropped", () => {
    const { core, events } = setup({ subscribeWait: 0 });
    core.start();
    core.onPublished(0, kv("/x", 5n, "old")); // before the snapshot's sequence
    core.onPublished(0, kv("/y", 7n, "new"));
    core.onSnapshot(0, kv("/x", 5n, "old"));
    core.onSnapshot(0, kv("/z", 6n, "zz"));
    core.onSnapshot(0, kthxbai(6n, "", 2));
    expect(core.state).toBe("active");
    expect(core.sequence).toBe(7n);
    expect([...core.map.keys()].sort()).toEqual(["/x", "/y", "/z"]);
    expect(events.map((e) => e.type)).toEqual(["synced", "update"]);
    // Not above the last: dropped. HUGZ: dropped by the same rule.
    core.onPublished(0, kv("/x", 7n, "dup"));
    core.onPublished(0, hugz(7n));
    expect(core.map.get("/x")?.body.toString()).toBe("old");
    // An empty body deletes.
    core.onPublished(0, { ...kv("/x", 8n), body: Buffer.alloc(0) });
    expect(core.map.has("/x")).toBe(false);
  });

  test("silence in ACTIVE fails over to the next server and re-syncs there", () => {
    const { clock, core, requests, types } = setup({ subscribeWait: 0, serverTtl: 5000 });
    core.start();
    core.onSnapshot(0, kthxbai(1n, "", 0));
    clock.advance(4999);
    expect(core.server).toBe(0);
    core.onPublished(0, hugz(1n)); // any message refreshes
    clock.advance(4999);
    expect(core.server).toBe(0);
    clock.advance(1);
    expect(core.server).toBe(1);
    expect(requests).toEqual([
      [0, ""],
      [1, ""],
    ]);
    expect(types()).toEqual(["synced", "failover"]);
  });

  test("anti-storm: at most two unanswered requests per server", () => {
    const { clock, core, requests } = setup({ subscribeWait: 0, serverTtl: 1000 });
    core.start();
    for (let i = 0; i < 6; i++) clock.advance(1000);
    // 0,1,0,1 then held back until a server answers.
    expect(requests.map(([s]) => s)).toEqual([0, 1, 0, 1]);
    core.onSnapshot(core.server, kv("/a", 1n));
    core.onSnapshot(core.server, kthxbai(1n, "", 1));
    expect(core.state).toBe("active");
  });

  test("anti-storm never locks out a server that comes back: its stream resets the count", () => {
    const { clock, core, requests } = setup({ servers: 1, subscribeWait: 100, serverTtl: 1000 });
    core.start();
    for (let i = 0; i < 5; i++) clock.advance(1100); // server down: two requests, then held back
    expect(requests).toHaveLength(2);
    core.onPublished(0, hugz(0n)); // it is back
    clock.advance(1100);
    expect(requests.length).toBeGreaterThan(2);
  });

  test("a gap (whole-map client) re-syncs by default, reported under 'report'", () => {
    const a = setup({ subscribeWait: 0 });
    a.core.start();
    a.core.onSnapshot(0, kthxbai(10n, "", 0));
    a.core.onPublished(0, kv("/a", 11n));
    a.core.onPublished(0, kv("/a", 13n));
    expect(a.events.find((e) => e.type === "stale")).toMatchObject({ expected: 12n, got: 13n });
    expect(a.core.state).toBe("syncing"); // asked the same server again
    expect(a.core.map.get("/a")?.sequence).toBe(11n);

    const b = setup({ subscribeWait: 0, slowPolicy: "report" });
    b.core.start();
    b.core.onSnapshot(0, kthxbai(10n, "", 0));
    b.core.onPublished(0, hugz(12n)); // the HUGZ shows that 11 and 12 went missing
    expect(b.types()).toEqual(["synced", "stale"]);
    expect(b.core.state).toBe("active");
  });

  test("maxLag: a HUGZ older than the bound on arrival means behind, for a subtree client too", () => {
    let wall = 1_000_000;
    const { core, events } = setup({
      subscribeWait: 0,
      subtree: "/a/",
      maxLag: 1000,
      slowPolicy: "report",
      wallClock: () => wall,
    });
    core.start();
    core.onSnapshot(0, kthxbai(10n, "/a/", 0));
    core.onPublished(0, hugz(10n, wall - 200)); // 200 ms late: fine
    expect(events.map((e) => e.type)).toEqual(["synced"]);
    wall += 5000;
    core.onPublished(0, hugz(11n, wall - 1500)); // 1.5 s late: fallen behind
    expect(events.at(-1)).toMatchObject({ type: "stale", reason: "lag", lag: 1500 });
    core.onPublished(0, hugz(12n)); // a HUGZ without ts (the Guide's) is never judged
    expect(events.filter((e) => e.type === "stale")).toHaveLength(1);
  });

  test("a subtree client cannot see gaps, so it never reports one", () => {
    const { core, types } = setup({ subscribeWait: 0, subtree: "/a/" });
    core.start();
    core.onSnapshot(0, kthxbai(10n, "/a/", 0));
    core.onPublished(0, kv("/a/1", 15n));
    expect(types()).toEqual(["synced", "update"]);
  });

  test("a re-sync reports the differences against the map held before", () => {
    const { core, events } = setup({ subscribeWait: 0, slowPolicy: "resync" });
    core.start();
    core.onSnapshot(0, kv("/keep", 1n, "k"));
    core.onSnapshot(0, kv("/gone", 2n, "g"));
    core.onSnapshot(0, kv("/changed", 3n, "c1"));
    core.onSnapshot(0, kthxbai(3n, "", 3));
    core.onPublished(0, kv("/x", 9n)); // gap → re-sync
    core.onSnapshot(0, kv("/keep", 1n, "k"));
    core.onSnapshot(0, kv("/changed", 8n, "c2"));
    core.onSnapshot(0, kthxbai(9n, "", 2));
    const changes = events
      .filter((e) => e.type === "update")
      .map((e) => (e.type === "update" ? [e.key, e.message.body.toString(), e.resync] : []));
    expect(changes).toEqual([
      ["/changed", "c2", true],
      ["/gone", "", true],
    ]);
  });

  test("messages from the server not followed are ignored", () => {
    const { core } = setup({ subscribeWait: 0 });
    core.start();
    core.onSnapshot(1, kthxbai(5n, "", 0));
    expect(core.state).toBe("syncing");
    core.onSnapshot(0, kthxbai(5n, "", 0));
    core.onPublished(1, kv("/a", 6n));
    expect(core.map.size).toBe(0);
  });

  test("subscription wait is bounded (a server without HUGZ, e.g. clonesrv5.py)", () => {
    const { clock, core, requests } = setup({ subscribeWait: 1500 });
    core.start();
    clock.advance(1499);
    expect(requests).toEqual([]);
    clock.advance(1);
    expect(requests).toEqual([[0, ""]]);
  });

  test("updates buffered past maxBuffered restart the sync", () => {
    const { core, requests } = setup({ subscribeWait: 0, maxBuffered: 2 });
    core.start();
    for (let i = 1n; i <= 3n; i++) core.onPublished(0, kv("/a", i));
    core.onSnapshot(0, kthxbai(0n, "", 0));
    expect(core.state).toBe("syncing");
    expect(requests).toHaveLength(2);
  });
});
