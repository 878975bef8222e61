import { connect, type Socket } from "node:net";
import * as zmq from "zeromq";
import { expect, test } from "vitest";
import { closeAfter, delay, waitFor } from "@zg/testing";
import {
  curveClientOptions,
  curveServerOptions,
  generateCertificate,
  ZapHandler,
  ZAP_ENDPOINT,
} from "../src/index.js";

type Bad = "version" | "request-id" | "status" | "extra-frames";

test("F5: bad ZAP replies (wrong version, wrong request id, invalid status, extra frames) refuse the handshake", async () => {
  const seen: Record<string, string[]> = {};
  for (const bad of ["version", "request-id", "status", "extra-frames"] as Bad[]) {
    const context = new zmq.Context();
    // A deliberately broken handler (raw ROUTER; ZapHandler never answers like this).
    const handler = closeAfter(new zmq.Router({ linger: 0, context }));
    await handler.bind(ZAP_ENDPOINT);
    void (async () => {
      for await (const [id, empty, , rid] of handler) {
        const reply = [
          id as Buffer,
          empty as Buffer,
          bad === "version" ? "2.0" : "1.0",
          bad === "request-id" ? "not-the-id" : (rid as Buffer),
          bad === "status" ? "999" : "200",
          "OK",
          "",
          "",
          ...(bad === "extra-frames" ? ["extra"] : []),
        ];
        await handler.send(reply);
      }
    })().catch(() => undefined);
    const serverCert = generateCertificate();
    const client = generateCertificate();
    const server = closeAfter(
      new zmq.Pull({
        linger: 0,
        context,
        curveServer: true,
        curveSecretKey: serverCert.secretKey as string,
        zapDomain: "f5",
        zapEnforceDomain: true,
      }),
    );
    const codes: string[] = [];
    void (async () => {
      for await (const e of server.events)
        if (e.type.startsWith("handshake:error"))
          codes.push(`${e.type}:${(e as { error?: { code?: string } }).error?.code ?? ""}`);
    })().catch(() => undefined);
    await server.bind("tcp://127.0.0.1:*");
    let delivered = 0;
    void (async () => {
      for await (const _ of server) delivered++;
    })().catch(() => undefined);
    const push = closeAfter(
      new zmq.Push({
        linger: 0,
        ...curveClientOptions({
          serverKey: serverCert.publicKey,
          secretKey: client.secretKey as string,
        }),
      }),
    );
    push.connect(server.lastEndpoint as string);
    void push.send("must not arrive").catch(() => undefined);
    await waitFor(() => codes.length > 0, {
      timeout: 2000,
      what: `a handshake error for the ${bad} reply`,
    });
    await delay(100);
    seen[bad] = [...new Set(codes)];
    expect(delivered, bad).toBe(0);
  }
  console.log("F5 server-side handshake errors:", seen);
  expect(seen).toEqual({
    version: ["handshake:error:protocol:ERR_ZAP_BAD_VERSION"],
    "request-id": ["handshake:error:protocol:ERR_ZAP_BAD_REQUEST_ID"],
    status: ["handshake:error:protocol:ERR_ZAP_INVALID_STATUS_CODE"],
    "extra-frames": ["handshake:error:protocol:ERR_ZAP_MALFORMED_REPLY"],
  });
});

test("F8: idle half-handshakes are reclaimed after handshakeInterval; a good client is unaffected", async () => {
  const context = new zmq.Context();
  const allowDir = (await import("@zg/testing")).tempDir("zg-allow-");
  const good = generateCertificate();
  const { writeFileSync } = await import("node:fs");
  const { formatCertificate } = await import("../src/index.js");
  writeFileSync(`${allowDir}/good.key`, formatCertificate(good));
  const zap = closeAfter(new ZapHandler({ context, allow: allowDir }));
  await zap.start();
  const serverCert = generateCertificate();
  const HANDSHAKE = 2000;
  const server = closeAfter(
    new zmq.Router({
      linger: 0,
      context,
      handshakeInterval: HANDSHAKE,
      backlog: 1024, // the 500 connections arrive at once: let the kernel queue them all for libzmq
      ...curveServerOptions({ secretKey: serverCert.secretKey as string, domain: "f8", context }),
    }),
  );
  await server.bind("tcp://127.0.0.1:*");
  const port = Number(/:(\d+)$/.exec(server.lastEndpoint as string)?.[1]);
  const N = 500;
  const sockets: Socket[] = [];
  let closed = 0;
  await Promise.all(
    Array.from(
      { length: N },
      () =>
        new Promise<void>((resolve) => {
          const s = connect(port, "127.0.0.1", () => resolve());
          s.on("error", () => undefined);
          s.resume(); // read (and ignore) the server's greeting, so "end"/"close" are emitted
          s.on("close", () => closed++);
          sockets.push(s);
        }),
    ),
  );
  const t0 = performance.now();
  // A good client completes a round trip meanwhile.
  const dealer = closeAfter(
    new zmq.Dealer({
      linger: 0,
      ...curveClientOptions({
        serverKey: serverCert.publicKey,
        secretKey: good.secretKey as string,
      }),
    }),
  );
  dealer.connect(server.lastEndpoint as string);
  await dealer.send("ping");
  const [id] = await server.receive();
  await server.send([id as Buffer, "pong"]);
  const [pong] = await dealer.receive();
  expect(String(pong)).toBe("pong");
  await waitFor(() => closed === N, {
    timeout: HANDSHAKE * 3,
    interval: 20,
    what: `all ${N} idle connections closed by the server`,
  });
  const after = performance.now() - t0;
  for (const s of sockets) s.destroy();
  console.log(
    `F8: ${N} idle connections closed ${after.toFixed(0)} ms after connecting (handshakeInterval ${HANDSHAKE} ms)`,
  );
  expect(after).toBeLessThanOrEqual(HANDSHAKE * 1.1 + 500);
});

test("F6: random byte streams (greeting/HELLO/INITIATE-sized slices) deliver nothing; the server stays live for a good client", async () => {
  const fc = (await import("fast-check")).default;
  const { tempDir } = await import("@zg/testing");
  const { writeFileSync } = await import("node:fs");
  const { formatCertificate } = await import("../src/index.js");
  const context = new zmq.Context();
  const allow = tempDir("zg-allow-");
  const good = generateCertificate();
  writeFileSync(`${allow}/good.key`, formatCertificate(good));
  const zap = closeAfter(new ZapHandler({ context, allow }));
  await zap.start();
  const serverCert = generateCertificate();
  const server = closeAfter(
    new zmq.Router({
      linger: 0,
      context,
      backlog: 1024,
      ...curveServerOptions({ secretKey: serverCert.secretKey as string, domain: "f6", context }),
    }),
  );
  await server.bind("tcp://127.0.0.1:*");
  const port = Number(/:(\d+)$/.exec(server.lastEndpoint as string)?.[1]);
  let delivered = 0;
  const dealer = closeAfter(
    new zmq.Dealer({
      linger: 0,
      ...curveClientOptions({
        serverKey: serverCert.publicKey,
        secretKey: good.secretKey as string,
      }),
    }),
  );
  dealer.connect(server.lastEndpoint as string);
  const pongs: string[] = [];
  void (async () => {
    for await (const [m] of dealer) pongs.push(String(m));
  })().catch(() => undefined);
  void (async () => {
    for await (const [id, m] of server) {
      if (String(m).startsWith("good-")) await server.send([id as Buffer, m as Buffer]);
      else delivered++;
    }
  })().catch(() => undefined);
  // libzmq fuzzer slices: 64-byte greeting, 202-byte HELLO, 301-byte INITIATE, then the rest; a real greeting prefix sometimes.
  const greeting = Buffer.concat([
    Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0]),
    Buffer.from("CURVE"),
    Buffer.alloc(15),
    Buffer.alloc(32),
  ]);
  const stream = fc.tuple(
    fc.oneof(
      fc.constant(greeting),
      fc.uint8Array({ minLength: 64, maxLength: 64 }).map((u) => Buffer.from(u)),
    ),
    fc.uint8Array({ minLength: 202, maxLength: 202 }),
    fc.uint8Array({ minLength: 301, maxLength: 301 }),
    fc.uint8Array({ maxLength: 512 }),
  );
  const streams = fc.sample(stream, { seed: 6, numRuns: 1000 });
  // ZMTP 1.0 greeting (empty identity) followed by a "sneaky" message, as in libzmq's test_security_zap.
  const sneaky = Buffer.from([0x01, 0x00, 0x06, 0x00, ...Buffer.from("sneak")]);
  streams.push([sneaky, new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)]);
  const BATCH = 100;
  for (let b = 0; b < streams.length; b += BATCH) {
    await Promise.all(
      streams.slice(b, b + BATCH).map(
        ([g, hello, initiate, rest]) =>
          new Promise<void>((resolve) => {
            const s = connect(port, "127.0.0.1", () => {
              s.write(g);
              s.write(Buffer.from(hello));
              s.write(Buffer.from(initiate));
              s.end(Buffer.from(rest));
            });
            s.resume();
            s.on("error", () => resolve());
            s.on("close", () => resolve());
            setTimeout(() => {
              s.destroy();
              resolve();
            }, 1000);
          }),
      ),
    );
    const t0 = performance.now();
    await dealer.send(`good-${b}`);
    await waitFor(() => pongs.includes(`good-${b}`), {
      timeout: 1000,
      what: `a good round trip within 1 s after garbage batch ${b / BATCH}`,
    });
    expect(performance.now() - t0).toBeLessThanOrEqual(1000);
  }
  console.log(
    `F6: ${streams.length} garbage streams, ${delivered} delivered, ${pongs.length} good round trips, zap`,
    zap.stats(),
  );
  expect(delivered).toBe(0);
  expect(zap.stats().allowed).toBe(1); // only the good client was ever admitted
}, 60_000);
