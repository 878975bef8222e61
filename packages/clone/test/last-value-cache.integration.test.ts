// Last value cache (Guide ch. 5 "Last Value Caching"): a late subscriber gets the last value of
// each topic it subscribes to at once, without waiting for the next update.
import * as zmq from "zeromq";
import { expect, test } from "vitest";
import { closeAfter, waitFor, within } from "@zg/testing";
import { LastValueCache } from "../src/index.js";

test("a late subscriber gets the cached last value per topic; updates keep flowing", async () => {
  const pub = new zmq.Publisher({ linger: 0 });
  await pub.bind("tcp://127.0.0.1:*");
  const lvc = closeAfter(
    new LastValueCache({ upstream: pub.lastEndpoint!, bind: "tcp://127.0.0.1:*", maxTopics: 3 }),
  );
  const [endpoint] = (await lvc.start()).endpoints;
  try {
    await waitFor(
      async () => {
        await pub.send(["warmup", "x"]);
        return lvc.stats().forwarded > 0;
      },
      { what: "the cache hears the publisher" },
    );
    for (const [t, v] of [
      ["a/1", "old"],
      ["a/1", "new"],
      ["a/2", "two"],
      ["b/1", "bee"],
      ["c/1", "over the bound"],
    ])
      await pub.send([t!, v!]);
    await waitFor(() => lvc.stats().forwarded >= 6, { what: "five updates forwarded" });
    const sub = new zmq.Subscriber({ linger: 0 });
    sub.subscribe("a/");
    sub.connect(endpoint!);
    try {
      const got = new Map<string, string>();
      while (got.size < 2) {
        const [t, v] = await within(sub.receive(), 5000, "cached values");
        got.set(String(t), String(v));
      }
      expect(Object.fromEntries(got)).toEqual({ "a/1": "new", "a/2": "two" });
      await pub.send(["a/3", "live"]);
      const [t, v] = await within(sub.receive(), 5000, "a live update");
      expect([String(t), String(v)]).toEqual(["a/3", "live"]);
      // warmup, a/1, a/2 cached; b/1, c/1 and a/3 over maxTopics: forwarded, not cached.
      expect(lvc.stats()).toMatchObject({ topics: 3, uncached: 3 });
    } finally {
      sub.close();
    }
  } finally {
    pub.close();
  }
});
