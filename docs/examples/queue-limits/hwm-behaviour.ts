/**
 * What each socket type does when its high-water mark is reached, measured
 * (docs/queue-limits.md). For each case one socket sends 1 KiB messages over
 * tcp loopback to a peer that has stopped reading, with both HWMs at 100
 * messages, until a send has not completed within 200 ms ("blocks") or
 * 20 000 sends were accepted. Then the peer reads everything that reached it.
 * A "drop" socket accepts every send and delivers fewer; a "block" socket
 * stops accepting and delivers every message it accepted.
 *
 * Run: pnpm exec tsx docs/examples/queue-limits/hwm-behaviour.ts
 */
import * as zmq from "zeromq";

const HWM = 100;
const SIZE = 1024;
const ATTEMPTS = 20_000;
const SEND_TIMEOUT = 200;
const body = Buffer.alloc(SIZE, 0x61);

type Reader = zmq.Subscriber | zmq.Router | zmq.Dealer | zmq.Pull | zmq.Pair;

interface Outcome {
  accepted: number;
  /** The error code of the first send that failed, if one did. */
  error: string | undefined;
  delivered: number;
}

const code = (e: unknown): string => (e as { code?: string }).code ?? String(e);

/** Sends until a send fails or ATTEMPTS were accepted. */
async function blast(send: () => Promise<void>): Promise<Omit<Outcome, "delivered">> {
  let accepted = 0;
  try {
    while (accepted < ATTEMPTS) {
      await send();
      accepted++;
    }
  } catch (e) {
    return { accepted, error: code(e) };
  }
  return { accepted, error: undefined };
}

/**
 * Like {@link blast} with `sendTimeout` 0, but an EAGAIN is retried after 5 ms;
 * gives up after 40 retries in a row (200 ms without room).
 */
async function blastRetrying(send: () => Promise<void>): Promise<Omit<Outcome, "delivered">> {
  let accepted = 0;
  let retries = 0;
  while (accepted < ATTEMPTS) {
    try {
      await send();
      accepted++;
      retries = 0;
    } catch (e) {
      if (code(e) !== "EAGAIN" || ++retries > 40) return { accepted, error: code(e) };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return { accepted, error: undefined };
}

/** Reads until nothing arrives for 300 ms; counts messages carrying the 1 KiB body. */
async function drain(reader: Reader): Promise<number> {
  reader.receiveTimeout = 300;
  let n = 0;
  for (;;) {
    try {
      const frames = await reader.receive();
      if (frames[frames.length - 1]?.length === SIZE) n++;
    } catch {
      return n;
    }
  }
}

const out = { linger: 0, sendHighWaterMark: HWM, sendTimeout: SEND_TIMEOUT };
const opts = { linger: 0, receiveHighWaterMark: HWM };

/** Blasts through `send`, drains `reader`, closes both. */
async function measure(
  sender: zmq.Socket,
  reader: Reader,
  send: () => Promise<void>,
  how = blast,
): Promise<Outcome> {
  try {
    const sent = await how(send);
    return { ...sent, delivered: await drain(reader) };
  } finally {
    sender.close();
    reader.close();
  }
}

/** Sends without any peer connected: what happens before anyone is there. */
async function alone(sender: zmq.Socket, send: () => Promise<void>): Promise<Outcome> {
  await sender.bind("tcp://127.0.0.1:*");
  try {
    return { ...(await blast(send)), delivered: 0 };
  } finally {
    sender.close();
  }
}

/** Binds one side on an ephemeral tcp port and connects the other to it. */
async function connected(
  sender: zmq.Socket,
  reader: zmq.Socket,
  bindSender = false,
  endpoint = "tcp://127.0.0.1:*",
): Promise<void> {
  const [bound, other] = bindSender ? [sender, reader] : [reader, sender];
  await bound.bind(endpoint);
  other.connect(bound.lastEndpoint!);
}

/** Sends probes until the reader has received one (connection and subscription are up). */
async function probeUntilReceived(sendProbe: () => Promise<void>, reader: Reader): Promise<void> {
  reader.receiveTimeout = 20;
  for (;;) {
    await sendProbe();
    try {
      await reader.receive();
      return;
    } catch {
      /* not yet */
    }
  }
}

type Case = [string, () => Promise<Outcome>];

/** A sender connected to a bound reader, single-frame sends. */
const straight = (
  name: string,
  makeSender: () => zmq.Socket & zmq.Writable,
  makeReader: () => Reader,
  endpoint?: string,
): Case => [
  name,
  async () => {
    const sender = makeSender();
    const reader = makeReader();
    await connected(sender, reader, false, endpoint);
    await probeUntilReceived(() => sender.send("probe"), reader);
    return measure(sender, reader, () => sender.send(body));
  },
];

const cases: Case[] = [
  [
    "PUB -> SUB",
    async () => {
      const pub = new zmq.Publisher(out);
      const sub = new zmq.Subscriber(opts);
      sub.subscribe();
      await connected(pub, sub, true);
      await probeUntilReceived(() => pub.send("probe"), sub);
      return measure(pub, sub, () => pub.send(body));
    },
  ],
  ...[false, true].map((retry): Case => [
    `XPUB noDrop -> SUB${retry ? ", retry" : ""}`,
    async () => {
      const pub = new zmq.XPublisher({
        ...out,
        noDrop: true,
        sendTimeout: retry ? 0 : SEND_TIMEOUT,
      });
      const sub = new zmq.Subscriber(opts);
      sub.subscribe();
      await connected(pub, sub, true);
      await pub.receive(); // the subscription
      await probeUntilReceived(() => pub.send("probe"), sub);
      return measure(pub, sub, () => pub.send(body), retry ? blastRetrying : blast);
    },
  ]),
  ...[false, true].map((mandatory): Case => [
    `ROUTER${mandatory ? " mandatory" : ""} -> DEALER`,
    async () => {
      const router = new zmq.Router({ ...out, mandatory });
      const dealer = new zmq.Dealer(opts);
      await connected(router, dealer, true);
      await dealer.send("hello");
      const [id] = await router.receive();
      await probeUntilReceived(() => router.send([id!, "probe"]), dealer);
      return measure(router, dealer, () => router.send([id!, body]));
    },
  ]),
  straight(
    "DEALER -> ROUTER",
    () => new zmq.Dealer(out),
    () => new zmq.Router(opts),
  ),
  straight(
    "PUSH -> PULL",
    () => new zmq.Push(out),
    () => new zmq.Pull(opts),
  ),
  straight(
    "PAIR -> PAIR",
    () => new zmq.Pair(out),
    () => new zmq.Pair(opts),
  ),
  straight(
    "PUSH -> PULL (inproc)",
    () => new zmq.Push(out),
    () => new zmq.Pull(opts),
    "inproc://queue-limits",
  ),
  [
    "REQ -> REP",
    async () => {
      const req = new zmq.Request(out);
      const rep = new zmq.Reply(opts);
      await connected(req, rep);
      return measure(req, rep, () => req.send(body));
    },
  ],
  [
    "REP, no request",
    () => {
      const rep = new zmq.Reply(out);
      return alone(rep, () => rep.send(body));
    },
  ],
  ...(["Publisher", "Push", "Dealer"] as const).map((type): Case => [
    `${type.toUpperCase().replace("PUBLISHER", "PUB")}, no peer yet`,
    () => {
      const s = new zmq[type](out);
      return alone(s, () => s.send(body));
    },
  ]),
  ...[false, true].map((mandatory): Case => [
    `ROUTER${mandatory ? " mandatory" : ""}, unknown id`,
    () => {
      const router = new zmq.Router({ ...out, mandatory });
      return alone(router, () => router.send(["nobody", body]));
    },
  ]),
];

console.log(`HWM ${HWM} messages each side, ${SIZE}-byte messages, tcp loopback, peer not reading`);
for (const [name, run] of cases) {
  const r = await run();
  const verdict =
    r.error === undefined
      ? r.delivered < r.accepted
        ? "drops"
        : "no limit hit"
      : r.error === "EAGAIN"
        ? "blocks"
        : "fails";
  console.log(
    `${name.padEnd(30)} ${verdict.padEnd(6)} accepted ${String(r.accepted).padStart(5)}` +
      `${r.error === undefined ? "" : ` then ${r.error}`}, delivered ${r.delivered}`,
  );
}

/**
 * With the default `sendTimeout` (-1) "blocks" means the `await send()` does
 * not settle; only one send may be pending per socket, so the socket stalls
 * until the peer reads.
 */
async function pendingSend(): Promise<void> {
  const push = new zmq.Push({ linger: 0, sendHighWaterMark: HWM });
  const pull = new zmq.Pull(opts);
  try {
    await connected(push, pull);
    await probeUntilReceived(() => push.send("probe"), pull);
    pull.receiveTimeout = -1;
    for (;;) {
      const sending = push.send(body);
      const pending = await Promise.race([
        sending.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 500)),
      ]);
      if (!pending) continue;
      let settled = false;
      void sending.then(() => (settled = true));
      let read = 0;
      while (!settled) {
        await pull.receive();
        read++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      console.log(
        `PUSH -> PULL, sendTimeout -1: a send was still pending after 500 ms; ` +
          `it settled after the PULL read ${read} messages`,
      );
      return;
    }
  } finally {
    push.close();
    pull.close();
  }
}
await pendingSend();
