/**
 * The raw zeromq.js baseline for broker benchmarks (shared by part 1 and
 * part 2 of the @zg/pirate bench): a one-hop ROUTER → ROUTER forwarder in a
 * plain JS loop with no protocol, no heartbeats and no bookkeeping beyond a
 * round-robin over a fixed worker list, raw DEALER echo workers, and raw
 * DEALER clients doing sequential round trips. Everything in one process, as
 * the component under test runs.
 */
import * as zmq from "zeromq";

/** A running raw forwarder. */
export interface RawForwarder {
  /** Client-facing endpoint. */
  frontend: string;
  /** Worker-facing endpoint. */
  backend: string;
  /** Stops the loops and closes the sockets. */
  close(): Promise<void>;
}

/**
 * Starts a raw forwarder and `workers` raw echo workers (DEALERs with routing
 * ids `w0`, `w1`, …). Requests `[C][""][body]` go to the workers round-robin
 * as `[W][C][""][body]`; replies `[W][C][""][body]` go back as `[C][""][body]`.
 *
 * With `oneAtATime`, a worker gets a new request only after it replied (the
 * load-balancing rule every Pirate/Majordomo broker follows); waiting
 * requests sit in a plain array. This isolates the cost of the zg code from
 * the cost of the rule itself.
 */
export async function startRawForwarder(
  workers: number,
  { oneAtATime = false }: { oneAtATime?: boolean } = {},
): Promise<RawForwarder> {
  const front = new zmq.Router({ linger: 0 });
  const back = new zmq.Router({ linger: 0 });
  await front.bind("tcp://127.0.0.1:*");
  await back.bind("tcp://127.0.0.1:*");
  const frontend = front.lastEndpoint as string;
  const backend = back.lastEndpoint as string;
  const ids = Array.from({ length: workers }, (_, i) => Buffer.from(`w${i}`));
  const workerSockets = ids.map((id) => {
    const d = new zmq.Dealer({ linger: 0, routingId: id.toString() });
    d.connect(backend);
    return d;
  });
  const loops: Promise<void>[] = [];
  for (const d of workerSockets) {
    loops.push(
      (async () => {
        await d.send("hello"); // lets the ROUTER learn the id before traffic
        try {
          for await (const msg of d) await d.send(msg);
        } catch {
          /* closed */
        }
      })(),
    );
  }
  // Wait until the backend has heard every worker.
  for (let i = 0; i < workers; i++) await back.receive();
  let next = 0;
  const idle: Buffer[] = [...ids];
  const waiting: Buffer[][] = [];
  let sending = Promise.resolve();
  const dispatch = (): void => {
    while (idle.length > 0 && waiting.length > 0) {
      const w = idle.shift() as Buffer;
      const msg = waiting.shift() as Buffer[];
      sending = sending.then(() => back.send([w, ...msg])).catch(() => undefined);
    }
  };
  loops.push(
    (async () => {
      try {
        for await (const msg of front) {
          if (oneAtATime) {
            waiting.push(msg);
            dispatch();
          } else {
            const w = ids[next++ % ids.length] as Buffer;
            await back.send([w, ...msg]);
          }
        }
      } catch {
        /* closed */
      }
    })(),
  );
  loops.push(
    (async () => {
      try {
        for await (const msg of back) {
          await front.send(msg.slice(1));
          if (oneAtATime) {
            idle.push(msg[0] as Buffer);
            dispatch();
          }
        }
      } catch {
        /* closed */
      }
    })(),
  );
  return {
    frontend,
    backend,
    async close() {
      for (const s of [front, back, ...workerSockets]) s.close();
      await Promise.allSettled(loops);
    },
  };
}

/** Result of {@link driveClients}. */
export interface DriveResult {
  /** Round trips per second over all clients. */
  rate: number;
  /** Round-trip latencies in ms. */
  latencies: number[];
}

/**
 * Runs `clients` raw DEALER clients against `endpoint`, each doing sequential
 * REQ-style round trips (`[""][body]`, one in flight), for `durationMs` after
 * a short warm-up.
 */
export async function driveClients(
  endpoint: string,
  clients: number,
  durationMs: number,
  warmupMs = 200,
): Promise<DriveResult> {
  const sockets = Array.from({ length: clients }, () => {
    const d = new zmq.Dealer({ linger: 0 });
    d.connect(endpoint);
    return d;
  });
  const body = Buffer.alloc(64, 7);
  const empty = Buffer.alloc(0);
  const latencies: number[] = [];
  let count = 0;
  const t0 = performance.now();
  const start = t0 + warmupMs;
  const end = start + durationMs;
  await Promise.all(
    sockets.map(async (s) => {
      for (;;) {
        const t = performance.now();
        if (t >= end) return;
        await s.send([empty, body]);
        await s.receive();
        const done = performance.now();
        if (t >= start) {
          count++;
          latencies.push(done - t);
        }
      }
    }),
  );
  for (const s of sockets) s.close();
  return { rate: count / (durationMs / 1000), latencies };
}
