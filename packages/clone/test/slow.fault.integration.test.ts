// Suicidal Snail (Guide ch. 5): a subscriber SIGSTOPped while 50 000 updates flow. The server's
// publisher HWM bounds what the frozen client can cost (server memory stays bounded); on SIGCONT
// the client sees the sequence gap, re-syncs from a snapshot, and ends an exact copy.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as zmq from "zeromq";
import { expect, test } from "vitest";
import { ipcEndpoint, spawnChild, waitFor } from "@zg/testing";
import { encodeKvMsg, type CloneEndpoints } from "../src/index.js";

const UPDATES = 50_000;
const child = new URL("./fixtures/clone-client-child.ts", import.meta.url);
const serverChild = new URL("./fixtures/clone-single-child.ts", import.meta.url);
const VALUE = 2048;
/** Resident memory of a process, MiB (Linux /proc). */
const rss = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

test(`a SIGSTOPped subscriber during ${UPDATES} updates: server memory bounded, exact copy after SIGCONT`, async () => {
  const e: CloneEndpoints = {
    snapshot: ipcEndpoint("s"),
    publisher: ipcEndpoint("p"),
    collector: ipcEndpoint("c"),
  };
  const server = await spawnChild(serverChild, {
    args: [e.snapshot, e.publisher, e.collector, "-", "never"],
    bundle: true,
  });
  const client = await spawnChild(child, {
    args: [e.snapshot, e.publisher, e.collector],
    bundle: true,
  });
  await client.waitForEvent("synced", { timeout: 10_000 });
  const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 0 });
  pub.connect(e.collector);
  await new Promise((r) => setTimeout(r, 300));
  // The state itself (5 000 keys × 2 KiB) first, so that what grows later is queues, not the map.
  const value = Buffer.alloc(VALUE, 0x62);
  const send = (i: number) =>
    pub.send(
      encodeKvMsg({
        key: `/k/${i % 5000}`,
        sequence: 0n,
        uuid: Buffer.alloc(0),
        properties: new Map(),
        body: Buffer.concat([value, Buffer.from(String(i))]),
      }),
    );
  for (let i = 0; i < 5000; i++) await send(i);
  await waitFor(async () => (await server.call<string>("sequence")) === "5000", {
    timeout: 30_000,
    what: "the state loaded",
  });
  // Warm-up: the same load with the client running, so the server's heap reaches its steady
  // state; growth measured after it is what the frozen client costs.
  for (let i = 5000; i < 5000 + UPDATES; i++) await send(i);
  await waitFor(async () => (await server.call<string>("sequence")) === String(5000 + UPDATES), {
    timeout: 30_000,
    what: "the warm-up applied",
  });
  client.pause();
  const heldBefore = await server.call<number>("held");
  const rssBefore = rss(server.pid);
  let rssMax = rssBefore;
  try {
    for (let i = 5000 + UPDATES; i < 5000 + 2 * UPDATES; i++) {
      await send(i);
      if (i % 2500 === 0) rssMax = Math.max(rssMax, rss(server.pid));
    }
    await waitFor(
      async () => (await server.call<string>("sequence")) === String(5000 + 2 * UPDATES),
      {
        timeout: 30_000,
        what: "all updates applied",
      },
    );
  } finally {
    pub.close();
  }
  rssMax = Math.max(rssMax, rss(server.pid));
  // What the frozen client costs the server: memory it holds after a full GC (the RSS peak also
  // counts garbage V8 has not collected yet, which depends on the machine's timing).
  const growth = ((await server.call<number>("held")) - heldBefore) / 2 ** 20;
  const sequence = await server.call<string>("sequence");
  client.resume();
  await client.waitForEvent("stale", { timeout: 20_000 });
  await waitFor(
    async () => (await client.call<{ sequence: string }>("digest")).sequence === sequence,
    { timeout: 20_000, what: "the client caught up after SIGCONT" },
  );
  const got = await client.call<{ size: number; digest: string }>("digest");
  const h = createHash("sha256");
  const dump = await server.call<[string, string][]>("dump");
  for (const [k, v] of dump.sort(([a], [b]) => (a < b ? -1 : 1)))
    h.update(`${k}=${Buffer.from(v).toString("hex")};`);
  console.log(
    `slow subscriber: stopped during ${UPDATES} updates of ${VALUE} B, server holds ${growth.toFixed(1)} MiB more after a full GC (queueing every update would be ≈ ${((UPDATES * VALUE) / 2 ** 20).toFixed(0)} MiB; rss ${rssBefore.toFixed(0)} → max ${rssMax.toFixed(0)} MiB, garbage included), resynced copy of ${got.size} keys`,
  );
  expect(got.digest).toBe(h.digest("hex"));
  // Queueing the 50 000 updates for the frozen client would cost ≈ 100 MiB; the HWM (1000) ≈ 2 MiB.
  expect(growth).toBeLessThan(30);
}, 90_000);
