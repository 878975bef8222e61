import { join } from "node:path";
import { ManualClock } from "@zg/core";
import { closeAfter, tempDir } from "@zg/testing";
import { expect, test } from "vitest";
import { parseNamesFile, ZnsAgent, type NamesFeed, type NamesTable } from "../src/index.js";

// The stale rule on a ManualClock, with a scripted feed: only the agent's lookup socket is real.
test("stale exactly when no server was heard for more than serverTimeout; cleared when heard again", async () => {
  const clock = new ManualClock(1000);
  let heard: number | undefined;
  let push: (table: NamesTable) => void = () => {};
  const feed: NamesFeed = {
    publisher: () => {
      throw new Error("not used");
    },
    subscriber: () => ({
      start: (onTable) => {
        push = onTable;
        return Promise.resolve();
      },
      lastHeard: () => heard,
      stats: () => ({}),
      close: () => Promise.resolve(),
      closed: new Promise(() => {}),
    }),
  };
  const agent = closeAfter(
    new ZnsAgent({
      servers: "tcp://127.0.0.1:1",
      feed,
      clock,
      serverTimeout: 3000,
      runtimeDir: join(tempDir("zns-"), "rt"),
      cache: false,
    }),
  );
  const events: string[] = [];
  agent.on("feed:stale", (e) => events.push(`stale ${e.silentFor}`));
  agent.on("feed:synced", () => events.push("synced"));
  await agent.start();
  expect(agent.stale).toBe(true); // never heard
  expect(agent.resolve("echo")).toBeUndefined();

  heard = clock.now();
  push(parseNamesFile("name\n    echo\n        connect = tcp://127.0.0.1:1\n"));
  expect(agent.resolve("echo")).toMatchObject({ source: "feed", stale: false });
  clock.advance(3000);
  expect(agent.resolve("echo")).toMatchObject({ source: "feed", stale: false }); // silent for exactly serverTimeout
  clock.advance(1);
  expect(agent.resolve("echo")).toMatchObject({ source: "cache", stale: true });
  expect(agent.stats()).toMatchObject({ stale: true, staleAnswers: 1 });
  heard = clock.now();
  expect(agent.resolve("echo")).toMatchObject({ source: "feed", stale: false });
  expect(events).toEqual(["synced", "stale 3001", "synced"]);
});
