import { expect, test } from "vitest";
import * as zmq from "zeromq";
import { closeAfter, tcpEndpoint } from "@zg/testing";
import { AsyncMajordomoClient, MajordomoClient, TitanicClient } from "../src/index.js";

// Every client emits events: a broker that never answers makes each Majordomo
// client report its retry and its failure (request:retry, request:failed).
test.each([
  [
    "MajordomoClient",
    (broker: string) => new MajordomoClient({ broker, timeout: 50, attempts: 2 }),
    (c: MajordomoClient) => c.request("echo", ["x"]),
  ],
  [
    "AsyncMajordomoClient",
    (broker: string) =>
      new AsyncMajordomoClient({ broker, timeout: 50, attempts: 2, correlate: true }),
    (c: AsyncMajordomoClient) => c.request("echo", ["x"]),
  ],
  [
    "TitanicClient",
    (broker: string) => new TitanicClient({ broker, timeout: 50, attempts: 2 }),
    (c: TitanicClient) => c.request("echo", ["x"]),
  ],
] as const)("%s emits request:retry and request:failed", async (_name, make, call) => {
  const silent = closeAfter(new zmq.Router({ linger: 0 }));
  await silent.bind(tcpEndpoint());
  const client = closeAfter(make(silent.lastEndpoint as string));
  const events: [string, unknown][] = [];
  client.on("request:retry", (e) => events.push(["request:retry", e]));
  client.on("request:failed", (e) => events.push(["request:failed", e]));
  await client.start();
  await expect((call as (c: typeof client) => Promise<unknown>)(client)).rejects.toMatchObject({
    code: "ZG_RETRIES_EXHAUSTED",
  });
  expect(events).toEqual([
    ["request:retry", { service: expect.any(String) as string, attempt: 2 }],
    ["request:failed", { service: expect.any(String) as string, attempts: 2 }],
  ]);
});
