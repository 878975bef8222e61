import { unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as zmq from "zeromq";
import { expect, test } from "vitest";
import { closeAfter, delay, tempDir, waitFor } from "@zg/testing";
import {
  assertFailClosed,
  curveClientOptions,
  curveServerOptions,
  formatCertificate,
  generateCertificate,
  SecureServer,
  ZapHandler,
  type Certificate,
} from "../src/index.js";

function allowDir(...certs: Certificate[]): string {
  const dir = tempDir("zg-allow-");
  certs.forEach((c, i) => writeFileSync(join(dir, `client${i}.key`), formatCertificate(c)));
  return dir;
}

/** A CURVE DEALER client in its own context, recording handshake outcomes. */
function client(serverKey: string, cert: Certificate, endpoint: string) {
  const socket = closeAfter(
    new zmq.Dealer({
      linger: 0,
      reconnectInterval: 50,
      ...curveClientOptions({ serverKey, secretKey: cert.secretKey as string }),
    }),
  );
  const record = { handshakes: 0, authErrors: [] as number[], received: [] as string[] };
  void (async () => {
    for await (const e of socket.events) {
      if (e.type === "handshake") record.handshakes++;
      if (e.type === "handshake:error:auth") record.authErrors.push(e.error.status ?? 0);
    }
  })().catch(() => undefined);
  void (async () => {
    for await (const [m] of socket) record.received.push(String(m));
  })().catch(() => undefined);
  socket.connect(endpoint);
  return { socket, record };
}

async function echoServer(context: zmq.Context, handler: ZapHandler, serverCert: Certificate) {
  const server: SecureServer = closeAfter(
    new SecureServer({
      handler,
      socket: zmq.Router,
      endpoints: ["tcp://127.0.0.1:*"],
      secretKey: serverCert.secretKey as string,
      domain: "test",
      socketOptions: { linger: 0, context },
      onMessage: (m) => {
        server.post(m);
      },
    }),
  );
  const [endpoint] = (await server.start()).endpoints;
  return { server, endpoint: endpoint as string };
}

test("F1/F2: an allowed key round-trips; an unknown key gets ZAP 400 and no message", async () => {
  const context = new zmq.Context();
  const serverCert = generateCertificate();
  const good = generateCertificate();
  const bad = generateCertificate();
  const zap = closeAfter(new ZapHandler({ context, allow: allowDir(good) }));
  await zap.start();
  const { server, endpoint } = await echoServer(context, zap, serverCert);

  const g = client(server.publicKey, good, endpoint);
  const t0 = performance.now();
  await g.socket.send("hello");
  await waitFor(() => g.record.received.length === 1, { what: "echo to the allowed client" });
  const rtt = performance.now() - t0;

  const badSince = performance.now();
  const b = client(server.publicKey, bad, endpoint);
  void b.socket.send("intruder").catch(() => undefined);
  await waitFor(() => b.record.authErrors.length > 0, {
    timeout: 1000,
    what: "handshake:error:auth for the unknown key",
  });
  await delay(300);
  console.log(
    `F1 rtt ${rtt.toFixed(1)} ms; F2 auth errors ${b.record.authErrors.length}, zap`,
    zap.stats(),
  );
  expect(b.record.authErrors[0]).toBe(400);
  expect(b.record.handshakes).toBe(0);
  expect(b.record.received).toEqual([]);
  expect(server.stats().received).toBe(1); // only the allowed client's message
  expect(zap.stats().denied).toBeGreaterThan(0);
  // F2: libzmq's client retries after each refusal; at most one ZAP request per reconnectInterval (50 ms).
  const window = performance.now() - badSince;
  console.log(
    `F2: ${zap.stats().denied} ZAP refusals in ${window.toFixed(0)} ms (reconnectInterval 50 ms)`,
  );
  expect(zap.stats().denied).toBeLessThanOrEqual(Math.ceil(window / 50) + 1);
});

test("F3: a NULL client never reaches the application or the handler's allow-list", async () => {
  const context = new zmq.Context();
  const zap = closeAfter(new ZapHandler({ context, allow: allowDir() }));
  await zap.start();
  const { server, endpoint } = await echoServer(context, zap, generateCertificate());
  const plain = closeAfter(new zmq.Dealer({ linger: 0, reconnectInterval: 50 }));
  plain.connect(endpoint);
  void plain.send("no curve").catch(() => undefined);
  await delay(400);
  expect(server.stats().received).toBe(0);
  expect(zap.stats().allowed).toBe(0);
  expect(zap.stats().requests).toBe(0); // mechanism mismatch: ZAP never consulted
});

test("F4: no handler, an empty domain or enforcement off: the server refuses to start", async () => {
  const context = new zmq.Context();
  const secretKey = generateCertificate().secretKey as string;
  expect(() => curveServerOptions({ secretKey, domain: "d", context })).toThrow(
    /no running ZapHandler/,
  );
  const zap = closeAfter(new ZapHandler({ context, allow: allowDir() }));
  expect(
    () =>
      new SecureServer({
        handler: undefined as never,
        socket: zmq.Router,
        endpoints: ["tcp://127.0.0.1:*"],
        secretKey,
        domain: "d",
        socketOptions: { linger: 0, context },
      }),
  ).toThrow(/ZapHandler/);
  expect(
    () =>
      new SecureServer({
        handler: zap,
        socket: zmq.Router,
        endpoints: ["tcp://127.0.0.1:*"],
        secretKey,
        domain: "",
        socketOptions: { linger: 0, context },
      }),
  ).toThrow(/domain/);
  const early = new SecureServer({
    handler: zap,
    socket: zmq.Router,
    endpoints: ["tcp://127.0.0.1:*"],
    secretKey,
    domain: "d",
    socketOptions: { linger: 0, context },
  });
  await expect(early.start()).rejects.toThrow(/running/);
  await zap.start();
  expect(() => curveServerOptions({ secretKey, domain: "", context })).toThrow(/non-empty/);
  const open = closeAfter(
    new zmq.Router({
      linger: 0,
      context,
      curveServer: true,
      curveSecretKey: secretKey,
      zapDomain: "d",
    }),
  );
  expect(() => assertFailClosed(open)).toThrow(/zapEnforceDomain/);
  const closed = closeAfter(
    new zmq.Router({
      linger: 0,
      context,
      ...curveServerOptions({ secretKey, domain: "d", context }),
    }),
  );
  expect(() => assertFailClosed(closed)).not.toThrow();
  // A second handler in the same context is refused.
  const second = new ZapHandler({ context, policy: () => true });
  await expect(second.start()).rejects.toThrow(/already running/);
});

test("F4: with the handler closed mid-run, every new handshake fails", async () => {
  const context = new zmq.Context();
  const good = generateCertificate();
  const zap = new ZapHandler({ context, allow: allowDir(good) });
  await zap.start();
  const { server, endpoint } = await echoServer(context, zap, generateCertificate());
  await zap.close();
  const g = client(server.publicKey, good, endpoint);
  void g.socket.send("after the handler died").catch(() => undefined);
  await delay(600);
  expect(g.record.handshakes).toBe(0);
  expect(server.stats().received).toBe(0);
});

test("the handler always replies: a throwing policy and a hung policy deny, later requests still pass", async () => {
  const context = new zmq.Context();
  const good = generateCertificate();
  let calls = 0;
  const zap = closeAfter(
    new ZapHandler({
      context,
      policyTimeout: 200,
      policy: (r) => {
        calls++;
        if (calls === 1) throw new Error("policy bug");
        if (calls === 2) return new Promise<boolean>(() => undefined); // never settles
        return r.curveKey === good.publicKey;
      },
    }),
  );
  await zap.start();
  const { server, endpoint } = await echoServer(context, zap, generateCertificate());
  // libzmq's client does not retry after a 500, so each attempt is its own client.
  const first = client(server.publicKey, good, endpoint);
  void first.socket.send("a").catch(() => undefined);
  await waitFor(() => first.record.authErrors.length > 0, { what: "500 for the throwing policy" });
  const second = client(server.publicKey, good, endpoint);
  void second.socket.send("b").catch(() => undefined);
  await waitFor(() => second.record.authErrors.length > 0, { what: "500 for the hung policy" });
  const third = client(server.publicKey, good, endpoint);
  await third.socket.send("c");
  await waitFor(() => third.record.received.length === 1, {
    what: "echo after two failed policy calls",
  });
  console.log(`policy calls ${calls}, zap`, zap.stats());
  expect(first.record.authErrors[0]).toBe(500);
  expect(second.record.authErrors[0]).toBe(500);
  expect(zap.stats().policyErrors).toBe(2);
  expect(first.record.received.concat(second.record.received)).toEqual([]);
});

test("F7: a key removed from the directory is refused within one reload and its live connection is dropped", async () => {
  const context = new zmq.Context();
  const keep = generateCertificate();
  const revoke = generateCertificate();
  const dir = allowDir(keep, revoke);
  const zap = closeAfter(new ZapHandler({ context, allow: dir, reloadInterval: 100 }));
  await zap.start();
  const { server, endpoint } = await echoServer(context, zap, generateCertificate());
  const k = client(server.publicKey, keep, endpoint);
  const r = client(server.publicKey, revoke, endpoint);
  await k.socket.send("k0");
  await r.socket.send("r0");
  await waitFor(() => k.record.received.length === 1 && r.record.received.length === 1, {
    what: "both echo",
  });

  const t0 = performance.now();
  unlinkSync(join(dir, "client1.key"));
  await waitFor(() => server.stats().resets === 1, {
    timeout: 1000,
    what: "socket reset after revocation",
  });
  await waitFor(() => r.record.authErrors.length > 0, {
    timeout: 1000,
    what: "the revoked key's reconnection refused",
  });
  const revokedAt = performance.now() - t0;
  const receivedBefore = server.stats().received;
  // The revoked client keeps trying; none of it reaches the server, and nothing reaches it.
  void r.socket.send("r1").catch(() => undefined);
  await k.socket.send("k1");
  await waitFor(() => k.record.received.length === 2, {
    what: "the kept client round-trips after the reset",
  });
  await delay(200);
  console.log(
    `F7 revoked in ${revokedAt.toFixed(0)} ms; revoked auth errors ${r.record.authErrors.length}`,
  );
  expect(r.record.received).toEqual(["r0"]);
  expect(server.stats().received).toBe(receivedBefore + 1);
});
