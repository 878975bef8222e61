// Runs inside a private network namespace (bench/index.ts starts it with `unshare -n`): measures,
// for a burst of N messages with a yield to the event loop every `batch` messages, how many a
// receiver in the same process gets, raw RADIO/DISH vs MulticastBus. Prints one JSON line.
import * as draft from "zeromq/draft.js";
import { MulticastBus } from "../src/index.js";

const N = Number(process.argv[2] ?? 20_000);
const BATCHES = [10, 100, 1000];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const payload = Buffer.alloc(64, 7);

async function raw(endpoint: string, batch: number) {
  const dish = new draft.Dish({ linger: 0 });
  await dish.bind(endpoint);
  dish.join("g");
  const radio = new draft.Radio({ linger: 0 });
  radio.connect(endpoint);
  await sleep(100);
  let got = 0;
  const reading = (async () => {
    try {
      for (;;) {
        await dish.receive();
        got++;
      }
    } catch {
      /* closed */
    }
  })();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    await radio.send(payload, { group: "g" });
    if (i % batch === batch - 1) await new Promise((r) => setImmediate(r));
  }
  const ms = performance.now() - t0;
  await sleep(300);
  dish.close();
  radio.close();
  await reading;
  return { delivered: got / N, rate: N / (ms / 1000) };
}

async function bus(endpoint: string, batch: number) {
  const rx = new MulticastBus({ endpoint, groups: ["g"] });
  const tx = new MulticastBus({ endpoint });
  let got = 0;
  rx.on("message:received", () => void got++);
  await rx.start();
  await tx.start();
  await sleep(100);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    tx.publish("g", payload);
    if (i % batch === batch - 1) {
      await tx.flush();
      await new Promise((r) => setImmediate(r));
    }
  }
  await tx.flush();
  const ms = performance.now() - t0;
  await sleep(300);
  const lost = rx.stats().lost;
  await rx.close();
  await tx.close();
  return { delivered: got / N, rate: N / (ms / 1000), reportedLost: lost, missing: N - got };
}

const out: Record<string, unknown>[] = [];
let port = 5700;
for (const batch of BATCHES) {
  const r = await raw(`udp://239.192.9.9:${port++}`, batch);
  const b = await bus(`udp://239.192.9.9:${port++}`, batch);
  out.push({ batch, raw: r, bus: b });
}
console.log(JSON.stringify(out));
