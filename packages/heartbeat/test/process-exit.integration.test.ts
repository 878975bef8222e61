import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

test("a process that starts and closes every component exits on its own, with code 0", async () => {
  const script = fileURLToPath(new URL("./fixtures/exit.ts", import.meta.url));
  const child = spawn(process.execPath, ["--conditions=@zg/source", "--import", "tsx", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const started = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(-1);
    }, 15_000);
    child.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  expect(out).toContain("closed");
  expect(code, out).toBe(0);
  expect(performance.now() - started).toBeLessThan(15_000);
});
