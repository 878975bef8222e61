import { describe, expect, test } from "vitest";
import { ManualClock, isZgError, type Frame } from "@zg/core";
import {
  ClientCore,
  CollectorCore,
  CreditReceiver,
  TASK_OVERHEAD,
  decodePipeline,
  encodePipeline,
  type ClientAction,
  type CollectorAction,
  type PipelineMessage,
} from "../src/index.js";

// An in-memory pipeline: clients, one collector, fake workers; every message goes through the codec.
const wire = (m: PipelineMessage) => decodePipeline(encodePipeline(m));

interface FakeLink {
  rx: CreditReceiver;
  session: Frame | undefined;
}

interface FakeWorker {
  route: Frame;
  links: Map<string, FakeLink>;
  inbox: { client: string; clientId: string; batch: number; task: number; payload: Frame }[];
  alive: boolean;
  executed: number;
}

class Sim {
  readonly clock = new ManualClock();
  collector!: CollectorCore;
  readonly clients = new Map<string, ClientCore>();
  readonly workers: FakeWorker[] = [];
  /** Drop the next N results on their way to the collector. */
  dropResults = 0;
  collectorUp = true;
  readonly queue: (() => void)[] = [];

  constructor(
    workers: number,
    readonly credit = 10 * (8 + TASK_OVERHEAD),
  ) {
    this.startCollector();
    for (let i = 0; i < workers; i++) this.addWorker();
  }

  startCollector(): void {
    this.collector?.close();
    this.collector = new CollectorCore(
      {
        instance: Buffer.from(`inst${Math.random()}`.slice(0, 8)),
        missingAfter: 100,
        batchTtl: 2000,
        maxClients: 8,
        maxBatches: 4,
        maxBatchSize: 10_000,
        tick: 10,
        clock: this.clock,
      },
      (a: CollectorAction) =>
        this.queue.push(() => {
          const c = this.clients.get(a.route.toString());
          if (c && this.collectorUp) c.onCollector(wire(a.message));
        }),
    );
    this.collector.start();
    this.collectorUp = true;
  }

  addClient(id: string): ClientCore {
    const core = new ClientCore(
      {
        clientId: id,
        instance: Buffer.from(id.padEnd(8, "x").slice(0, 8)),
        heartbeatInterval: 50,
        liveness: 3,
        resendTimeout: 500,
        maxBatches: 4,
        maxBatchSize: 10_000,
        clock: this.clock,
      },
      (a: ClientAction) =>
        this.queue.push(() => {
          if (this.clients.get(id) === core) this.fromClient(id, a);
        }),
    );
    this.clients.set(id, core);
    core.start();
    // every worker announces itself to every client
    for (const w of this.workers) this.credit_(w, core);
    return core;
  }

  addWorker(): FakeWorker {
    const w: FakeWorker = {
      route: Buffer.from(`w${this.workers.length}`),
      links: new Map(),
      inbox: [],
      alive: true,
      executed: 0,
    };
    this.workers.push(w);
    for (const c of this.clients.values()) this.credit_(w, c);
    return w;
  }

  link(w: FakeWorker, client: string): FakeLink {
    let l = w.links.get(client);
    if (!l)
      w.links.set(
        client,
        (l = { rx: new CreditReceiver({ window: this.credit }), session: undefined }),
      );
    return l;
  }

  credit_(w: FakeWorker, c: ClientCore): void {
    const l = this.link(w, [...this.clients].find(([, v]) => v === c)![0]);
    const m = wire({
      command: "CREDIT",
      instance: l.session ?? Buffer.alloc(0),
      limit: l.rx.limit,
      window: l.rx.window,
    });
    this.queue.push(() => c.onWorker(w.route, m));
  }

  fromClient(id: string, a: ClientAction): void {
    const m = wire(a.message);
    if (a.to === "collector") {
      if (this.collectorUp) this.collector.onClient(Buffer.from(id), m);
      return;
    }
    const w = this.workers.find((x) => x.route.equals(a.route));
    if (!w || !w.alive) return;
    const l = this.link(w, id);
    if ((m.command === "TASK" || m.command === "HEARTBEAT") && !l.session?.equals(m.instance)) {
      l.session = Buffer.from(m.instance);
      l.rx.reset();
      this.credit_(w, this.clients.get(id)!);
    }
    if (m.command === "TASK") {
      const bytes = m.payloads.reduce((n, p) => n + p.length + TASK_OVERHEAD, 0);
      expect(l.rx.receive(m.seq, bytes)).not.toBe("overrun");
      m.tasks.forEach((task, i) =>
        w.inbox.push({
          client: id,
          clientId: m.clientId,
          batch: m.batch,
          task,
          payload: m.payloads[i]!,
        }),
      );
    }
  }

  /** Each live worker runs the tasks it holds. */
  work(perWorker = Infinity): void {
    for (const w of this.workers) {
      if (!w.alive) continue;
      let n = 0;
      while (w.inbox.length > 0 && n++ < perWorker) {
        const t = w.inbox.shift()!;
        const client = t.client;
        w.executed++;
        const result = wire({
          command: "RESULT",
          clientId: t.clientId,
          batch: t.batch,
          tasks: [t.task],
          payloads: [Buffer.concat([Buffer.from("r:"), t.payload])],
        });
        if (this.dropResults > 0) this.dropResults--;
        else if (this.collectorUp) this.queue.push(() => this.collector.onResult(result));
        const l = this.link(w, client);
        l.rx.consume(t.payload.length + TASK_OVERHEAD);
        const c = this.clients.get(client);
        if (l.rx.shouldGrant() && c) {
          l.rx.grant();
          this.credit_(w, c);
        }
      }
    }
  }

  flush(): void {
    for (let i = 0; i < 1_000_000 && this.queue.length > 0; i++) this.queue.shift()!();
  }

  /** Runs until `until()` or the time budget ends: flush, work, advance 10 ms. */
  run(until: () => boolean, budget = 30_000): void {
    const end = this.clock.now() + budget;
    while (!until() && this.clock.now() < end) {
      this.flush();
      this.work();
      this.flush();
      // live workers heartbeat
      for (const w of this.workers)
        if (w.alive) for (const c of this.clients.values()) this.credit_(w, c);
      this.clock.advance(10);
    }
    this.flush();
  }
}

const tasks = (n: number) =>
  Array.from({ length: n }, (_, i) => Buffer.from(`t${String(i).padStart(6, "0")}`));

async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

describe("pipeline cores on a ManualClock", () => {
  test("a batch completes with every result exactly once; the collector frees it", async () => {
    const sim = new Sim(3);
    const client = sim.addClient("c1");
    const batch = client.submit(tasks(200));
    sim.run(() => client.pending === 0);
    const results = await batch.done;
    expect(results).toHaveLength(200);
    results.forEach((r, i) => expect(r.toString()).toBe(`r:t${String(i).padStart(6, "0")}`));
    sim.flush();
    expect(sim.collector.stats()).toMatchObject({ batches: 0, delivered: 200 });
    expect(client.stats()).toMatchObject({ completed: 1, duplicateResults: 0, batches: 0 });
  });

  test("no worker ever holds more than its credit", () => {
    const sim = new Sim(2);
    const client = sim.addClient("c1");
    client.submit(tasks(500));
    for (let i = 0; i < 20; i++) {
      sim.flush();
      for (const w of sim.workers)
        expect(sim.link(w, "c1").rx.held).toBeLessThanOrEqual(sim.credit);
      sim.work(3);
      sim.clock.advance(10);
    }
  });

  test("a worker that dies holding tasks: its tasks are re-queued after the liveness window, not one timeout per task", async () => {
    const sim = new Sim(2);
    const client = sim.addClient("c1");
    const lost: number[] = [];
    client.on("worker:lost", (e) => lost.push(e.requeued));
    const batch = client.submit(tasks(100));
    sim.flush();
    sim.workers[0]!.alive = false; // holds up to its credit, never answers again
    const t0 = sim.clock.now();
    let doneAt = 0;
    client.on("batch:done", () => (doneAt = sim.clock.now()));
    sim.run(() => doneAt > 0);
    expect((await batch.done).length).toBe(100);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeGreaterThan(0);
    expect(lost[0]).toBeLessThanOrEqual(10); // at most the credit: 10 tasks
    expect(doneAt - t0).toBeLessThan(500); // liveness 3 × 50 ms, well before resendTimeout
  });

  test("results lost before the collector: it asks for exactly the missing numbers", async () => {
    const sim = new Sim(1, 1000 * (8 + TASK_OVERHEAD));
    const client = sim.addClient("c1");
    const asked: number[][] = [];
    const resends: string[] = [];
    client.on("batch:resend", (e) => resends.push(e.reason));
    const batch = client.submit(tasks(50));
    sim.dropResults = 5; // the first five results vanish
    const orig = client.onCollector.bind(client);
    client.onCollector = (m) => {
      if (m.command === "MISSING") asked.push(m.tasks);
      orig(m);
    };
    sim.run(() => client.pending === 0);
    expect((await batch.done).length).toBe(50);
    expect(asked[0]).toEqual([0, 1, 2, 3, 4]);
    expect(resends).toEqual(["missing"]);
  });

  test("duplicate results (a task run twice) reach the application once", async () => {
    const sim = new Sim(1);
    const client = sim.addClient("c1");
    const batch = client.submit(tasks(20));
    sim.flush();
    // a worker re-runs every task it holds: copy its inbox
    sim.workers[0]!.inbox.push(...sim.workers[0]!.inbox.slice());
    sim.run(() => client.pending === 0);
    expect((await batch.done).length).toBe(20);
    expect(sim.collector.stats().duplicates).toBeGreaterThan(0);
    expect(client.stats().results).toBe(20);
  });

  test("a restarted collector costs a resend, never a wrong result", async () => {
    const sim = new Sim(2);
    const client = sim.addClient("c1");
    const reasons: string[] = [];
    client.on("batch:resend", (e) => reasons.push(e.reason));
    const batch = client.submit(tasks(300));
    sim.run(() => client.stats().results >= 100, 1000);
    sim.collectorUp = false;
    sim.run(() => false, 200); // down for a while: results are lost
    sim.startCollector();
    sim.run(() => client.pending === 0);
    const results = await batch.done;
    results.forEach((r, i) => expect(r.toString()).toBe(`r:t${String(i).padStart(6, "0")}`));
    expect(reasons).toContain("restart");
  });

  test("several clients share workers and collector without mixing results", async () => {
    const sim = new Sim(3);
    const a = sim.addClient("ca");
    const b = sim.addClient("cb");
    const ba = a.submit(tasks(100).map((t) => Buffer.concat([Buffer.from("A"), t])));
    const bb = b.submit(tasks(100).map((t) => Buffer.concat([Buffer.from("B"), t])));
    sim.run(() => a.pending + b.pending === 0);
    expect((await ba.done).every((r) => r.toString().startsWith("r:A"))).toBe(true);
    expect((await bb.done).every((r) => r.toString().startsWith("r:B"))).toBe(true);
    expect(ba.id).toBe(bb.id); // same batch number, different clients: kept apart
  });

  test("a client killed mid-batch: the collector frees its batch after batchTtl", () => {
    const sim = new Sim(1);
    const client = sim.addClient("gone");
    client.submit(tasks(1000));
    sim.run(() => false, 100);
    expect(sim.collector.stats().batches).toBe(1);
    expect(sim.collector.stats().stateBytes).toBe(125);
    sim.clients.delete("gone"); // nothing more from it, as after a kill -9
    client.close();
    sim.run(() => sim.collector.stats().batches === 0, 5000);
    expect(sim.collector.stats()).toMatchObject({
      batches: 0,
      clients: 0,
      stateBytes: 0,
      expired: 1,
    });
  });

  test("budget, abort and bounds reject with typed errors", async () => {
    const sim = new Sim(0);
    const client = sim.addClient("c1");
    const timed = client.submit(tasks(3), { timeout: 100 });
    sim.run(() => false, 200);
    const t = await settle(timed.done);
    expect(isZgError(t.error, "ZG_TIMEOUT")).toBe(true);

    const ac = new AbortController();
    const aborted = client.submit(tasks(3), { signal: ac.signal });
    ac.abort();
    expect(isZgError((await settle(aborted.done)).error, "ZG_ABORTED")).toBe(true);

    for (let i = 0; i < 4; i++) client.submit(tasks(1));
    expect(() => client.submit(tasks(1))).toThrow(expect.objectContaining({ code: "ZG_OVERFLOW" }));
    expect(() => client.submit([])).toThrow(
      expect.objectContaining({ code: "ZG_INVALID_ARGUMENT" }),
    );
    client.close();
    expect(() => client.submit(tasks(1))).toThrow(expect.objectContaining({ code: "ZG_CLOSED" }));
  });

  test("a batch the collector refuses rejects at once with ZG_OVERFLOW naming the bound", async () => {
    const sim = new Sim(1);
    const client = sim.addClient("c1");
    const batch = client.submit(tasks(5));
    client.onCollector({ command: "REFUSED", batch: batch.id, reason: "maxBatches" });
    await expect(batch.done).rejects.toMatchObject({
      code: "ZG_OVERFLOW",
      details: { bound: "maxBatches" },
    });
    expect(client.stats()).toMatchObject({ failed: 1, batches: 0 });
  });

  test("the collector refuses STARTs beyond its bounds and says UNKNOWN to an END it does not hold", () => {
    const out: CollectorAction[] = [];
    const c = new CollectorCore(
      {
        instance: Buffer.alloc(8),
        missingAfter: 100,
        batchTtl: 1000,
        maxClients: 1,
        maxBatches: 1,
        maxBatchSize: 10,
        tick: 10,
        clock: new ManualClock(),
      },
      (a) => out.push(a),
    );
    const r = Buffer.from("r");
    c.onClient(r, { command: "START", clientId: "a", batch: 1, size: 11 });
    c.onClient(r, { command: "START", clientId: "a", batch: 1, size: 10 });
    c.onClient(r, { command: "START", clientId: "a", batch: 2, size: 10 });
    c.onClient(r, { command: "START", clientId: "b", batch: 1, size: 10 });
    expect(c.stats()).toMatchObject({ refused: 3, batches: 1 });
    expect(out.filter((x) => x.message.command === "REFUSED").map((x) => x.message)).toEqual([
      { command: "REFUSED", batch: 1, reason: "maxBatchSize" },
      { command: "REFUSED", batch: 2, reason: "maxBatches" },
      { command: "REFUSED", batch: 1, reason: "maxClients" },
    ]);
    c.onClient(r, { command: "END", clientId: "a", batch: 9, size: 10 });
    expect(out.at(-1)?.message).toEqual({ command: "UNKNOWN", batch: 9 });
    c.onResult({
      command: "RESULT",
      clientId: "zz",
      batch: 1,
      tasks: [0],
      payloads: [Buffer.alloc(0)],
    });
    expect(c.stats().orphans).toBe(1);
  });
});
