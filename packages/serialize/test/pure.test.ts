import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { packagePath } from "./helpers.js";

test("loading @zg/serialize (codecs, envelope, negotiation) never loads zeromq", () => {
  // A fresh process, so nothing else in the test run has loaded zeromq already.
  const script = `
    import { createRequire } from "node:module";
    const m = await import("@zg/serialize");
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({ exports: Object.keys(m).length, zeromq: loaded.filter((f) => f.includes("zeromq")), protobufjs: loaded.some((f) => f.includes("protobufjs")) }));
  `;
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "--conditions=@zg/source", "--input-type=module", "-e", script],
    { cwd: packagePath(""), encoding: "utf8", timeout: 30_000 },
  );
  expect(r.stderr).toBe("");
  const out = JSON.parse(r.stdout) as { exports: number; zeromq: string[]; protobufjs: boolean };
  expect(out.exports).toBeGreaterThan(30);
  expect(out.protobufjs).toBe(true); // the probe sees CommonJS modules
  expect(out.zeromq).toEqual([]);
});
