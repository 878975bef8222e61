import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as zmq from "zeromq";
import { expect, test } from "vitest";
import { closeAfter, tempDir, waitFor } from "@zg/testing";
import {
  formatCertificate,
  generateCertificate,
  KeyService,
  SecurePubSubBroker,
  SecureTopicClient,
  ZapHandler,
} from "../src/index.js";
import { testIssuer } from "./helpers/identities.js";

test("e2e over Ironhouse: recorded broker traffic holds no plaintext; a revoked member decrypts 0 of the next epoch; stayers lose nothing", async () => {
  const context = new zmq.Context();
  const issuer = testIssuer();
  const allow = tempDir("zg-allow-");
  const zap = closeAfter(new ZapHandler({ context, allow }));
  await zap.start();
  const brokerCert = generateCertificate();
  const serviceCert = generateCertificate();
  const recorded: Buffer[] = [];
  const broker = closeAfter(
    new SecurePubSubBroker({
      context,
      issuers: [issuer.signKey],
      curve: { handler: zap, secretKey: brokerCert.secretKey as string, domain: "pubsub" },
      tap: (_dir, frames) => {
        for (const f of frames) recorded.push(Buffer.from(f));
      },
    }),
  );
  const [brokerEp] = (await broker.start()).endpoints;
  const keys = closeAfter(
    new KeyService({
      context,
      secretKey: serviceCert.secretKey as string,
      issuers: [issuer.signKey],
      curve: { handler: zap, domain: "keys" },
    }),
  );
  const [keysEp] = (await keys.start()).endpoints;
  const member = async (grants: { publish?: string[]; subscribe?: string[] }) => {
    const ident = issuer.identity(grants);
    writeFileSync(join(allow, `${ident.tokenId}.key`), formatCertificate(ident.cert));
    zap.reload();
    const c = closeAfter(
      new SecureTopicClient({
        broker: brokerEp as string,
        keyService: keysEp as string,
        secretKey: ident.secretKey,
        token: ident.token,
        servicePublicKey: serviceCert.publicKey,
        brokerServerKey: brokerCert.publicKey,
        keyServiceCurve: true,
        issuers: [issuer.signKey],
        requestTimeout: 3000,
      }),
    );
    const got: string[] = [];
    c.on("message:decrypted", (m) => got.push(Buffer.from(m.payload).toString()));
    await c.start();
    return { ident, c, got };
  };
  const pub = await member({ publish: ["secret/t"] });
  const stay = [
    await member({ subscribe: ["secret/t"] }),
    await member({ subscribe: ["secret/t"] }),
  ];
  const gone = await member({ subscribe: ["secret/t"] });
  for (const s of [...stay, gone]) await s.c.subscribe("secret/t");
  const payload = (i: number) => `plaintext-payload-${i}-PLAIN`;
  for (let i = 0; i < 20; i++) await pub.c.publish("secret/t", [Buffer.from(payload(i))]);
  await waitFor(() => stay.every((s) => s.got.length === 20) && gone.got.length === 20, {
    what: "20 messages at every member",
  });

  // Revoke one member at the key service: mandatory rotation, pushed to the others.
  const rotated = pub.c.keys.next("epoch:received");
  const [r] = keys.revoke({ tokenId: gone.ident.tokenId });
  expect(r?.epoch).toBe(2);
  await rotated;
  for (let i = 20; i < 40; i++)
    await pub.c.publish("secret/t", [Buffer.from(payload(i))], { ack: i === 39 });
  await waitFor(() => stay.every((s) => s.got.length === 40), {
    what: "40 messages at the members that stay",
  });
  await waitFor(() => gone.c.stats().rejected >= 20, {
    what: "the revoked member rejects the new epoch",
  });

  const capture = Buffer.concat(recorded).toString("latin1");
  const leaked = Array.from({ length: 40 }, (_, i) => payload(i)).filter((p) =>
    capture.includes(p),
  ).length;
  console.log(
    `e2e: capture ${capture.length} bytes, plaintexts found ${leaked}; revoked decrypted ${gone.got.length} (all epoch 1), rejected ${gone.c.stats().rejected}; stayers ${stay.map((s) => s.got.length).join("/")}`,
  );
  expect(leaked).toBe(0);
  expect(capture).not.toContain("PLAIN");
  expect(gone.got).toEqual(Array.from({ length: 20 }, (_, i) => payload(i)));
  for (const s of stay) expect(s.got).toEqual(Array.from({ length: 40 }, (_, i) => payload(i)));
}, 30_000);

test("fuzz at the broker and key-service sockets: counted and dropped, no crash; an honest member still round-trips", async () => {
  const fc = (await import("fast-check")).default;
  const issuer = testIssuer();
  const serviceCert = generateCertificate();
  const broker = closeAfter(new SecurePubSubBroker({ issuers: [issuer.signKey] }));
  const [brokerEp] = (await broker.start()).endpoints;
  const keys = closeAfter(
    new KeyService({ secretKey: serviceCert.secretKey as string, issuers: [issuer.signKey] }),
  );
  const [keysEp] = (await keys.start()).endpoints;
  const raw = closeAfter(new zmq.Dealer({ linger: 0 }));
  raw.connect(brokerEp as string);
  raw.connect(keysEp as string); // DEALER round-robins between the two
  const valid = issuer.identity({ subscribe: ["t"] });
  const seeds = [
    Buffer.from("ZGSP01"),
    Buffer.from("ZGKS01"),
    Buffer.from([1]),
    Buffer.from([2]),
    Buffer.from(valid.token),
  ];
  const frame = fc.oneof(
    fc.constantFrom(...seeds),
    fc.uint8Array({ maxLength: 100 }).map((u) => Buffer.from(u)),
  );
  const samples = fc.sample(fc.array(frame, { minLength: 1, maxLength: 7 }), {
    seed: 7,
    numRuns: 400,
  });
  for (const m of samples) await raw.send(m);
  const ident = issuer.identity({ publish: ["t"], subscribe: ["t"] });
  const c = closeAfter(
    new SecureTopicClient({
      broker: brokerEp as string,
      keyService: keysEp as string,
      secretKey: ident.secretKey,
      token: ident.token,
      servicePublicKey: serviceCert.publicKey,
      issuers: [issuer.signKey],
    }),
  );
  const got: string[] = [];
  c.on("message:decrypted", (m) => got.push(Buffer.from(m.payload).toString()));
  await c.start();
  await c.subscribe("t");
  await c.publish("t", [Buffer.from("after fuzz")], { ack: true });
  await waitFor(() => got.length === 1, { what: "the honest round trip after the fuzz" });
  await waitFor(() => broker.stats().protocolErrors + keys.stats().protocolErrors > 0, {
    what: "fuzz counted",
  });
  console.log(
    `socket fuzz: ${samples.length} messages; broker invalid ${broker.stats().protocolErrors}, refused ${broker.stats().refused}; key service invalid ${keys.stats().protocolErrors}`,
  );
  expect(got).toEqual(["after fuzz"]);
}, 30_000);

test("REPORT: a signed count rotates after rotateAfter; a replayed or unsigned report is refused", async () => {
  const { E2ESession, KeyClient } = await import("../src/index.js");
  const issuer = testIssuer();
  const serviceCert = generateCertificate();
  const keys = closeAfter(
    new KeyService({
      secretKey: serviceCert.secretKey as string,
      issuers: [issuer.signKey],
      rotateAfter: 10,
    }),
  );
  const [ep] = (await keys.start()).endpoints;
  const p = issuer.identity({ publish: ["t"] });
  const session = new E2ESession({
    secretKey: p.secretKey,
    token: p.token,
    servicePublicKey: serviceCert.publicKey,
    issuers: [issuer.signKey],
  });
  const kc = closeAfter(new KeyClient({ keyService: ep as string, session, token: p.token }));
  await kc.start();
  await kc.fetch("t");
  const rotated = keys.next("epoch:rotated");
  await kc.report("t", 10);
  expect(await rotated).toMatchObject({ topic: "t", epoch: 2, reason: "messages" });
  // Replay the exact frames of a valid report, and send one with a bad proof.
  const raw = closeAfter(new zmq.Dealer({ linger: 0 }));
  raw.connect(ep as string);
  const at = Date.now() + 5;
  const proof = Buffer.alloc(72);
  proof.writeBigUInt64BE(BigInt(at), 0);
  proof.set(session.reportProof("t", 10, at), 8);
  const frames = [
    Buffer.from("ZGKS01"),
    Buffer.from([2]),
    Buffer.from("r1"),
    Buffer.from(p.token),
    Buffer.from("t"),
    Buffer.from([0, 0, 0, 10]),
    proof,
  ];
  const status = async (f: Buffer[]) => {
    await raw.send(f);
    const [, , , code] = await raw.receive();
    return Number(String(code));
  };
  expect(await status(frames)).toBe(200);
  expect(await status(frames)).toBe(401); // replay: not newer than the last report
  const forged = Buffer.from(proof);
  forged.writeBigUInt64BE(BigInt(at + 10), 0); // timestamp changed, signature not
  expect(await status([...frames.slice(0, 6), forged])).toBe(401);
  expect(keys.core.epoch("t")).toBe(3); // the valid raw report rotated once more; the refused ones did not
}, 20_000);
