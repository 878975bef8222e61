import { unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as zmq from "zeromq";
import { expect, test } from "vitest";
import { closeAfter, delay, tempDir, waitFor } from "@zg/testing";
import {
  formatCertificate,
  generateCertificate,
  SecurePubSubBroker,
  SecurePubSubClient,
  ZapHandler,
  type Publication,
} from "../src/index.js";
import { testIssuer } from "./helpers/identities.js";

async function ironhouse(refreshInterval = 1000) {
  const context = new zmq.Context();
  const issuer = testIssuer();
  const dir = tempDir("zg-allow-");
  const zap = closeAfter(new ZapHandler({ context, allow: dir, reloadInterval: 100 }));
  await zap.start();
  const serverCert = generateCertificate();
  const broker = closeAfter(
    new SecurePubSubBroker({
      context,
      issuers: [issuer.signKey],
      refreshInterval,
      curve: { handler: zap, secretKey: serverCert.secretKey as string, domain: "pubsub" },
    }),
  );
  const [endpoint] = (await broker.start()).endpoints;
  let n = 0;
  const join_ = async (
    grants: Parameters<typeof issuer.identity>[0],
    { allow = true, start = true } = {},
  ) => {
    const ident = issuer.identity(grants);
    const file = join(dir, `c${++n}.key`);
    if (allow) writeFileSync(file, formatCertificate(ident.cert));
    zap.reload();
    const client = closeAfter(
      new SecurePubSubClient({
        broker: endpoint as string,
        secretKey: ident.secretKey,
        token: ident.token,
        serverKey: serverCert.publicKey,
        refreshInterval,
        requestTimeout: 1500,
      }),
    );
    const got: Publication[] = [];
    client.on("message:received", (m) => got.push(m));
    if (start) await client.start();
    return { ident, client, got, file };
  };
  return { zap, broker, join: join_, dir };
}

test("entitled pub-sub over Ironhouse: delivery to entitled subscribers only, one copy each; a forged publisher is refused", async () => {
  const h = await ironhouse();
  const pub = await h.join({ publish: ["prices/*"] });
  const sub = await h.join({ subscribe: ["prices/*"] });
  const nosy = await h.join({ subscribe: ["news/*"] });
  expect((await sub.client.subscribe("prices/*")).code).toBe(200);
  expect((await sub.client.subscribe("prices/eur")).code).toBe(200);
  expect((await nosy.client.subscribe("prices/eur")).code).toBe(403);
  expect((await sub.client.publish("prices/eur", "forged", { ack: true }))?.code).toBe(403);
  for (let i = 0; i < 100; i++) await pub.client.publish("prices/eur", `m${i}`);
  expect((await pub.client.publish("prices/eur", "last", { ack: true }))?.code).toBe(200);
  await waitFor(() => sub.got.length === 101, { what: "101 publications at the subscriber" });
  await delay(100);
  expect(sub.got.map((m) => String(m.payload[0]))).toEqual([
    ...Array.from({ length: 100 }, (_, i) => `m${i}`),
    "last",
  ]);
  expect(new Set(sub.got.map((m) => m.publisher))).toEqual(new Set([pub.client.publicKey]));
  expect(nosy.got).toEqual([]);
  console.log("entitled pub-sub: broker", { ...h.broker.stats(), socket: undefined });
});

test("a client whose key is not allowed never logs in (ZAP refuses the handshake)", async () => {
  const h = await ironhouse();
  const stranger = await h.join({ subscribe: ["*"] }, { allow: false, start: false });
  await expect(stranger.client.start()).rejects.toThrow(/no status within/);
  expect(h.broker.stats().clients).toBe(0);
  expect(h.zap.stats().denied).toBeGreaterThan(0);
});

test("F7 + G: a key removed from the allow directory is kicked from the broker and cannot log in again", async () => {
  const h = await ironhouse();
  const pub = await h.join({ publish: ["t"] });
  const keep = await h.join({ subscribe: ["t"] });
  const gone = await h.join({ subscribe: ["t"] });
  await keep.client.subscribe("t");
  await gone.client.subscribe("t");
  await pub.client.publish("t", "before", { ack: true });
  await waitFor(() => keep.got.length === 1 && gone.got.length === 1, {
    what: "both receive 'before'",
  });
  unlinkSync(gone.file);
  await waitFor(() => h.broker.stats().revoked === 1, {
    timeout: 1000,
    what: "broker kicks the revoked key within one reload",
  });
  await pub.client.publish("t", "after", { ack: true });
  await waitFor(() => keep.got.length === 2, { what: "the kept subscriber receives 'after'" });
  const closed = await gone.client.closed; // re-login refused: revoked
  await delay(100);
  console.log(`revoked client closed with: ${String(closed)}`);
  expect(String(closed)).toMatch(/401/);
  expect(gone.got.map((m) => String(m.payload[0]))).toEqual(["before"]);
});

test("G8: a client that vanishes without logging out is flushed within interval × liveness + slack", async () => {
  const h = await ironhouse(200);
  const pub = await h.join({ publish: ["t"] });
  const dead = await h.join({ subscribe: ["t"] });
  await dead.client.subscribe("t");
  expect(h.broker.stats().clients).toBe(2);
  const t0 = performance.now();
  // Vanish: stop the client's loops and socket without a LOGOUT.
  await dead.client.close();
  await waitFor(() => h.broker.stats().clients === 1, {
    timeout: 3000,
    what: "the silent client flushed",
  });
  const flushedIn = performance.now() - t0;
  console.log(`G8 flushed in ${flushedIn.toFixed(0)} ms (L·I = 600 ms)`);
  expect(h.broker.stats().subscriptions).toBe(0);
  expect(h.broker.stats().expired).toBe(1);
  expect((await pub.client.publish("t", "x", { ack: true }))?.code).toBe(200);
});
