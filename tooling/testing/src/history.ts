import { appendFileSync } from "node:fs";
import { percentiles } from "./wait.js";

/** One history event (reliability-battery.md §2.1). */
export interface HistoryEvent {
  /** `invoke` (attempted), `ok` (acknowledged), `fail` (definitely failed), `info` (outcome unknown), `deliver` (seen by the application/consumer). */
  kind: "invoke" | "ok" | "fail" | "info" | "deliver";
  /** The request/item id. */
  id: string;
  /** Which client/process recorded it. */
  process: string;
  /** `performance.now()` when recorded. */
  at: number;
  /** Optional detail (error code, value). */
  detail?: string;
}

/**
 * A client's own record of what it attempted, what was acknowledged and what
 * it received, as in Jepsen. Checks are computed from these records, never
 * from counters inside the system under test. Optionally appended to a JSONL file.
 */
export class History {
  readonly events: HistoryEvent[] = [];
  readonly #file: string | undefined;

  constructor(file?: string) {
    this.#file = file;
  }

  #add(kind: HistoryEvent["kind"], id: string, process: string, detail?: string): void {
    const e: HistoryEvent = {
      kind,
      id,
      process,
      at: performance.now(),
      ...(detail === undefined ? {} : { detail }),
    };
    this.events.push(e);
    if (this.#file !== undefined) appendFileSync(this.#file, `${JSON.stringify(e)}\n`);
  }

  invoke(id: string, process = "client"): void {
    this.#add("invoke", id, process);
  }
  ok(id: string, process = "client", detail?: string): void {
    this.#add("ok", id, process, detail);
  }
  fail(id: string, process = "client", detail?: string): void {
    this.#add("fail", id, process, detail);
  }
  info(id: string, process = "client", detail?: string): void {
    this.#add("info", id, process, detail);
  }
  deliver(id: string, process = "consumer", detail?: string): void {
    this.#add("deliver", id, process, detail);
  }

  /** Merges several histories (one per client) into one. */
  static merge(...histories: History[]): History {
    const h = new History();
    for (const x of histories) h.events.push(...x.events);
    h.events.sort((a, b) => a.at - b.at);
    return h;
  }
}

/** What {@link checkHistory} finds. Every set is a sorted list of ids. */
export interface HistoryReport {
  attempted: number;
  acked: number;
  failed: number;
  delivered: number;
  /** acked but never delivered, split by where in the run they were invoked. */
  lost: { prefix: string[]; middle: string[]; postfix: string[]; total: number };
  /** delivered more than once. */
  duplicated: string[];
  /** acked more than once (the client application saw two answers). */
  duplicateAcks: string[];
  /** delivered but never attempted. */
  unexpected: string[];
  /** delivered although not acked (the client gave up, but it happened). */
  recovered: string[];
  /** invoke → ok latency (ms). */
  latency: { count: number; p50: number; p99: number; max: number; min: number };
}

/**
 * The checker (reliability-battery.md §2.1): from a history, computes lost,
 * duplicated, unexpected and recovered ids and latency percentiles. Pass
 * `delivered: "acks"` when acknowledgement *is* delivery (request-reply: the
 * client's own reply is the delivery).
 */
export function checkHistory(
  history: History,
  { delivered = "deliver" }: { delivered?: "deliver" | "acks" } = {},
): HistoryReport {
  const invokedAt = new Map<string, number>();
  const ackCount = new Map<string, number>();
  const failed = new Set<string>();
  const deliverCount = new Map<string, number>();
  const latencies: number[] = [];
  for (const e of history.events) {
    switch (e.kind) {
      case "invoke":
        if (!invokedAt.has(e.id)) invokedAt.set(e.id, e.at);
        break;
      case "ok": {
        ackCount.set(e.id, (ackCount.get(e.id) ?? 0) + 1);
        const t0 = invokedAt.get(e.id);
        if (t0 !== undefined && ackCount.get(e.id) === 1) latencies.push(e.at - t0);
        if (delivered === "acks") deliverCount.set(e.id, (deliverCount.get(e.id) ?? 0) + 1);
        break;
      }
      case "fail":
        failed.add(e.id);
        break;
      case "deliver":
        if (delivered === "deliver") deliverCount.set(e.id, (deliverCount.get(e.id) ?? 0) + 1);
        break;
      case "info":
        break;
    }
  }
  const order = [...invokedAt.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  const third = Math.ceil(order.length / 3);
  const position = new Map(order.map((id, i) => [id, i]));
  const lost = {
    prefix: [] as string[],
    middle: [] as string[],
    postfix: [] as string[],
    total: 0,
  };
  for (const id of ackCount.keys()) {
    if (deliverCount.has(id)) continue;
    const p = position.get(id) ?? 0;
    (p < third ? lost.prefix : p < 2 * third ? lost.middle : lost.postfix).push(id);
    lost.total++;
  }
  const sorted = (xs: Iterable<string>): string[] => [...xs].sort();
  return {
    attempted: invokedAt.size,
    acked: ackCount.size,
    failed: failed.size,
    delivered: deliverCount.size,
    lost,
    duplicated: sorted([...deliverCount].filter(([, n]) => n > 1).map(([id]) => id)),
    duplicateAcks: sorted([...ackCount].filter(([, n]) => n > 1).map(([id]) => id)),
    unexpected: sorted([...deliverCount.keys()].filter((id) => !invokedAt.has(id))),
    recovered: sorted(
      [...deliverCount.keys()].filter((id) => invokedAt.has(id) && !ackCount.has(id)),
    ),
    latency: percentiles(latencies),
  };
}
