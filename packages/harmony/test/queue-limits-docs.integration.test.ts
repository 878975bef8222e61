/**
 * Runs the examples of docs/queue-limits.md (docs/examples/queue-limits/) and
 * checks that what they print supports what the page says. Memory figures are
 * judged by relations with generous bounds, never by exact numbers.
 */
import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { runScript } from "@zg/testing";

const examples = new URL("../../../docs/examples/queue-limits/", import.meta.url);
const page = readFileSync(new URL("../../../docs/queue-limits.md", import.meta.url), "utf8");

/** The page quotes a run of each example: the same lines, figures aside. */
function expectPageQuotes(out: string): void {
  const shape = (line: string) => line.replace(/[\d.]+/g, "#").replace(/\s+/g, " ");
  const quoted = new Set(page.split("\n").map(shape));
  for (const line of out.trim().split("\n"))
    expect(quoted.has(shape(line)), `the page quotes a line like "${line}"`).toBe(true);
}

async function run(name: string): Promise<string> {
  const r = await runScript(new URL(name, examples), { timeout: 45_000 });
  expect(r.timedOut, `${name} finishes by itself:\n${r.output}`).toBe(false);
  expect(r.code, r.output).toBe(0);
  console.log(`${name} (${Math.round(r.ms)} ms):\n${r.stdout.trim()}`);
  return r.stdout;
}

/** The rows `pattern` finds in `out`, by key; the lookup fails naming a row the example did not print. */
function parse<T>(out: string, pattern: RegExp, row: (m: RegExpMatchArray) => [string, T]) {
  const rows = new Map([...out.matchAll(pattern)].map(row));
  return (key: string): T => {
    const r = rows.get(key);
    expect(r, `the example prints a row "${key}"`).toBeDefined();
    return r!;
  };
}

interface Row {
  verdict: string;
  accepted: number;
  error: string | undefined;
  delivered: number;
}

test("hwm-behaviour.ts: which socket types drop and which block at the HWM", async () => {
  const out = await run("hwm-behaviour.ts");
  expectPageQuotes(out);
  const row = parse<Row>(
    out,
    /^(.+?)\s{2,}(drops|blocks|fails|no limit hit)\s+accepted\s+(\d+)(?: then (\w+))?, delivered (\d+)$/gm,
    (m) => [m[1]!, { verdict: m[2]!, accepted: +m[3]!, error: m[4], delivered: +m[5]! }],
  );
  const HWM = 100;
  const ATTEMPTS = 20_000;

  // Drop: every send is accepted at once, fewer arrive (HWM on both sides plus the TCP buffers).
  for (const name of ["PUB -> SUB", "ROUTER -> DEALER"]) {
    const r = row(name);
    expect(r, name).toMatchObject({ verdict: "drops", accepted: ATTEMPTS, error: undefined });
    expect(r.delivered, name).toBeGreaterThanOrEqual(HWM);
    expect(r.delivered, name).toBeLessThan(ATTEMPTS / 2);
  }
  // Block: the send stops being accepted (EAGAIN after sendTimeout), and nothing accepted is lost.
  for (const name of [
    "XPUB noDrop -> SUB",
    "XPUB noDrop -> SUB, retry",
    "ROUTER mandatory -> DEALER",
    "DEALER -> ROUTER",
    "PUSH -> PULL",
    "PAIR -> PAIR",
    "PUSH -> PULL (inproc)",
  ]) {
    const r = row(name);
    expect(r, name).toMatchObject({ verdict: "blocks", error: "EAGAIN" });
    expect(r.accepted, name).toBeGreaterThanOrEqual(HWM - 1);
    expect(r.accepted, name).toBeLessThan(ATTEMPTS);
    expect(r.delivered, `${name}: every accepted message arrives`).toBe(r.accepted);
  }
  // tcp queues HWM + HWM + what the kernel buffers hold; inproc only the two HWMs.
  expect(row("PUSH -> PULL (inproc)").accepted).toBeLessThanOrEqual(2 * HWM);
  expect(row("PUSH -> PULL").accepted).toBeGreaterThan(2 * HWM);
  // A send waiting on a full XPUB noDrop is not woken when room appears; retrying later is.
  expect(row("XPUB noDrop -> SUB").accepted).toBeLessThan(
    row("XPUB noDrop -> SUB, retry").accepted / 2,
  );
  // REQ is lockstep: the second send fails, whatever the HWM.
  expect(row("REQ -> REP")).toMatchObject({ verdict: "fails", accepted: 1, error: "EFSM" });
  // REP sends only replies.
  expect(row("REP, no request")).toMatchObject({ verdict: "fails", accepted: 0, error: "EFSM" });
  // No peer yet: PUB drops, PUSH and DEALER block at once.
  expect(row("PUB, no peer yet")).toMatchObject({ verdict: "drops", accepted: ATTEMPTS });
  for (const name of ["PUSH, no peer yet", "DEALER, no peer yet"])
    expect(row(name), name).toMatchObject({ verdict: "blocks", accepted: 0, error: "EAGAIN" });
  // An unknown routing id: dropped silently, or EHOSTUNREACH with mandatory.
  expect(row("ROUTER, unknown id")).toMatchObject({ verdict: "drops", accepted: ATTEMPTS });
  expect(row("ROUTER mandatory, unknown id")).toMatchObject({
    verdict: "fails",
    accepted: 0,
    error: "EHOSTUNREACH",
  });
  // With the default sendTimeout a blocked send stays pending until the peer reads.
  const pending =
    /PUSH -> PULL, sendTimeout -1: a send was still pending after 500 ms; it settled after the PULL read (\d+) messages/.exec(
      out,
    );
  expect(pending, "the example prints the pending-send line").not.toBeNull();
  expect(Number(pending![1])).toBeGreaterThanOrEqual(1);
}, 60_000);

interface Run {
  publisher: number;
  subscriber: number;
  delivered: number;
  count: number;
  sent: number;
}

test("pub-sub-memory.ts: without an HWM memory grows by what was sent, with one it stays bounded", async () => {
  const out = await run("pub-sub-memory.ts");
  expectPageQuotes(out);
  const get = parse<Run>(
    out,
    /^HWM (\d+)\s+(not reading|frozen)\s+publisher RSS \+([\d.]+) MB, subscriber RSS \+([\d.]+) MB, delivered (\d+) of (\d+) \(([\d.]+) MB sent\)$/gm,
    (m) => [
      `${m[1]} ${m[2]}`,
      { publisher: +m[3]!, subscriber: +m[4]!, delivered: +m[5]!, count: +m[6]!, sent: +m[7]! },
    ],
  );
  for (const state of ["not reading", "frozen"]) {
    const bounded = get(`1000 ${state}`);
    const unbounded = get(`0 ${state}`);
    // With the HWM the publisher drops; without one every message is queued and arrives later.
    expect(bounded.delivered, state).toBeGreaterThanOrEqual(1000);
    expect(bounded.delivered, state).toBeLessThan(bounded.count / 2);
    expect(unbounded.delivered, state).toBe(unbounded.count);
    // Where the queue grows: the subscriber's process while its I/O thread still reads the
    // TCP socket, the publisher's when the subscriber is frozen.
    const grows = state === "frozen" ? "publisher" : "subscriber";
    expect(unbounded[grows], `${state}: ${grows} holds most of what was sent`).toBeGreaterThan(
      0.6 * unbounded.sent,
    );
    expect(bounded[grows], `${state}: ${grows} with the HWM`).toBeLessThan(unbounded[grows] / 2);
    expect(bounded.publisher + bounded.subscriber, state).toBeLessThan(
      unbounded.publisher + unbounded.subscriber,
    );
  }
}, 60_000);
