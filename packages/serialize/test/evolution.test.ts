import { describe, expect, test } from "vitest";
import { loadProtoRootSync, protobufCodec } from "../src/index.js";
import { packagePath } from "./helpers.js";

// evo.Task v1 and v2 (test/fixtures/evolution/): v2 removes field 4 (tags),
// adds note (6), owner (7, nested) and children (8), renames enum value 1
// RED -> CRIMSON and adds BLUE = 3.
interface TaskV1 {
  id: bigint;
  name: string;
  color: number;
  tags: string[];
  offset: bigint;
}
interface TaskV2 {
  id: bigint;
  name: string;
  color: number;
  offset: bigint;
  note: string;
  owner: { name: string; since: bigint } | null;
  children: bigint[];
}

const v1Root = loadProtoRootSync(packagePath("test/fixtures/evolution/v1.proto"));
const v2Root = loadProtoRootSync(packagePath("test/fixtures/evolution/v2.proto"));
const v1 = protobufCodec<TaskV1>(v1Root.lookupType("evo.Task"));
const v2 = protobufCodec<TaskV2>(v2Root.lookupType("evo.Task"));
const RED = v1Root.lookupEnum("evo.Color").values["RED"];
const CRIMSON = v2Root.lookupEnum("evo.Color").values["CRIMSON"];
const BLUE = v2Root.lookupEnum("evo.Color").values["BLUE"]!;

const oldTask: TaskV1 = {
  id: 2n ** 64n - 2n,
  name: "build",
  color: RED!,
  tags: ["a", "b"],
  offset: -5n,
};
const newTask: TaskV2 = {
  id: 7n,
  name: "deploy",
  color: BLUE,
  offset: 2n ** 62n,
  note: "after build",
  owner: { name: "ops", since: 2n ** 60n },
  children: [1n, 2n ** 64n - 1n],
};

describe("schema evolution (protobuf, reflection)", () => {
  test("new reader, old writer: removed field skipped, added fields take their defaults, renamed enum keeps its number", () => {
    const read = v2.decode(v1.encode(oldTask));
    expect(read).toEqual({
      id: oldTask.id,
      name: "build",
      color: CRIMSON,
      offset: -5n,
      note: "",
      owner: null,
      children: [],
    });
    expect(RED).toBe(CRIMSON);
    expect(read).not.toHaveProperty("tags");
  });

  test("old reader, new writer: unknown fields are skipped, an unknown enum value arrives as its number", () => {
    const read = v1.decode(v2.encode(newTask));
    expect(read).toEqual({ id: 7n, name: "deploy", color: 3, tags: [], offset: 2n ** 62n });
    expect(v1Root.lookupEnum("evo.Color").valuesById[read.color]).toBeUndefined();
  });

  test("unknown fields are lost when an old relay decodes and re-encodes (default)", () => {
    const relayed = v1.encode(v1.decode(v2.encode(newTask)));
    expect(v2.decode(relayed)).toEqual({ ...newTask, note: "", owner: null, children: [] });
  });

  test("preserveUnknown carries a newer peer's fields through an old relay", () => {
    const relay = protobufCodec<TaskV1>(v1Root.lookupType("evo.Task"), { preserveUnknown: true });
    const seen = relay.decode(v2.encode(newTask));
    expect(Object.keys(seen)).not.toContain("$unknowns"); // non-enumerable: equality and JSON are unaffected
    expect((seen as { $unknowns?: unknown[] }).$unknowns).toHaveLength(3); // note, owner, children (packed: one record)
    const changed = { ...seen, name: "deploy-2" };
    // A spread copies only enumerable properties: the relay must keep the original object (or copy $unknowns).
    Object.defineProperty(changed, "$unknowns", {
      value: (seen as { $unknowns?: unknown[] }).$unknowns,
      enumerable: false,
    });
    expect(v2.decode(relay.encode(changed))).toEqual({ ...newTask, name: "deploy-2" });
  });

  test("forwarding the raw frames (no decode) preserves everything", () => {
    const frames = v2.encode(newTask);
    const forwarded = frames.map((f) => Buffer.from(f));
    expect(v2.decode(forwarded)).toEqual(newTask);
  });

  test("old and new peers agree on shared fields in both directions over many values", () => {
    for (let i = 0; i < 50; i++) {
      const t: TaskV1 = {
        id: BigInt(i) * 2n ** 40n,
        name: `t${i}`,
        color: i % 3,
        tags: [String(i)],
        offset: BigInt(-i),
      };
      const up = v2.decode(v1.encode(t));
      expect([up.id, up.name, up.color, up.offset]).toEqual([t.id, t.name, t.color, t.offset]);
      const down = v1.decode(v2.encode(up));
      expect([down.id, down.name, down.color, down.offset]).toEqual([
        t.id,
        t.name,
        t.color,
        t.offset,
      ]);
    }
  });
});
