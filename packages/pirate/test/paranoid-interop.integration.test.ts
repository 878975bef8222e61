// Interop with pyzmq peers written for this test from the 6/PPP RFC and the Lazy Pirate description (not Guide code).
import { expect } from "vitest";
import { closeAfter, pythonTest, spawnPython, waitFor } from "@zg/testing";
import { LazyPirateClient, PirateQueue, PirateWorker } from "../src/index.js";

const PY_PPP_WORKER = String.raw`
import sys, time, zmq
endpoint, interval = sys.argv[1], float(sys.argv[2]) / 1000
READY, HEARTBEAT = b"\x01", b"\x02"
ctx = zmq.Context()
sock = ctx.socket(zmq.DEALER); sock.linger = 0
sock.connect(endpoint)
sock.send(READY)
print("ready", flush=True)
heard = time.monotonic(); sent = time.monotonic(); served = 0
while True:
    if sock.poll(int(interval * 1000)):
        frames = sock.recv_multipart()
        heard = time.monotonic()
        if len(frames) == 3:          # [client][""][body]: a request
            sock.send_multipart(frames); sent = time.monotonic(); served += 1
            print("served", served, flush=True)
        elif frames == [HEARTBEAT]:
            pass
        else:
            print("invalid", len(frames), flush=True)
    if time.monotonic() - heard > 3 * interval:
        print("queue lost", flush=True); sys.exit(2)
    if time.monotonic() - sent >= interval:
        sock.send(HEARTBEAT); sent = time.monotonic()
`;

const PY_LP_CLIENT = String.raw`
import sys, zmq
endpoint, count = sys.argv[1], int(sys.argv[2])
ctx = zmq.Context()
def connect():
    s = ctx.socket(zmq.REQ); s.linger = 0; s.connect(endpoint); return s
sock = connect()
for seq in range(count):
    request = str(seq).encode()
    retries = 3
    while True:
        sock.send(request)
        if sock.poll(2500):
            reply = sock.recv()
            if reply == request:
                print("ok", seq, flush=True); break
            print("malformed", reply, flush=True)
        else:
            retries -= 1
            sock.close(); sock = connect()
            if retries == 0:
                print("abandoning", flush=True); sys.exit(3)
print("done", flush=True)
`;

const PY_PPP_QUEUE = String.raw`
import sys, time, zmq
interval = float(sys.argv[1]) / 1000
READY, HEARTBEAT = b"\x01", b"\x02"
ctx = zmq.Context()
front = ctx.socket(zmq.ROUTER); back = ctx.socket(zmq.ROUTER)
front.linger = 0; back.linger = 0
front.bind("tcp://127.0.0.1:*"); back.bind("tcp://127.0.0.1:*")
print("endpoints", front.getsockopt_string(zmq.LAST_ENDPOINT), back.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
workers = {}   # id -> expiry, insertion order = LRU
beat_at = time.monotonic() + interval
poller = zmq.Poller(); poller.register(back, zmq.POLLIN); poller.register(front, zmq.POLLIN)
while True:
    events = dict(poller.poll(int(interval * 1000)))
    if back in events:
        frames = back.recv_multipart()
        wid, msg = frames[0], frames[1:]
        workers.pop(wid, None); workers[wid] = time.monotonic() + 3 * interval
        if len(msg) == 1:
            if msg[0] not in (READY, HEARTBEAT): print("bad worker message", flush=True)
            elif msg[0] == READY: print("worker ready", flush=True)
        else:
            front.send_multipart(msg)
    if front in events and workers:
        frames = front.recv_multipart()
        wid = next(iter(workers)); del workers[wid]
        back.send_multipart([wid] + frames)
    if time.monotonic() >= beat_at:
        for wid in workers: back.send_multipart([wid, HEARTBEAT])
        beat_at = time.monotonic() + interval
    now = time.monotonic()
    for wid in [w for w, exp in workers.items() if exp < now]: del workers[wid]
`;

pythonTest(
  "our PirateQueue with a Python PPP worker and a Python Lazy Pirate client",
  async () => {
    const queue = closeAfter(new PirateQueue({ heartbeatInterval: 200 }));
    const { frontend, backend } = await queue.start();
    const worker = spawnPython(PY_PPP_WORKER, [backend[0] as string, "200"]);
    await worker.waitForLine(/^ready/);
    await waitFor(() => queue.stats().idleWorkers === 1, { what: "python worker registered" });
    const client = spawnPython(PY_LP_CLIENT, [frontend[0] as string, "50"]);
    await client.waitForLine(/^done/, 15_000);
    expect(client.output).not.toMatch(/malformed|abandoning/);
    // Heartbeats keep both sides alive for a while.
    await new Promise((r) => setTimeout(r, 1000));
    expect(worker.output).not.toMatch(/invalid|queue lost/);
    expect(queue.stats()).toMatchObject({
      workers: 1,
      repliesForwarded: 50,
      protocolErrors: 0,
      workersPurged: 0,
    });
  },
  30_000,
);

pythonTest(
  "our PirateWorker and LazyPirateClient with a Python PPP queue",
  async () => {
    const pyQueue = spawnPython(PY_PPP_QUEUE, ["200"]);
    const [, frontend, backend] = await pyQueue.waitForLine(/^endpoints (\S+) (\S+)/);
    const worker = closeAfter(
      new PirateWorker({
        queue: backend as string,
        heartbeatInterval: 200,
        handler: (b) => [`echo:${b[0]?.toString() ?? ""}`],
      }),
    );
    await worker.start();
    await pyQueue.waitForLine(/^worker ready/);
    const client = closeAfter(new LazyPirateClient({ server: frontend as string, timeout: 1000 }));
    await client.start();
    for (let i = 0; i < 50; i++)
      expect((await client.request(String(i)))[0]?.toString()).toBe(`echo:${i}`);
    await new Promise((r) => setTimeout(r, 1000));
    expect(worker.stats()).toMatchObject({ reconnects: 0, protocolErrors: 0, connected: true });
    expect(pyQueue.output).not.toMatch(/bad worker message/);
  },
  30_000,
);
