import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

test("a process that starts and closes every part-1 component exits by itself with code 0", async () => {
  const script = fileURLToPath(new URL("./fixtures/part1-exit.ts", import.meta.url));
  const child = spawn(process.execPath, ["--conditions=@zg/source", "--import", "tsx", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, 15_000);
    child.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  expect(output).toContain("closed");
  expect(code, output).toBe(0);
}, 20_000);
