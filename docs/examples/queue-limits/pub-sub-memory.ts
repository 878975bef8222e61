/**
 * A publisher sending to a subscriber that has stopped reading, with the
 * default high-water mark (1000 messages) and with none (HWM 0), each
 * subscriber in its own process (docs/queue-limits.md). Prints the peak RSS
 * growth of both processes and how many messages reached the subscriber.
 *
 * Run: pnpm exec tsx docs/examples/queue-limits/pub-sub-memory.ts
 */
import { fork } from "node:child_process";
import { on, once } from "node:events";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";

const COUNT = 25_000;
const SIZE = 4096;
const MB = 1024 * 1024;
/**
 * zeromq.js copies a string into memory libzmq owns (and frees when the
 * message is sent or dropped), so RSS shows the queues, not JavaScript garbage.
 */
const body = "x".repeat(SIZE);

type ToParent = { joined: true } | { peak: number } | { delivered: number };
type ToChild = "peak" | "drain";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => (bytes / MB).toFixed(1);

/** The subscriber process: reads one message (it has joined), then stops reading until told to drain. */
async function subscriber(endpoint: string, hwm: number): Promise<void> {
  const send = (m: ToParent) => process.send!(m);
  const sub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: hwm });
  sub.subscribe();
  sub.connect(endpoint);
  await sub.receive();
  const base = process.memoryUsage().rss;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss - base)), 20);
  send({ joined: true });
  for await (const [command] of on(process, "message") as AsyncIterable<[ToChild]>) {
    if (command === "peak") send({ peak });
    if (command === "drain") {
      clearInterval(sampler);
      sub.receiveTimeout = 500;
      let delivered = 0;
      try {
        for (;;) if ((await sub.receive())[0]?.length === SIZE) delivered++;
      } catch {
        /* nothing for 500 ms: all there is */
      }
      send({ delivered });
      sub.close();
      process.disconnect();
      return;
    }
  }
}

/**
 * One run: a publisher with `hwm` on both sides sends COUNT fresh messages of
 * SIZE bytes as fast as it can. The subscriber either does not call `receive()`
 * ("not reading": its libzmq I/O thread still reads the TCP socket) or is
 * frozen by SIGSTOP ("frozen": nothing reads, the TCP window closes).
 */
async function run(hwm: number, frozen: boolean): Promise<void> {
  const pub = new zmq.Publisher({ linger: 0, sendHighWaterMark: hwm });
  await pub.bind("tcp://127.0.0.1:*");
  const child = fork(
    fileURLToPath(import.meta.url),
    ["subscriber", pub.lastEndpoint!, String(hwm)],
    {
      execArgv: process.execArgv,
    },
  );
  const replies = on(child, "message") as AsyncIterableIterator<[ToParent], undefined>;
  const next = async (): Promise<ToParent> => {
    const r = await replies.next();
    if (r.done === true) throw new Error("the subscriber process went away");
    return r.value[0];
  };
  const ask = (m: ToChild) => {
    child.send(m);
    return next();
  };
  let joined = false;
  void next().then(() => (joined = true));
  while (!joined) {
    await pub.send("probe");
    await sleep(10);
  }

  if (frozen) child.kill("SIGSTOP");
  const base = process.memoryUsage().rss;
  let peak = 0;
  for (let i = 0; i < COUNT; i++) {
    await pub.send(body);
    if (i % 500 === 0) peak = Math.max(peak, process.memoryUsage().rss - base);
  }
  // Let libzmq move what it can to the subscriber, sampling the publisher meanwhile.
  for (let i = 0; i < 20; i++) {
    await sleep(50);
    peak = Math.max(peak, process.memoryUsage().rss - base);
  }
  if (frozen) child.kill("SIGCONT");
  const { peak: subPeak } = (await ask("peak")) as { peak: number };
  const { delivered } = (await ask("drain")) as { delivered: number };
  await once(child, "exit");
  await replies.return?.();
  pub.close();
  console.log(
    `HWM ${String(hwm).padEnd(4)} ${frozen ? "frozen     " : "not reading"} publisher RSS +${mb(peak)} MB, subscriber RSS +${mb(subPeak)} MB, ` +
      `delivered ${delivered} of ${COUNT} (${mb(COUNT * SIZE)} MB sent)`,
  );
}

if (process.argv[2] === "subscriber") {
  await subscriber(process.argv[3]!, Number(process.argv[4]));
} else if (process.argv[2] === "run") {
  await run(Number(process.argv[3]), process.argv[4] === "frozen");
} else {
  console.log(
    `PUB -> SUB over tcp loopback, ${COUNT} × ${SIZE} bytes, a fresh process pair per run`,
  );
  for (const frozen of [false, true])
    for (const hwm of [1000, 0]) {
      const args = ["run", String(hwm), frozen ? "frozen" : "reading"];
      const child = fork(fileURLToPath(import.meta.url), args, { execArgv: process.execArgv });
      const [code] = (await once(child, "exit")) as [number | null];
      if (code !== 0) throw new Error(`run ${args.join(" ")} exited with ${code}`);
    }
}
