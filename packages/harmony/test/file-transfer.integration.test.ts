import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { Dealer } from "zeromq";
import { closeAfter, tempDir, waitFor } from "@zg/testing";
import { decodeFile, encodeFile, FileClient, FileServer } from "../src/index.js";

function fixture() {
  const dir = tempDir("harmony-ft-");
  const root = join(dir, "root");
  const out = join(dir, "out");
  mkdirSync(join(root, "sub"), { recursive: true });
  mkdirSync(out);
  writeFileSync(join(dir, "secret.txt"), "outside the root");
  symlinkSync(join(dir, "secret.txt"), join(root, "link-out"));
  symlinkSync(join(root, "sub"), join(root, "link-in"));
  return { dir, root, out };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("file transfer on real sockets", () => {
  test("several files over one connection: metadata first, pipelined chunks with credit, SHA-256 verified", async () => {
    const { root, out } = fixture();
    const files = {
      "a.bin": randomBytes(3_000_001),
      "sub/b.bin": randomBytes(10),
      empty: Buffer.alloc(0),
    };
    for (const [name, data] of Object.entries(files)) writeFileSync(join(root, name), data);
    writeFileSync(join(root, "link-in", "c.bin"), randomBytes(5000));
    const server = closeAfter(new FileServer({ root }));
    const [ep] = (await server.start()).endpoints;
    const client = closeAfter(
      new FileClient({ server: ep!, chunkSize: 65_536, credit: 4 * 65_536 }),
    );
    await client.start();
    let maxAhead = 0;
    const results = await Promise.all(
      Object.keys(files).map((name) =>
        client.fetch(name, join(out, name.replace("/", "_")), {
          onProgress: () => (maxAhead = Math.max(maxAhead, server.stats().buffered)),
        }),
      ),
    );
    for (const [i, [name, data]] of Object.entries(files).entries()) {
      expect(readFileSync(join(out, name.replace("/", "_"))).equals(data)).toBe(true);
      expect(results[i]!.sha256).toBe(sha(data));
      expect(results[i]!.size).toBe(data.length);
    }
    expect((await client.fetch("link-in/c.bin", join(out, "c.bin"))).size).toBe(5000); // a symlink inside the root is fine
    expect(maxAhead).toBeLessThanOrEqual(3 * 4 * 65_536); // never more than the credits of the fetches in flight
    expect(existsSync(join(out, "a.bin.part"))).toBe(false);
  });

  test.each([
    ["../secret.txt", "403"],
    ["sub/../../secret.txt", "403"],
    ["/etc/passwd", "403"],
    ["link-out", "403"],
    ["missing.bin", "404"],
    ["sub", "404"],
  ])("%s is refused with %s and a clear reason", async (path, status) => {
    const { root, out } = fixture();
    const server = closeAfter(new FileServer({ root }));
    const [ep] = (await server.start()).endpoints;
    const client = closeAfter(new FileClient({ server: ep! }));
    await client.start();
    await expect(client.fetch(path, join(out, "x"))).rejects.toMatchObject({
      code: "ZG_STORAGE",
      details: { status },
    });
    expect(server.stats().refused).toBe(1);
  });

  test("resume: a partial download is continued from its offset, not started again", async () => {
    const { root, out } = fixture();
    const data = randomBytes(1_000_000);
    writeFileSync(join(root, "r.bin"), data);
    const server = closeAfter(new FileServer({ root }));
    const [ep] = (await server.start()).endpoints;
    const first = closeAfter(new FileClient({ server: ep!, chunkSize: 100_000, credit: 100_000 }));
    await first.start();
    const ac = new AbortController();
    await expect(
      first.fetch("r.bin", join(out, "r.bin"), {
        signal: ac.signal,
        onProgress: ({ bytes }) => bytes >= 300_000 && ac.abort(),
      }),
    ).rejects.toMatchObject({ code: "ZG_ABORTED" });
    const second = closeAfter(new FileClient({ server: ep! }));
    await second.start();
    const r = await second.fetch("r.bin", join(out, "r.bin"));
    expect(r.resumedFrom).toBeGreaterThanOrEqual(300_000);
    expect(readFileSync(join(out, "r.bin")).equals(data)).toBe(true);
  });

  test("garbage at the server is counted and dropped, and a good fetch follows", async () => {
    const { root, out } = fixture();
    writeFileSync(join(root, "g.bin"), "good");
    const server = closeAfter(new FileServer({ root }));
    const [ep] = (await server.start()).endpoints;
    const raw = closeAfter(new Dealer({ linger: 0 }));
    raw.connect(ep!);
    await raw.send(["nonsense"]);
    await raw.send([Buffer.from("ZGFT01"), Buffer.from([0x55])]);
    await raw.send([Buffer.from("ZGFT01"), Buffer.from([0x02]), Buffer.alloc(4)]);
    await waitFor(() => server.stats().protocolErrors === 3, { what: "3 protocol errors" });
    // A FETCH beyond the per-request bound is answered, not obeyed.
    await raw.send(
      encodeFile({
        command: "FETCH",
        req: 9,
        path: "g.bin",
        offset: 0,
        length: 2 << 20,
        size: 4,
        mtime: 0,
      }),
    );
    const reply = await raw.receive();
    expect(decodeFile(reply)).toMatchObject({ command: "ERROR", status: "400" });
    const client = closeAfter(new FileClient({ server: ep! }));
    await client.start();
    expect((await client.fetch("g.bin", join(out, "g.bin"))).size).toBe(4);
  });
});
