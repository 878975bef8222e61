// Titanic as a hostile operator would run it: two instances on one directory, a full disk,
// flipped bits in the log, oversized bodies, requests for mmi.*. Every case runs Titanic as a
// real child process and judges by what its clients were acknowledged.
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { closeAfter, spawnChild, tcpEndpoint, tempDir, waitFor } from "@zg/testing";
import { MajordomoBroker, MajordomoWorker, TitanicClient } from "../src/index.js";
import { decodeRecord, RECORD_HEADER } from "../src/titanic/log.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/titanic.ts", import.meta.url));
const HB = { heartbeatInterval: 100, heartbeatLiveness: 3 };

async function brokerOnly(): Promise<string> {
  const broker = closeAfter(new MajordomoBroker({ endpoints: tcpEndpoint(), ...HB }));
  return (await broker.start()).endpoints[0] as string;
}

async function echoWorker(ep: string): Promise<void> {
  await closeAfter(
    new MajordomoWorker({
      broker: ep,
      service: "echo",
      handler: (r) => r,
      ...HB,
      reconnectDelay: 100,
    }),
  ).start();
}

async function client(ep: string): Promise<TitanicClient> {
  const c = closeAfter(new TitanicClient({ broker: ep, timeout: 3000, attempts: 3 }));
  await c.start();
  return c;
}

/** How many of `acked` (uuid → body) are unknown (400) or come back with another request's body. */
async function countLost(
  c: TitanicClient,
  acked: Map<string, string>,
  { settle }: { settle: boolean },
): Promise<{ lost: string[]; pending: number }> {
  const lost: string[] = [];
  let pending = 0;
  const open = new Set(acked.keys());
  const check = async (): Promise<boolean> => {
    for (const id of [...open]) {
      const r = await c.reply(id);
      if (r.status === "400") {
        lost.push(id);
        open.delete(id);
      } else if (r.status === "200") {
        expect(r.body.map(String), `reply of ${id}`).toEqual([acked.get(id)]);
        open.delete(id);
      }
    }
    return open.size === 0;
  };
  if (settle) await waitFor(check, { timeout: 30_000, interval: 100, what: "every reply" });
  else {
    await check();
    pending = open.size;
  }
  return { lost, pending };
}

/** Record boundaries of a log: [offset, end, uuid, kind][]. */
function layout(log: Buffer): [number, number, string, number][] {
  const out: [number, number, string, number][] = [];
  for (let o = 0; o + RECORD_HEADER <= log.length;) {
    const size = RECORD_HEADER + log.readUInt32BE(o);
    const rec = decodeRecord(log.subarray(o, o + size));
    if (rec === undefined) throw new Error(`precondition: the log is not valid at ${o}`);
    out.push([o, o + size, rec.key, rec.kind]);
    o += size;
  }
  return out;
}

describe("Titanic hardening (real processes)", () => {
  test("a second instance on the same directory refuses to start, naming the directory and the holder's pid; nothing acknowledged is lost", async () => {
    const ep = await brokerOnly();
    const dir = tempDir();
    const first = await spawnChild(FIXTURE, { args: [ep, dir, "always"], bundle: true });
    const holder = first.pid;
    const c = await client(ep);
    // A large, mostly dead log: what made today's second instance compact (rewrite) it at start.
    const big = "x".repeat(8192);
    for (let i = 0; i < 20; i++) await c.closeRequest(await c.submit("nobody", [big]));
    const acked = new Map<string, string>();
    for (let i = 0; i < 50; i++) acked.set(await c.submit("echo", [`before ${i}`]), `before ${i}`);
    let refused: Error | undefined;
    try {
      await spawnChild(FIXTURE, { args: [ep, dir, "always"], bundle: true });
    } catch (error) {
      refused = error as Error;
    }
    // The first instance keeps acknowledging after the second tried.
    for (let i = 0; i < 50; i++) acked.set(await c.submit("echo", [`after ${i}`]), `after ${i}`);
    await first.kill("SIGKILL");
    await first.start();
    await echoWorker(ep);
    const { lost } = await countLost(c, acked, { settle: true });
    console.log(
      `titanic two writers: second instance ${refused === undefined ? "STARTED" : "refused"}; ${acked.size} acknowledged, ${lost.length} lost`,
    );
    expect(refused?.message).toMatch(
      new RegExp(`data directory ${dir} is locked by pid ${holder}\\b`),
    );
    expect(lost).toEqual([]);
  }, 60_000);

  test("a body over maxBody is refused with 400 and a reason", async () => {
    const ep = await brokerOnly();
    await spawnChild(FIXTURE, { args: [ep, tempDir(), "always", "1000"], bundle: true });
    await echoWorker(ep);
    const c = await client(ep);
    const err = await c.submit("echo", ["y".repeat(1001)]).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/400.*1001 bytes exceeds the limit of 1000 bytes/);
    expect((await c.submit("echo", ["y".repeat(1000)])).length).toBe(32);
  }, 30_000);

  test("a request for mmi.service is answered (the broker answers MMI itself), not left pending", async () => {
    const ep = await brokerOnly();
    await spawnChild(FIXTURE, { args: [ep, tempDir(), "always"], bundle: true });
    await echoWorker(ep);
    const c = await client(ep);
    const id = await c.submit("mmi.service", ["echo"]);
    await waitFor(async () => (await c.reply(id)).status === "200", {
      timeout: 10_000,
      interval: 50,
      what: "the mmi.service reply (a Titanic that asks mmi.service about mmi.service never dispatches it)",
    });
    expect((await c.reply(id)).body.map(String)).toEqual(["200"]);
  }, 30_000);

  test("one flipped bit in the first record: only that request is lost, the error is logged and counted, the bytes quarantined", async () => {
    const ep = await brokerOnly();
    const dir = tempDir();
    const child = await spawnChild(FIXTURE, { args: [ep, dir, "always"], bundle: true });
    const c = await client(ep);
    const acked = new Map<string, string>();
    for (let i = 0; i < 100; i++) acked.set(await c.submit("echo", [`req ${i}`]), `req ${i}`);
    await child.kill("SIGKILL");
    const path = join(dir, "titanic.log");
    const log = readFileSync(path);
    const recs = layout(log);
    const first = recs[0] as [number, number, string, number];
    log[first[0] + 30] = (log[first[0] + 30] as number) ^ 0x10;
    writeFileSync(path, log);
    await child.start();
    await echoWorker(ep);
    const { lost } = await countLost(c, acked, { settle: true });
    const stats = await child.call<{ store: { damagedRanges: number } }>("stats");
    console.log(
      `titanic 1 bit flipped in record 1: ${acked.size} acknowledged, ${lost.length} lost (the damaged one), ${stats.store.damagedRanges} damaged range`,
    );
    expect(lost).toEqual([first[2]]);
    expect(stats.store.damagedRanges).toBe(1);
    expect(child.output).toMatch(/"level":"error".*skipped damaged records.*"ranges":1/);
    const q = readdirSync(dir).filter((f) => f.startsWith("quarantine-"));
    expect(q.length).toBe(1);
    expect(readFileSync(join(dir, q[0] as string)).length).toBeGreaterThan(0);
  }, 60_000);

  test("4 corrupt bytes mid-file: only the records they touch are lost, every other acknowledged request survives", async () => {
    const ep = await brokerOnly();
    const dir = tempDir();
    const child = await spawnChild(FIXTURE, { args: [ep, dir, "always"], bundle: true });
    const c = await client(ep);
    const acked = new Map<string, string>();
    for (let i = 0; i < 100; i++) acked.set(await c.submit("echo", [`req ${i}`]), `req ${i}`);
    await child.kill("SIGKILL");
    const path = join(dir, "titanic.log");
    const log = readFileSync(path);
    const at = Math.floor(log.length / 2);
    for (let i = 0; i < 4; i++) log[at + i] = (log[at + i] as number) ^ 0xa5;
    const touched = layout(readFileSync(path))
      .filter(([from, to]) => from < at + 4 && to > at)
      .map(([, , key]) => key);
    writeFileSync(path, log);
    await child.start();
    await echoWorker(ep);
    const { lost } = await countLost(c, acked, { settle: true });
    console.log(
      `titanic 4 bytes corrupt mid-file: ${acked.size} acknowledged, ${lost.length} lost (${touched.length} records touched)`,
    );
    expect(lost.sort()).toEqual(touched.sort());
    expect(lost.length).toBeLessThanOrEqual(2);
  }, 60_000);
});

/** Can this process mount a tmpfs? (root in a container that allows it.) */
function canMount(): string | undefined {
  const probe = tempDir();
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error).trim();
  }
}
const noMount = canMount();
const fullDiskTest =
  noMount !== undefined && !process.env["CI"]
    ? (name: string, fn: () => Promise<void>, t: number) =>
        test.skip(`${name} [skipped: cannot mount a tmpfs here (${noMount}); run as root]`, fn, t)
    : test;

describe("Titanic on a full disk (real 1 MiB tmpfs)", () => {
  fullDiskTest(
    "requests fail with 500 while the disk is full, succeed again as soon as space returns (no restart), and none acknowledged is lost after kill -9",
    async () => {
      if (noMount !== undefined) throw new Error(`precondition: cannot mount a tmpfs: ${noMount}`);
      const mnt = join(tempDir(), "mnt");
      mkdirSync(mnt);
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]);
      try {
        const ep = await brokerOnly();
        const dir = join(mnt, "titanic");
        mkdirSync(dir);
        writeFileSync(join(mnt, "filler"), Buffer.alloc(256 * 1024)); // freed later: "space returns"
        const child = await spawnChild(FIXTURE, { args: [ep, dir, "always"], bundle: true });
        await echoWorker(ep);
        const c = await client(ep);
        const acked = new Map<string, string>();
        let refused = 0;
        let seq = 0;
        const body = (): string => `${seq++} `.padEnd(9000, "z");
        // Fill the disk: until 20 requests in a row were refused.
        for (let run = 0; run < 20 && seq < 500;) {
          const b = body();
          try {
            acked.set(await c.submit("echo", [b]), b);
            run = 0;
          } catch {
            refused++;
            run++;
          }
        }
        expect(refused, "precondition: the disk filled up").toBeGreaterThan(0);
        // Space returns: the very next requests must succeed, without a restart.
        rmSync(join(mnt, "filler"));
        let afterSpace = 0;
        for (let i = 0; i < 10; i++) {
          const b = body();
          try {
            acked.set(await c.submit("echo", [b]), b);
            afterSpace++;
          } catch {
            // counted below
          }
        }
        await child.kill("SIGKILL");
        await child.start();
        const { lost, pending } = await countLost(c, acked, { settle: false });
        console.log(
          `titanic full 1 MiB disk: ${acked.size} acknowledged, ${refused} refused while full, ${afterSpace}/10 accepted after space returned, ${lost.length} lost after kill -9 (${pending} still pending)`,
        );
        expect(afterSpace).toBe(10);
        expect(lost).toEqual([]);
      } finally {
        execFileSync("umount", ["-l", mnt]);
      }
    },
    120_000,
  );
});
