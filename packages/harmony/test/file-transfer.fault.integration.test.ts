import { createHash, randomBytes } from "node:crypto";
import { createReadStream, mkdirSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { Dealer } from "zeromq";
import { closeAfter, delay, FaultPlan, spawnChild, tempDir, waitFor } from "@zg/testing";
import {
  DEFAULT_FILE_CHUNK,
  DEFAULT_SERVER_CLIENT_BUFFER,
  DEFAULT_SERVER_SEND_HWM,
  decodeFile,
  encodeFile,
  FileClient,
} from "../src/index.js";

const serverModule = new URL("./fixtures/file-server-child.ts", import.meta.url);
const GiB = 1 << 30;

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on("data", (d) => h.update(d))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}

/** A file of `size` bytes: 1 MiB random blocks, each stamped with its index (no two blocks equal). */
function writeBigFile(path: string, size: number): void {
  const block = randomBytes(1 << 20);
  const fd = openSync(path, "w");
  for (let i = 0; i * block.length < size; i++) {
    block.writeUInt32BE(i, 0);
    writeSync(fd, block, 0, Math.min(block.length, size - i * block.length));
  }
  closeSync(fd);
}

describe("file transfer under server faults", () => {
  test("1 GiB with the server killed -9 and restarted twice: resumes, SHA-256 matches", async () => {
    const dir = tempDir("harmony-ft-fault-");
    const root = join(dir, "root");
    mkdirSync(root);
    writeBigFile(join(root, "big.bin"), GiB);
    const expected = await sha256File(join(root, "big.bin"));
    const server = await spawnChild(serverModule, { args: [root], bundle: true });
    const ep = server.endpoints.server as string;
    const client = closeAfter(new FileClient({ server: ep, timeout: 1000, attempts: 60 }));
    await client.start();
    const plan = new FaultPlan({
      name: "file server restarts",
      faultNoun: "restart",
      minRequests: 0,
      minFaults: 2,
      maxDuration: 120_000,
    });
    const resumes: number[] = [];
    client.on("fetch:resume", (e) => resumes.push(e.offset));
    let bytes = 0;
    let killing = false;
    const fetch = client.fetch("big.bin", join(dir, "big.copy"), {
      onProgress: (p) => {
        bytes = p.bytes;
        // A restart at one third and at two thirds of the file, however fast it goes.
        if (!killing && plan.faults < 2 && bytes >= ((plan.faults + 1) * GiB) / 3) {
          killing = true;
          void (async () => {
            await server.kill("SIGKILL");
            plan.fault();
            await server.restart([ep]);
            killing = false;
          })();
        }
      },
    });
    const result = await fetch;
    await waitFor(() => !killing, { what: "the last restart to finish" });
    console.log(
      plan.summary(
        `1 GiB fetched, ${result.reconnects} reconnect rounds, resumed at ${resumes.map((o) => Math.round(o / (1 << 20))).join(", ")} MiB`,
      ),
    );
    plan.check();
    expect(result.sha256).toBe(expected);
    expect(await sha256File(join(dir, "big.copy"))).toBe(expected);
    expect(resumes.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...resumes)).toBeGreaterThan(GiB / 3); // resumed, not restarted from 0
    await server.kill("SIGKILL");
  }, 180_000);

  test("a client that asks for 40 MB and stops reading: the server buffers within its bounds (RSS measured)", async () => {
    const dir = tempDir("harmony-ft-rss-");
    writeBigFile(join(dir, "f.bin"), 64 << 20);
    const server = await spawnChild(serverModule, { args: [dir], bundle: true });
    const ep = server.endpoints.server as string;
    const raw = closeAfter(new Dealer({ linger: 0, receiveHighWaterMark: 1 }));
    raw.connect(ep);
    await raw.send(encodeFile({ command: "OPEN", req: 1, path: "f.bin" }));
    const meta = decodeFile(await raw.receive());
    if (meta.command !== "META") throw new Error("precondition: META for f.bin");
    await delay(200);
    const before = await server.call<number>("rss");
    const asked = 160;
    for (let i = 0; i < asked; i++)
      await raw.send(
        encodeFile({
          command: "FETCH",
          req: 2,
          path: "f.bin",
          offset: i * DEFAULT_FILE_CHUNK,
          length: DEFAULT_FILE_CHUNK,
          size: meta.size,
          mtime: meta.mtime,
        }),
      );
    await waitFor(
      async () =>
        (await server.call<{ refused: number; chunks: number }>("stats")).refused +
          (await server.call<{ chunks: number }>("stats")).chunks >=
        asked,
      {
        timeout: 20_000,
        what: "every request answered or refused",
      },
    );
    await delay(300);
    const after = await server.call<number>("rss");
    const stats = await server.call<{ refused: number; buffered: number }>("stats");
    const bound = DEFAULT_SERVER_CLIENT_BUFFER + DEFAULT_SERVER_SEND_HWM * DEFAULT_FILE_CHUNK;
    console.log(
      `non-reading client: 0 faults, asked ${(asked * DEFAULT_FILE_CHUNK) / 1e6} MB, refused ${stats.refused} requests (429), server RSS +${((after - before) / 1e6).toFixed(1)} MB (bound ${(bound / 1e6).toFixed(1)} MB)`,
    );
    expect(stats.refused).toBeGreaterThan(0);
    expect(stats.buffered).toBeLessThanOrEqual(DEFAULT_SERVER_CLIENT_BUFFER);
    expect(after - before).toBeLessThan(bound + 16e6);
    await server.kill("SIGKILL");
  }, 60_000);
});
