// pyzmq peers written from the README's wire form (not from our code): the standalone heartbeat is implementable elsewhere.
import { describe, expect } from "vitest";
import { closeAfter, pythonTest, spawnPython, tcpEndpoint, waitFor } from "@zg/testing";
import { HeartbeatMonitor, HeartbeatRouter } from "../src/index.js";

const PING_PONG_PEER = `
import sys, time, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.setsockopt(zmq.ROUTING_ID, b"py")
s.connect(sys.argv[1])
HEADER = b"ZGHB01"
s.send_multipart([HEADER, b"\\x02", b"interval=200\\n"])   # PING, judge me by 200 ms
end = time.monotonic() + 1.5
last_sent = time.monotonic()
while time.monotonic() < end:
    if s.poll(50):
        frames = s.recv_multipart()
        if frames[0] == HEADER and frames[1] == b"\\x02":
            s.send_multipart([HEADER, b"\\x03"])          # PONG
            last_sent = time.monotonic()
            print("ping", flush=True)
        elif frames[0] == HEADER and frames[1] == b"\\x03":
            print("pong", flush=True)
    if time.monotonic() - last_sent >= 0.2:              # ping only when idle
        s.send_multipart([HEADER, b"\\x02", b"interval=200\\n"])
        last_sent = time.monotonic()
print("bye", flush=True)
`;

const PUBLISHER = `
import sys, time, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.PUB)
s.setsockopt(zmq.LINGER, 0)
s.bind("tcp://127.0.0.1:0")
print(s.getsockopt(zmq.LAST_ENDPOINT).decode(), flush=True)
end = time.monotonic() + 1.5
while time.monotonic() < end:
    s.send_multipart([b"ZGHB01", b"\\x01", b"interval=100\\n"])   # one-way HEARTBEAT
    time.sleep(0.1)
print("bye", flush=True)
`;

describe("interop with pyzmq peers", () => {
  pythonTest(
    "a pyzmq DEALER speaking the ping-pong wire form is tracked by its announced interval, then expires",
    async () => {
      const router = closeAfter(new HeartbeatRouter({ endpoints: tcpEndpoint(), interval: 1000 }));
      const [ep] = (await router.start()).endpoints;
      const joined = router.next("peer:joined");
      const py = spawnPython(PING_PONG_PEER, [ep as string]);
      expect((await joined).key).toBe("py");
      expect(router.peer(Buffer.from("py"))?.interval).toBe(200);
      await py.waitForLine(/^pong$/);
      await py.waitForLine(/^bye$/, 5000);
      const e = await router.next("peer:expired");
      expect(e.key).toBe("py");
      expect(e.silentFor).toBeGreaterThanOrEqual(600);
      expect(e.silentFor).toBeLessThan(600 + 200);
      expect(router.stats()).toMatchObject({ protocolErrors: 0, unknownCommands: 0 });
      // Either side pings when its line is idle and the other answers: over 1.5 s at 200 ms, several exchanges.
      const { pingsReceived, pongsReceived } = router.stats();
      expect(pingsReceived).toBeGreaterThanOrEqual(1);
      expect(pingsReceived + pongsReceived).toBeGreaterThanOrEqual(3);
    },
  );

  pythonTest(
    "a pyzmq PUB sending one-way heartbeats is alive to the monitor, then dead when it stops",
    async () => {
      const py = spawnPython(PUBLISHER);
      const [endpoint] = (await py.waitForLine(/^(tcp:\/\/\S+)$/)).slice(1);
      const monitor = closeAfter(
        new HeartbeatMonitor({ publishers: endpoint as string, interval: 1000 }),
      );
      await monitor.start();
      await waitFor(() => monitor.publisherState(endpoint as string) === "alive", {
        what: "alive",
      });
      const dead = await monitor.next("publisher:dead");
      expect(dead.silentFor).toBeGreaterThanOrEqual(300); // judged by the announced 100 ms, not the 1000 ms default
      expect(dead.silentFor).toBeLessThan(1000);
      expect(monitor.stats().heartbeats).toBeGreaterThanOrEqual(3);
    },
  );
});
