/**
 * @zg/secure-pubsub benchmark (all figures from one process, same run).
 *
 * 1. End-to-end encrypted pub-sub (SecureTopicClient → SecurePubSubBroker →
 *    SecureTopicClient, signed batches of BATCH messages) at 64 B and 1 KiB,
 *    against the ceiling = raw PUB→SUB combined with the secretbox seal and
 *    open rates measured in the same run (1 / (1/raw + 1/seal + 1/open), since
 *    all three share one core here). Target ≥ 0.8. Also against raw PUB→SUB
 *    over CURVE (transport encryption only).
 * 2. Signatures: seal+open rate with a signature per message vs per batch.
 * 3. Login (HELLO + LOGIN on BrokerCore) and token verifications per second.
 * 4. Rotation cost with 100 and 1000 members.
 *
 * Run: pnpm --filter @zg/secure-pubsub bench
 */
import * as zmq from "zeromq";
import nacl from "tweetnacl";
import { BenchSuite } from "@zg/testing/bench";
import {
  BrokerCore,
  decodeBroker,
  E2ESession,
  encodeClient,
  generateCertificate,
  issueToken,
  KeyService,
  KeyServiceCore,
  loginTranscript,
  SecurePubSubBroker,
  SecureTopicClient,
  signingKeyPair,
  verifyToken,
  z85Encode,
} from "../src/index.js";
import { ed25519Sign } from "../src/crypto.js";

const N = Number(process.env["ZG_BENCH_MESSAGES"] ?? 20_000);
const BATCH = Number(process.env["ZG_BENCH_BATCH"] ?? 64);
const suite = new BenchSuite("@zg/secure-pubsub");
const issuerCert = generateCertificate();
const issuerKey = z85Encode(signingKeyPair(issuerCert.secretKey as string).publicKey);
const identity = (grants: { publish?: string[]; subscribe?: string[] }) => {
  const c = generateCertificate();
  const secretKey = c.secretKey as string;
  const token = issueToken(issuerCert.secretKey as string, {
    id: `t${Math.random()}`,
    key: z85Encode(signingKeyPair(secretKey).publicKey),
    curve: c.publicKey,
    publish: grants.publish ?? [],
    subscribe: grants.subscribe ?? [],
    expires: Date.now() + 3_600_000,
  });
  return { secretKey, token, cert: c };
};
const rate = (n: number, ms: number) => (n * 1000) / ms;

async function rawPubSub(size: number, curve: boolean): Promise<number> {
  const server = generateCertificate();
  const client = generateCertificate();
  const pub = new zmq.Publisher({
    linger: 0,
    sendHighWaterMark: N * 2,
    ...(curve ? { curveServer: true, curveSecretKey: server.secretKey as string } : {}),
  });
  const sub = new zmq.Subscriber({
    linger: 0,
    receiveHighWaterMark: N * 2,
    ...(curve
      ? {
          curveServerKey: server.publicKey,
          curveSecretKey: client.secretKey as string,
          curvePublicKey: client.publicKey,
        }
      : {}),
  });
  await pub.bind("tcp://127.0.0.1:*");
  sub.connect(pub.lastEndpoint as string);
  sub.subscribe();
  const payload = Buffer.alloc(size, 1);
  let warm = false;
  let t0 = 0;
  const done = (async () => {
    let n = 0;
    while (n < N) {
      const [t] = await sub.receive();
      if (String(t) === "t") n++;
      else warm = true;
    }
  })();
  // wait for the subscription to arrive (one reader: zeromq.js allows one pending receive)
  while (!warm) {
    await pub.send(["warm", payload]);
    await new Promise((r) => setTimeout(r, 20));
  }
  t0 = performance.now();
  for (let i = 0; i < N; i++) await pub.send(["t", payload]);
  await done;
  const ms = performance.now() - t0;
  pub.close();
  sub.close();
  return rate(N, ms);
}

function sealOpenRates(size: number): { seal: number; open: number } {
  const key = nacl.randomBytes(32);
  const p = new Uint8Array(size);
  const boxes: { n: Uint8Array; b: Uint8Array }[] = [];
  let t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const n = nacl.randomBytes(24);
    boxes.push({ n, b: nacl.secretbox(p, n, key) });
  }
  const seal = rate(N, performance.now() - t0);
  t0 = performance.now();
  for (const x of boxes) if (!nacl.secretbox.open(x.b, x.n, key)) throw new Error("open failed");
  return { seal, open: rate(N, performance.now() - t0) };
}

async function e2e(size: number): Promise<number> {
  const service = generateCertificate();
  const broker = new SecurePubSubBroker({ issuers: [issuerKey], sendHighWaterMark: 1_000_000 });
  const [b] = (await broker.start()).endpoints;
  const keys = new KeyService({ secretKey: service.secretKey as string, issuers: [issuerKey] });
  const [k] = (await keys.start()).endpoints;
  const mk = async (grants: { publish?: string[]; subscribe?: string[] }) => {
    const id = identity(grants);
    const c = new SecureTopicClient({
      broker: b as string,
      keyService: k as string,
      secretKey: id.secretKey,
      token: id.token,
      servicePublicKey: service.publicKey,
      issuers: [issuerKey],
      reportEvery: 1e9,
    });
    await c.start();
    return c;
  };
  const pub = await mk({ publish: ["t"] });
  const sub = await mk({ subscribe: ["t"] });
  await sub.subscribe("t");
  let got = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  sub.on("message:decrypted", () => {
    if (++got === N) resolve();
  });
  const payloads = Array.from({ length: BATCH }, () => new Uint8Array(size));
  await pub.publish("t", payloads.slice(0, 1), { ack: true }); // warm: keys fetched, route ready
  got = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    await pub.publish("t", payloads.slice(0, Math.min(BATCH, N - i)));
    if ((i / BATCH) % 16 === 0) await new Promise((r) => setImmediate(r));
  }
  await done;
  const ms = performance.now() - t0;
  await pub.close();
  await sub.close();
  await keys.close();
  await broker.close();
  return rate(N, ms);
}

for (const size of [64, 1024]) {
  let ceilingParts = { raw: 0, seal: 0, open: 0 };
  await suite.compare({
    name: `e2e encrypted pub-sub ${size} B (batch ${BATCH}) vs ceiling`,
    unit: "msg/s",
    target: 0.8,
    baseline: async () => {
      const raw = await rawPubSub(size, false);
      const { seal, open } = sealOpenRates(size);
      ceilingParts = { raw, seal, open };
      return 1 / (1 / raw + 1 / seal + 1 / open);
    },
    subject: () => e2e(size),
    extra: () => ({
      rawPubSub: Math.round(ceilingParts.raw),
      seal: Math.round(ceilingParts.seal),
      open: Math.round(ceilingParts.open),
    }),
  });
  await suite.compare({
    name: `e2e encrypted pub-sub ${size} B vs plain CURVE PUB→SUB`,
    unit: "msg/s",
    baseline: () => rawPubSub(size, true),
    subject: () => e2e(size),
  });
}

// Per-message vs per-batch signatures (pure seal + open, 64 B).
{
  const service = generateCertificate();
  const core = new KeyServiceCore({ secretKey: service.secretKey as string, issuers: [issuerKey] });
  const mk = (g: { publish?: string[]; subscribe?: string[] }) => {
    const id = identity(g);
    const s = new E2ESession({
      secretKey: id.secretKey,
      token: id.token,
      servicePublicKey: service.publicKey,
      issuers: [issuerKey],
    });
    const a = core.request(id.token, "t");
    if (a.code !== 200) throw new Error("key request refused");
    for (const x of a.bundles) s.addBundle(x);
    return s;
  };
  const pub = mk({ publish: ["t"] });
  const sub = mk({ subscribe: ["t"] });
  const run = (batch: number) => (): Promise<number> => {
    const M = Math.min(N, batch === 1 ? 2000 : N);
    const p = Array.from({ length: batch }, () => new Uint8Array(64));
    const t0 = performance.now();
    for (let i = 0; i < M; i += batch) {
      const r = sub.open(pub.seal("t", p));
      if (!r.ok) throw new Error(`open refused: ${r.reason}`);
    }
    return Promise.resolve(rate(M, performance.now() - t0));
  };
  await suite.compare({
    name: `signatures: per batch of ${BATCH} vs per message (seal+open, 64 B)`,
    unit: "msg/s",
    baseline: run(1),
    subject: run(BATCH),
  });
}

// Logins and token verifications per second.
{
  const ids = Array.from({ length: 200 }, () => identity({ subscribe: ["t"] }));
  const tVerify = performance.now();
  let v = 0;
  for (let r = 0; r < 5; r++)
    for (const id of ids)
      if (verifyToken(id.token, { issuers: new Set([issuerKey]), now: Date.now() }).ok) v++;
  suite.record({
    name: "token verifications",
    unit: "ops/s",
    value: rate(v, performance.now() - tVerify),
  });
  let out: Buffer[] = [];
  const core = new BrokerCore({
    issuers: [issuerKey],
    send: (_id, frames) => (out = frames.map((f) => Buffer.from(f))),
  });
  const t0 = performance.now();
  let ok = 0;
  ids.forEach((id, i) => {
    const rid = Buffer.from(`c${i}`);
    core.handle([
      rid,
      ...encodeClient({ cmd: "hello", requestId: Buffer.from("1") }).map((f) => Buffer.from(f)),
    ]);
    const ch = decodeBroker(out);
    if (ch.cmd !== "challenge") throw new Error("no challenge");
    const sig = ed25519Sign(
      loginTranscript(ch.nonce, nacl.hash(id.token)),
      signingKeyPair(id.secretKey).secretKey,
    );
    core.handle([
      rid,
      ...encodeClient({
        cmd: "login",
        requestId: Buffer.from("2"),
        token: Buffer.from(id.token),
        signature: Buffer.from(sig),
      }).map((f) => Buffer.from(f)),
    ]);
    const st = decodeBroker(out);
    if (st.cmd === "status" && st.code === 200) ok++;
  });
  suite.record({
    name: "logins (HELLO+LOGIN, client signing included)",
    unit: "ops/s",
    value: rate(ok, performance.now() - t0),
  });
  core.close();
}

// Rotation cost.
for (const members of [100, 1000]) {
  const service = generateCertificate();
  const core = new KeyServiceCore({ secretKey: service.secretKey as string, issuers: [issuerKey] });
  const ids = Array.from({ length: members }, () => identity({ subscribe: ["t"] }));
  for (const id of ids) core.request(id.token, "t");
  const t0 = performance.now();
  const rounds = 10;
  for (let i = 0; i < rounds; i++) core.rotate("t", "manual");
  suite.record({
    name: `rotation with ${members} members (new key wrapped to each)`,
    unit: "ms",
    value: (performance.now() - t0) / rounds,
  });
}

suite.finish();
