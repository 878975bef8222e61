import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeAfter, tempDir, waitFor } from "@zg/testing";
import { expect, test } from "vitest";
import { Experimental_cloneFeed as cloneFeed, ZnsAgent, ZnsServer } from "../src/index.js";

// The promises of zns.integration.test.ts over the experimental Clone (12/CHP) feed.
const feed = cloneFeed({ serverTtl: 500, hugzInterval: 100, subscribeWait: 200 });
const names = (port: number, extra = ""): string =>
  `zns\n    default-env = production\nname\n    echo\n        connect = tcp://127.0.0.1:${port}\n${extra}`;

test("Clone feed: the table reaches every agent; a change in the file reaches them within 1 s; a removed name disappears", async () => {
  const dir = tempDir("zns-clone-");
  const file = join(dir, "names.zpl");
  writeFileSync(file, names(6000, "    other\n        bind = tcp://*:1\n"));
  const server = closeAfter(new ZnsServer({ names: file, feed }));
  const { endpoints } = await server.start();
  expect(endpoints[0]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  const agents = [0, 1, 2].map((i) =>
    closeAfter(
      new ZnsAgent({
        servers: endpoints,
        runtimeDir: join(dir, `a${i}`),
        feed,
        serverTimeout: 300,
      }),
    ),
  );
  await Promise.all(agents.map((a) => a.start()));
  await Promise.all(agents.map((a) => a.whenSynced({ timeout: 10_000 })));
  await waitFor(() => agents.every((a) => a.resolve("other") !== undefined), {
    what: "snapshot on every agent",
  });
  expect(agents[0]!.resolve("echo")).toMatchObject({
    connect: ["tcp://127.0.0.1:6000"],
    source: "feed",
    stale: false,
  });

  const changed = performance.now();
  writeFileSync(file, names(6001));
  const times = await Promise.all(
    agents.map(async (a) => {
      await waitFor(() => a.resolve("echo")?.connect[0] === "tcp://127.0.0.1:6001", {
        what: "the change",
      });
      return performance.now() - changed;
    }),
  );
  console.log(
    `zns clone-feed propagation to 3 agents: ${times.map((t) => t.toFixed(0)).join(", ")} ms`,
  );
  for (const t of times) expect(t).toBeLessThan(1000);
  await waitFor(() => agents.every((a) => a.resolve("other") === undefined), {
    what: "the removed name gone",
  });
});

test("Clone feed: server stopped → cache with stale: true; restarted on its endpoint → agents re-sync and clear the flag", async () => {
  const dir = tempDir("zns-clone-");
  const file = join(dir, "names.zpl");
  writeFileSync(file, names(7000));
  // A restarted Clone server keeps its map and sequence in its data directory.
  const durable = cloneFeed({
    serverTtl: 500,
    hugzInterval: 100,
    subscribeWait: 200,
    dataDir: join(dir, "clone"),
  });
  const server = new ZnsServer({ names: file, feed: durable });
  const { endpoints } = await server.start();
  const a = closeAfter(
    new ZnsAgent({
      servers: endpoints,
      runtimeDir: join(dir, "a"),
      feed: durable,
      serverTimeout: 300,
    }),
  );
  await a.start();
  await a.whenSynced({ timeout: 10_000 });
  await server.close();
  await waitFor(() => a.stale, { what: "stale after the server stopped" });
  expect(a.resolve("echo")).toMatchObject({
    connect: ["tcp://127.0.0.1:7000"],
    source: "cache",
    stale: true,
  });
  writeFileSync(file, names(7100));
  const again = closeAfter(new ZnsServer({ names: file, endpoints: endpoints[0]!, feed: durable }));
  await again.start();
  await waitFor(() => !a.stale && a.resolve("echo")?.connect[0] === "tcp://127.0.0.1:7100", {
    timeout: 10_000,
    what: "re-synced from the restarted server",
  });
  expect(a.resolve("echo")).toMatchObject({ source: "feed", stale: false });
});
