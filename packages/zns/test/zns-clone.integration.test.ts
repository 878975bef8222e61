import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeAfter, tempDir, waitFor } from "@zg/testing";
import { expect, test } from "vitest";
import { Experimental_cloneFeed as cloneFeed, ZnsAgent, ZnsServer } from "../src/index.js";

// The propagation promise of zns.integration.test.ts over the experimental Clone (12/CHP) feed.
// Not promised yet (see the README): a restarted Clone server can leave an agent on its old table
// when the snapshot is answered before the restarted writer's updates and those updates are
// published before the agent's SUB has reconnected.
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
