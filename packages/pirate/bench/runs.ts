/**
 * The two runs both bench parts measure against: `clients` raw REQ-style
 * DEALER clients through (a) the raw one-hop ROUTER → ROUTER forwarder and
 * (b) the Paranoid Pirate queue with `workers` PirateWorkers. Each resolves
 * with round trips per second and hands the latencies to `record`.
 */
import { PirateQueue, PirateWorker } from "../src/index.js";
import { driveClients, startRawForwarder } from "./raw-forwarder.js";

/** Round trips per second through the raw forwarder (`oneAtATime`: one request per worker). */
export async function rawForwarderRun(
  workers: number,
  clients: number,
  durationMs: number,
  oneAtATime: boolean,
  record: (latencies: number[]) => void,
): Promise<number> {
  const fwd = await startRawForwarder(workers, { oneAtATime });
  const { rate, latencies } = await driveClients(fwd.frontend, clients, durationMs);
  record(latencies);
  await fwd.close();
  return rate;
}

/** Round trips per second through a PirateQueue and `workers` echoing PirateWorkers. */
export async function paranoidPirateRun(
  workers: number,
  clients: number,
  durationMs: number,
  record: (latencies: number[]) => void,
): Promise<number> {
  const queue = new PirateQueue();
  const { frontend, backend } = await queue.start();
  const list = Array.from(
    { length: workers },
    () => new PirateWorker({ queue: backend, handler: (b) => b }),
  );
  for (const w of list) await w.start();
  while (queue.stats().idleWorkers < workers) await new Promise((r) => setTimeout(r, 5));
  const { rate, latencies } = await driveClients(frontend[0] as string, clients, durationMs);
  record(latencies);
  for (const w of list) await w.close();
  await queue.close();
  return rate;
}
