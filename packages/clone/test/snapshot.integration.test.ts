// Big snapshot: 100 000 keys to a late joiner arrive complete (the server waits for the client's
// HWM instead of dropping; KTHXBAI carries count= so a truncated snapshot would be asked again).
import * as zmq from "zeromq";
import { expect, test } from "vitest";
import { closeAfter, waitFor } from "@zg/testing";
import { CloneClient, CloneServer, encodeKvMsg, type CloneEndpoints } from "../src/index.js";

const LOCAL: CloneEndpoints = {
  snapshot: "tcp://127.0.0.1:*",
  publisher: "tcp://127.0.0.1:*",
  collector: "tcp://127.0.0.1:*",
};
const KEYS = 100_000;

test(`a late joiner gets all ${KEYS} keys, complete`, async () => {
  const server = closeAfter(new CloneServer({ bind: LOCAL, hugzInterval: 200 }));
  const e = await server.start();
  const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: 0 });
  pub.connect(e.collector);
  try {
    await new Promise((r) => setTimeout(r, 300));
    const value = Buffer.alloc(100, 0x61);
    for (let i = 0; i < KEYS; i++) {
      await pub.send(
        encodeKvMsg({
          key: `/k/${i}`,
          sequence: 0n,
          uuid: Buffer.alloc(0),
          properties: new Map(),
          body: value,
        }),
      );
    }
    await waitFor(() => server.stats().keys === KEYS, {
      timeout: 30_000,
      what: `${KEYS} keys stored`,
    });
  } finally {
    pub.close();
  }
  const client = closeAfter(new CloneClient({ servers: e, subscribeWait: 400, serverTtl: 10_000 }));
  const t0 = performance.now();
  await client.start();
  await client.waitSynced({ timeout: 60_000 });
  const took = performance.now() - t0;
  console.log(
    `big snapshot: ${client.size} of ${KEYS} keys in ${Math.round(took)} ms, incomplete snapshots ${client.stats().incomplete}, server rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
  );
  expect(client.size).toBe(KEYS);
  expect(client.sequence).toBe(server.sequence);
  expect(server.stats().snapshotsAbandoned).toBe(0);
}, 90_000);
