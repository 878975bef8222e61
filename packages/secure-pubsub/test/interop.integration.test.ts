import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as zmq from "zeromq";
import { expect } from "vitest";
import { closeAfter, pythonTest, spawnPython, tempDir } from "@zg/testing";
import { formatCertificate, generateCertificate, SecureServer, ZapHandler } from "../src/index.js";

// A pyzmq CURVE DEALER written from 26/CURVEZMQ: keys from argv, one request, the outcome on stdout.
const PY_CLIENT = `
import sys, zmq
endpoint, server_key, public, secret = sys.argv[1:5]
assert zmq.has("curve"), "libzmq without CURVE"
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.linger = 0
s.curve_serverkey = server_key.encode()
s.curve_publickey = public.encode()
s.curve_secretkey = secret.encode()
s.connect(endpoint)
s.send(b"ping from python")
if s.poll(1500):
    print("REPLY " + s.recv().decode())
else:
    print("NO-REPLY")
s.close()
ctx.term()
`;

pythonTest(
  "F interop: a pyzmq CURVE client with an allowed key connects; a disallowed one does not",
  async () => {
    const context = new zmq.Context();
    const allowed = generateCertificate();
    const stranger = generateCertificate();
    const serverCert = generateCertificate();
    const dir = tempDir("zg-allow-");
    writeFileSync(join(dir, "py.key"), formatCertificate(allowed));
    const zap = closeAfter(new ZapHandler({ context, allow: dir }));
    await zap.start();
    const server: SecureServer = closeAfter(
      new SecureServer({
        handler: zap,
        socket: zmq.Router,
        endpoints: ["tcp://127.0.0.1:*"],
        secretKey: serverCert.secretKey as string,
        domain: "interop",
        socketOptions: { linger: 0, context },
        onMessage: (m) => {
          server.post(m);
        },
      }),
    );
    const [endpoint] = (await server.start()).endpoints;
    const run = async (cert: typeof allowed) => {
      const py = spawnPython(PY_CLIENT, [
        endpoint as string,
        server.publicKey,
        cert.publicKey,
        cert.secretKey as string,
      ]);
      const [line] = await py.waitForLine(/^(REPLY .*|NO-REPLY)$/, 10_000);
      return line;
    };
    const good = await run(allowed);
    const bad = await run(stranger);
    console.log(`interop: allowed → ${good}; stranger → ${bad}; zap`, zap.stats());
    expect(good).toBe("REPLY ping from python");
    expect(bad).toBe("NO-REPLY");
    expect(server.stats().received).toBe(1);
  },
  30_000,
);
