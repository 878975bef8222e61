import {
  appendFileSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { spawn, spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { describe, expect, test } from "vitest";
import { tempDir } from "@zg/testing";
import { TitanicStore, type TitanicFsyncPolicy } from "../src/index.js";

const uuid = (): string => randomUUID().replace(/-/g, "");
const b = (s: string): Buffer => Buffer.from(s);

describe("TitanicStore", () => {
  test("request, reply, close survive a reopen; either UUID case is accepted", async () => {
    const dir = tempDir();
    const s1 = await TitanicStore.open(dir);
    const a = uuid();
    const c = uuid();
    await s1.putRequest(a, "echo", [b("one"), b("")]);
    await s1.putRequest(c, "echo", [b("two")]);
    expect(await s1.putReply(a.toUpperCase(), [b("ONE")])).toBe(true);
    expect(await s1.putReply(a, [b("again")])).toBe(false); // idempotent: first reply wins
    await s1.close();
    const s2 = await TitanicStore.open(dir);
    expect(await s2.get(a.toUpperCase())).toEqual({
      service: "echo",
      request: [b("one"), b("")],
      reply: [b("ONE")],
    });
    expect(s2.pending()).toEqual([c]);
    await s2.remove(a);
    await s2.remove(a); // idempotent
    await s2.remove(uuid()); // unknown: nothing written
    await s2.close();
    const s3 = await TitanicStore.open(dir);
    expect(await s3.get(a)).toBeUndefined();
    expect(s3.stats()).toMatchObject({ entries: 1, pending: 1 });
    await s3.close();
  });

  test("a torn or corrupt tail is cut off at open and writing continues", async () => {
    const dir = tempDir();
    const s1 = await TitanicStore.open(dir);
    const ids = [uuid(), uuid(), uuid()];
    for (const id of ids) await s1.putRequest(id, "svc", [b(id)]);
    await s1.close();
    const log = join(dir, "titanic.log");
    const full = statSync(log).size;
    truncateSync(log, full - 5); // crash in the middle of the last record
    const s2 = await TitanicStore.open(dir);
    expect(s2.pending()).toEqual(ids.slice(0, 2));
    expect(s2.stats().discardedBytes).toBeGreaterThan(0);
    const d = uuid();
    await s2.putRequest(d, "svc", [b("d")]);
    await s2.close();
    appendFileSync(log, Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 9, 9, 9])); // garbage tail
    const data = readFileSync(log);
    data[data.length - 20] = (data[data.length - 20] as number) ^ 0xff; // and a flipped bit inside the last good record
    writeFileSync(log, data);
    const s3 = await TitanicStore.open(dir);
    expect(s3.pending()).toEqual(ids.slice(0, 2)); // the corrupt record and everything after it are dropped
    await s3.close();
  });

  test("mid-file damage: skipped, quarantined, logged once, and gone from the log after the rewrite", async () => {
    const dir = tempDir();
    const s1 = await TitanicStore.open(dir);
    const ids = Array.from({ length: 10 }, uuid);
    for (const id of ids) await s1.putRequest(id, "svc", [b(`body ${id}`)]);
    await s1.close();
    const log = join(dir, "titanic.log");
    const data = readFileSync(log);
    const per = data.length / 10;
    data[Math.floor(per * 4.5)] = (data[Math.floor(per * 4.5)] as number) ^ 0x01; // inside record 4
    writeFileSync(log, data);
    const errors: unknown[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (m: string, f?: unknown) => errors.push([m, f]),
    };
    const s2 = await TitanicStore.open(dir, { logger });
    await s2.compact(); // waits for the rewrite that open started
    expect(s2.pending()).toEqual(ids.filter((_, i) => i !== 4));
    expect(s2.stats()).toMatchObject({ damagedRanges: 1, damagedBytes: per });
    expect(s2.stats().compactions).toBeGreaterThanOrEqual(1);
    expect(errors).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.startsWith("quarantine-"))).toHaveLength(1);
    await s2.close();
    const s3 = await TitanicStore.open(dir);
    expect(s3.stats()).toMatchObject({ damagedRanges: 0, discardedBytes: 0, entries: 9 });
    expect((await s3.get(ids[9] as string))?.request).toEqual([b(`body ${ids[9]}`)]);
    await s3.close();
  });

  test("compaction keeps live entries only", async () => {
    const dir = tempDir();
    const s1 = await TitanicStore.open(dir, { fsync: "never", compactMinBytes: 1 << 30 });
    const keep = uuid();
    await s1.putRequest(keep, "svc", [b("keep")]);
    const big = Buffer.alloc(4096, 1);
    for (let i = 0; i < 40; i++) {
      const id = uuid();
      await s1.putRequest(id, "svc", [big]);
      await s1.putReply(id, [big]);
      await s1.remove(id);
    }
    const before = s1.stats().bytes;
    await s1.close();
    const s2 = await TitanicStore.open(dir, { compactMinBytes: 64 * 1024 });
    await s2.compact();
    expect(s2.stats().bytes).toBeLessThan(before / 10);
    expect(s2.stats().compactions).toBe(1);
    expect(s2.pending()).toEqual([keep]);
    expect((await s2.get(keep))?.request).toEqual([b("keep")]);
    await s2.close();
  });

  // B7 at the store level: a crash is simulated by closing the store right
  // after the acknowledgement (nothing is left to flush then, so what the next
  // open reads is what write() handed to the OS, as after kill -9; close() only
  // releases the directory lock, which a killed process leaves stale). Every
  // acknowledged request must be there. Real kill -9: titanic.fault.integration.test.ts.
  test.each(["always", "interval", "never"] satisfies TitanicFsyncPolicy[])(
    "close-and-reopen after each ack (500 cycles with fsync always, 200 otherwise) loses nothing: fsync %s",
    async (fsync) => {
      const dir = tempDir();
      const acked: string[] = [];
      const replied = new Set<string>();
      const cycles = fsync === "always" ? 500 : 200;
      for (let i = 0; i < cycles; i++) {
        const s = await TitanicStore.open(dir, { fsync, fsyncInterval: 5 });
        expect(s.pending().length + replied.size).toBe(acked.length);
        for (const id of acked)
          expect(s.info(id), `acked request ${id} lost at cycle ${i}`).toBeDefined();
        const id = uuid();
        await s.putRequest(id, "svc", [b(`r${i}`)]);
        acked.push(id); // acknowledged: the "crash" happens right after
        if (i % 3 === 0) {
          const p = s.pending()[0] as string;
          await s.putReply(p, [b("done")]);
          replied.add(p);
        }
        await s.close();
      }
      const s = await TitanicStore.open(dir);
      for (const id of acked) expect(s.info(id)).toBeDefined();
      for (const id of replied) expect((await s.get(id))?.reply).toEqual([b("done")]);
      await s.close();
    },
    60_000,
  );

  test("concurrent writes share fsyncs (group commit) under the always policy", async () => {
    const s = await TitanicStore.open(tempDir());
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => s.putRequest(uuid(), "svc", [b(`${i}`)])),
    );
    const st = s.stats();
    expect(st.writes).toBe(200);
    expect(st.fsyncs).toBeLessThan(200);
    await s.close();
  });

  test("the directory lock: a second open is refused naming the holder; a dead, reused, earlier-boot or empty holder's lock is taken over; close releases it", async () => {
    const dir = tempDir();
    const s1 = await TitanicStore.open(dir);
    await expect(TitanicStore.open(dir)).rejects.toThrow(
      `${dir} is locked by this process (pid ${process.pid})`,
    );
    await s1.close();
    const s2 = await TitanicStore.open(dir); // released by close()
    await s2.close();
    // A stale lock: a pid that is not alive (spawned and already exited).
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    writeFileSync(join(dir, "titanic.lock"), `${dead} ${hostname()}\n`);
    const s3 = await TitanicStore.open(dir);
    expect(readFileSync(join(dir, "titanic.lock"), "utf8")).toMatch(
      new RegExp(`^${process.pid} ${hostname()} \\S+ \\d+\n$`),
    );
    await s3.close();
    // Our own pid, but no store of this process holds it: an earlier process with our pid (a
    // container restarted as pid 1). And a lock from before this boot.
    writeFileSync(join(dir, "titanic.lock"), `${process.pid} ${hostname()} - -\n`);
    await (await TitanicStore.open(dir)).close();
    writeFileSync(join(dir, "titanic.lock"), `${process.pid} ${hostname()} not-this-boot -\n`);
    await (await TitanicStore.open(dir)).close();
    // A live pid: held when its start time matches, reused (stale) when it does not.
    const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], {
      stdio: "ignore",
    });
    try {
      const pid = sleeper.pid as number;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] as string;
      const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
      writeFileSync(join(dir, "titanic.lock"), `${pid} ${hostname()} ${boot} ${started}\n`);
      await expect(TitanicStore.open(dir)).rejects.toThrow(`locked by pid ${pid}`);
      writeFileSync(join(dir, "titanic.lock"), `${pid} ${hostname()} ${boot} 1\n`);
      await (await TitanicStore.open(dir)).close();
    } finally {
      sleeper.kill("SIGKILL");
    }
    writeFileSync(join(dir, "titanic.lock"), ""); // a holder that died between create and write
    await (await TitanicStore.open(dir)).close();
    // A live holder on another host is never taken over.
    writeFileSync(join(dir, "titanic.lock"), `1 some-other-host\n`);
    await expect(TitanicStore.open(dir)).rejects.toThrow("locked by pid 1 on some-other-host");
  });

  test("rejects a malformed UUID and refuses writes after close", async () => {
    const s = await TitanicStore.open(tempDir());
    await expect(s.putRequest("not-a-uuid", "svc", [b("x")])).rejects.toMatchObject({
      code: "ZG_INVALID_ARGUMENT",
    });
    await s.close();
    await expect(s.putRequest(uuid(), "svc", [b("x")])).rejects.toMatchObject({
      code: "ZG_CLOSED",
    });
  });
});
