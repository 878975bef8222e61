import { expect, test } from "vitest";
import { transports } from "@zg/testing";
import * as requestReply from "../examples/typed-request-reply.js";
import * as cloneKv from "../examples/typed-clone-kv.js";

test("README example: typed Majordomo-style request/reply serves a v1 and a v2 client", async () => {
  await expect(requestReply.main(transports.tcp())).resolves.toEqual({
    versions: [1, 2],
    replies: ["hello from v1", "hello from v2"],
  });
});

test("README example: typed request/reply drops what it cannot decode", async () => {
  const { createDealer } = await import("@zg/core");
  const service = await requestReply.startEchoService(transports.ipc());
  const dealer = createDealer({ linger: 0, receiveTimeout: 2500 });
  dealer.connect(service.endpoint);
  try {
    await dealer.send(["echo", "ZGE1 echo.Request 3", "{}"]);
    await dealer.send(["echo", "not an envelope"]);
    const client = await requestReply.echoClient(service.endpoint, [2]);
    await expect(client.request("still served")).resolves.toBe("still served");
    client.close();
    expect(service.dropped()).toBe(2);
  } finally {
    dealer.close();
    await service.close();
  }
});

test("README example: typed Clone-style key-value snapshot", async () => {
  const { snapshot, sequence } = await cloneKv.main(transports.tcp());
  expect(sequence).toBe(3n);
  expect(snapshot.map((kv) => [kv.key, kv.sequence, kv.body.toString()])).toEqual([
    ["/a", 3n, "value of /a"],
    ["/b", 2n, "value of /b"],
  ]);
  expect(() =>
    cloneKv.decodeUpdate([
      Buffer.from("/x"),
      ...cloneKv.encodeUpdate({ ...snapshot[0]!, key: "/y" }).slice(1),
    ]),
  ).toThrow("key frame does not match");
});
