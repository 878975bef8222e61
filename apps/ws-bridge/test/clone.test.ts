import { describe, expect, it } from "vitest";
import {
  cloneServers,
  snapshotMessages,
  subtreeAllowed,
  WS_BRIDGE_CLONE_SNAPSHOT_BYTES,
  WS_BRIDGE_CLONE_SNAPSHOT_ENTRIES,
} from "../src/clone.js";

describe("ws-bridge Clone helpers", () => {
  it("reads --clone as servers or as three endpoints per server", () => {
    expect(cloneServers(["tcp://a:5556"])).toEqual(["tcp://a:5556"]);
    expect(cloneServers(["tcp://a:5556", "tcp://b:5556"])).toHaveLength(2);
    expect(cloneServers(["tcp://a:1", "tcp://a:2", "tcp://a:3"])).toEqual([
      { snapshot: "tcp://a:1", publisher: "tcp://a:2", collector: "tcp://a:3" },
    ]);
    expect(cloneServers(["1", "2", "3", "4", "5", "6"])).toHaveLength(2);
    expect(() => cloneServers(["1", "2", "3", "4"])).toThrow(/three per server/);
  });

  it("allows a prefix only under an allowed subtree, or any with *", () => {
    expect(subtreeAllowed("/cfg/a/", ["/cfg/"])).toBe(true);
    expect(subtreeAllowed("/cf", ["/cfg/"])).toBe(false);
    expect(subtreeAllowed("", ["/cfg/"])).toBe(false);
    expect(subtreeAllowed("", ["*"])).toBe(true);
    expect(subtreeAllowed("/x", [])).toBe(false);
  });

  it("cuts a snapshot into bounded messages; the last says more: false", () => {
    const many = Array.from(
      { length: WS_BRIDGE_CLONE_SNAPSHOT_ENTRIES * 2 + 1 },
      (_, i): [string, Buffer] => [`/k/${i}`, Buffer.from("v")],
    );
    const parts = [...snapshotMessages(3, "/k/", 42n, many, false)];
    expect(parts.map((p) => [p.entries.length, p.more])).toEqual([
      [WS_BRIDGE_CLONE_SNAPSHOT_ENTRIES, true],
      [WS_BRIDGE_CLONE_SNAPSHOT_ENTRIES, true],
      [1, false],
    ]);
    expect(parts[0]).toMatchObject({
      type: "clone-snapshot",
      id: 3,
      sequence: "42",
      resync: false,
    });
    const big = Buffer.alloc(WS_BRIDGE_CLONE_SNAPSHOT_BYTES, 0x61);
    const two = [
      ...snapshotMessages(
        null,
        "",
        1n,
        [
          ["a", big],
          ["b", big],
        ],
        true,
      ),
    ];
    expect(two.map((p) => p.entries.length)).toEqual([1, 1]);
    expect([...snapshotMessages(1, "/e/", 0n, [], false)]).toEqual([
      {
        type: "clone-snapshot",
        id: 1,
        prefix: "/e/",
        sequence: "0",
        resync: false,
        entries: [],
        more: false,
      },
    ]);
  });
});
