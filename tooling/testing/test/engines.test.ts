/**
 * One Node floor, stated once per manifest and per README, and met by the
 * Node running the tests (CI): `engines.node` of every workspace package is
 * `>=20.19` (Titanic's store uses `crc32` from `node:zlib`, 20.15+;
 * CommonJS `require()` of these ESM packages needs 20.19), and every
 * published package's README says "Node ≥ 20.19".
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { repoRoot } from "../src/bench.js";

const FLOOR = "20.19";
const root = repoRoot(import.meta.dirname);
const manifests = ["packages", "tooling", "apps"].flatMap((group) =>
  readdirSync(join(root, group))
    .map((d) => join(group, d, "package.json"))
    .filter((f) => existsSync(join(root, f))),
);

describe("engines.node agrees with the code, the READMEs and the Node under test", () => {
  test.each(["package.json", ...manifests])("%s: engines.node is >=20.19", (file) => {
    const m = JSON.parse(readFileSync(join(root, file), "utf8")) as {
      engines?: { node?: string };
    };
    expect(m.engines?.node).toBe(`>=${FLOOR}`);
  });

  test("published packages' READMEs state the same floor", () => {
    for (const d of readdirSync(join(root, "packages"))) {
      const readme = join(root, "packages", d, "README.md");
      if (!existsSync(readme)) continue;
      expect(readFileSync(readme, "utf8"), `packages/${d}/README.md`).toContain(`Node ≥ ${FLOOR}`);
    }
  });

  test("the Node running the tests meets the floor", () => {
    const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
    const [fMajor = 0, fMinor = 0] = FLOOR.split(".").map(Number);
    expect(major > fMajor || (major === fMajor && minor >= fMinor), process.versions.node).toBe(
      true,
    );
  });
});
