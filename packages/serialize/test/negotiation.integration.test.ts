import { describe, expect, test } from "vitest";
import {
  bindAll,
  createDealer,
  createRouter,
  isZgError,
  ProtocolError,
  SocketLoop,
  unwrap,
  wrap,
  type Message,
} from "@zg/core";
import { closeAfter, pythonTest, spawnPython, transports } from "@zg/testing";
import {
  createVersionResponder,
  isNegotiationMessage,
  negotiateVersion,
  type NegotiationOutcome,
} from "../src/index.js";

/** A ROUTER loop that answers negotiation HELLOs and records what it decided. */
async function startResponder(
  endpoint: string,
  supported: Record<string, number[]>,
): Promise<{ endpoint: string; outcomes: NegotiationOutcome[]; loop: SocketLoop }> {
  const respond = createVersionResponder(supported);
  const router = createRouter({ linger: 0 });
  const [bound] = await bindAll(router, [endpoint]);
  const outcomes: NegotiationOutcome[] = [];
  const loop: SocketLoop = closeAfter(
    new SocketLoop(router, {
      onMessage: (msg: Message) => {
        const { id, body, delimited } = unwrap(msg);
        if (!isNegotiationMessage(body)) throw new ProtocolError("not a negotiation message");
        const outcome = respond(body);
        outcomes.push(outcome);
        loop.post(delimited ? wrap(id, outcome.reply) : [id, ...outcome.reply]);
      },
    }).start(),
  );
  return { endpoint: bound as string, outcomes, loop };
}

describe.each(Object.entries(transports))(
  "version negotiation over DEALER/ROUTER (%s)",
  (_name, endpoint) => {
    test("two peers agree on the highest common version", async () => {
      const server = await startResponder(endpoint(), { echo: [1, 2, 3] });
      const dealer = closeAfter(createDealer({ linger: 0 }));
      dealer.connect(server.endpoint);
      await expect(
        negotiateVersion(dealer, { protocol: "echo", versions: [2, 3, 4], timeout: 5000 }),
      ).resolves.toBe(3);
      expect(server.outcomes).toMatchObject([{ protocol: "echo", version: 3, remote: [2, 3, 4] }]);
    });

    test("no common version fails fast on both sides, naming both sets", async () => {
      const server = await startResponder(endpoint(), { echo: [1, 2] });
      const dealer = closeAfter(createDealer({ linger: 0 }));
      dealer.connect(server.endpoint);
      const started = performance.now();
      const p = negotiateVersion(dealer, { protocol: "echo", versions: [3, 4], timeout: 5000 });
      await expect(p).rejects.toMatchObject({ code: "ZG_VERSION", local: [3, 4], remote: [1, 2] });
      expect(performance.now() - started).toBeLessThan(2500); // an answer, not the timeout
      expect(server.outcomes[0]?.error).toMatchObject({
        code: "ZG_VERSION",
        local: [1, 2],
        remote: [3, 4],
      });
    });
  },
);

test("garbage on the server is counted and dropped by the loop; the next HELLO is still answered", async () => {
  const server = await startResponder(transports.tcp(), { echo: [1] });
  const dealer = closeAfter(createDealer({ linger: 0 }));
  dealer.connect(server.endpoint);
  await dealer.send([
    Buffer.from("ZGNEG1"),
    Buffer.from([0x01]),
    Buffer.from("echo"),
    Buffer.from("x,y"),
  ]);
  await dealer.send("junk");
  await expect(
    negotiateVersion(dealer, { protocol: "echo", versions: [1], timeout: 5000 }),
  ).resolves.toBe(1);
  expect(server.outcomes).toHaveLength(1);
  expect(server.loop.stats()).toMatchObject({ received: 3, protocolErrors: 2, handlerErrors: 0 });
});

test("a silent server times out with ZG_TIMEOUT", async () => {
  const router = closeAfter(createRouter({ linger: 0 }));
  const [ep] = await bindAll(router, [transports.tcp()]);
  const dealer = closeAfter(createDealer({ linger: 0 }));
  dealer.connect(ep as string);
  const err: unknown = await negotiateVersion(dealer, {
    protocol: "echo",
    versions: [1],
    timeout: 200,
  }).catch((e: unknown) => e);
  expect(isZgError(err, "ZG_TIMEOUT")).toBe(true);
});

// A pyzmq server written from the README's frame-by-frame description (not from this package's code).
const PY_SERVER = `
import sys, zmq
ctx = zmq.Context()
router = ctx.socket(zmq.ROUTER)
router.linger = 0
port = router.bind_to_random_port("tcp://127.0.0.1")
print("READY", port, flush=True)
supported = {"echo": [1, 2, 5]}
while True:
    ident, header, command, protocol, versions = router.recv_multipart()
    assert header == b"ZGNEG1" and command == b"\\x01"
    offered = [int(v) for v in versions.decode().split(",")]
    mine = supported.get(protocol.decode(), [])
    common = sorted(set(mine) & set(offered))
    if common:
        router.send_multipart([ident, b"ZGNEG1", b"\\x02", protocol, str(common[-1]).encode()])
    else:
        router.send_multipart([ident, b"ZGNEG1", b"\\x03", protocol, ",".join(map(str, mine)).encode(), b"no common version"])
    print("ANSWERED", flush=True)
`;

// A pyzmq client: sends HELLO, prints the reply frames.
const PY_CLIENT = `
import sys, zmq
ctx = zmq.Context()
dealer = ctx.socket(zmq.DEALER)
dealer.linger = 0
dealer.connect(sys.argv[1])
dealer.send_multipart([b"ZGNEG1", b"\\x01", b"echo", sys.argv[2].encode()])
if dealer.poll(5000):
    print("REPLY", "|".join(f.hex() if i == 1 else f.decode() for i, f in enumerate(dealer.recv_multipart())), flush=True)
`;

pythonTest("interop: our client negotiates with a pyzmq server", async () => {
  const py = spawnPython(PY_SERVER);
  const [, port] = await py.waitForLine(/^READY (\d+)/);
  const dealer = closeAfter(createDealer({ linger: 0 }));
  dealer.connect(`tcp://127.0.0.1:${port}`);
  await expect(
    negotiateVersion(dealer, { protocol: "echo", versions: [2, 3, 5, 6], timeout: 5000 }),
  ).resolves.toBe(5);
  await expect(
    negotiateVersion(dealer, { protocol: "echo", versions: [3], timeout: 5000 }),
  ).rejects.toMatchObject({ code: "ZG_VERSION", remote: [1, 2, 5] });
});

pythonTest("interop: a pyzmq client negotiates with our responder", async () => {
  const server = await startResponder(transports.tcp(), { echo: [1, 2] });
  const ok = spawnPython(PY_CLIENT, [server.endpoint, "2,9"]);
  await expect(ok.waitForLine(/^REPLY (.*)/)).resolves.toMatchObject({ 1: "ZGNEG1|02|echo|2" });
  const no = spawnPython(PY_CLIENT, [server.endpoint, "9"]);
  await expect(no.waitForLine(/^REPLY (.*)/)).resolves.toMatchObject({
    1: "ZGNEG1|03|echo|1,2|no common version",
  });
});
