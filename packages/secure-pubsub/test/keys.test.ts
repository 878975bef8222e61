import { statSync, writeFileSync, unlinkSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as zmq from "zeromq";
import nacl from "tweetnacl";
import { expect, test } from "vitest";
import { tempDir } from "@zg/testing";
import {
  CertStore,
  curvePublicKey,
  formatCertificate,
  generateCertificate,
  parseCertificate,
  runKeysCli,
  signingKeyPair,
  z85Decode,
  z85Encode,
} from "../src/index.js";

test("Z85 matches the 32/Z85 test vector and round-trips zeromq's keys", () => {
  const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
  expect(z85Encode(bytes)).toBe("HelloWorld");
  expect(z85Decode("HelloWorld")).toEqual(bytes);
  const kp = zmq.curveKeyPair();
  expect(z85Encode(z85Decode(kp.publicKey))).toBe(kp.publicKey);
  expect(curvePublicKey(kp.secretKey)).toBe(kp.publicKey);
  expect(() => z85Decode("abc")).toThrow(/multiple of 5/);
  expect(() => z85Decode("~~~~~")).toThrow(/invalid Z85/);
  expect(() => z85Decode("#####")).toThrow(/overflows/);
});

test("a czmq zcert file parses, and ours round-trips", () => {
  const kp = zmq.curveKeyPair();
  // The layout czmq's zcert_save_secret writes.
  const czmq = [
    "#   ****  Generated on 2026-01-01 00:00:00 by CZMQ  ****",
    "#   ZeroMQ CURVE **Secret** Certificate",
    "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
    "",
    "metadata",
    '    name = "alice"',
    "curve",
    `    public-key = "${kp.publicKey}"`,
    `    secret-key = "${kp.secretKey}"`,
    "",
  ].join("\n");
  const cert = parseCertificate(czmq);
  expect(cert).toEqual({
    publicKey: kp.publicKey,
    secretKey: kp.secretKey,
    metadata: { name: "alice" },
  });
  const mine = generateCertificate({ name: "bob" });
  expect(parseCertificate(formatCertificate(mine, { secret: true }))).toEqual(mine);
  const pub = parseCertificate(formatCertificate(mine));
  expect(pub.secretKey).toBeUndefined();
  expect(pub.metadata["sign-public-key"]).toBe(
    z85Encode(signingKeyPair(mine.secretKey as string).publicKey),
  );
  expect(() => parseCertificate('curve\n    public-key = "short"\n')).toThrow(/public-key/);
});

test("the signing pair derived from a CURVE secret signs and verifies, and differs from the X25519 key", () => {
  const cert = generateCertificate();
  const a = signingKeyPair(cert.secretKey as string);
  const b = signingKeyPair(cert.secretKey as string);
  expect(a.publicKey).toEqual(b.publicKey);
  expect(z85Encode(a.publicKey)).not.toBe(cert.publicKey);
  const sig = nacl.sign.detached(Buffer.from("nonce"), a.secretKey);
  expect(nacl.sign.detached.verify(Buffer.from("nonce"), sig, a.publicKey)).toBe(true);
});

test("zg-keys new writes a public cert and a 0600 secret cert; zg-keys public prints the key", () => {
  const dir = tempDir("zg-keys-");
  const out: string[] = [];
  expect(runKeysCli(["new", "alice", "--dir", dir], (l) => out.push(l))).toBe(0);
  const secretFile = join(dir, "alice.key_secret");
  expect(statSync(secretFile).mode & 0o777).toBe(0o600);
  expect(statSync(join(dir, "alice.key")).mode & 0o077).toBe(
    0o044 & statSync(join(dir, "alice.key")).mode,
  );
  expect(readFileSync(join(dir, "alice.key"), "utf8")).not.toContain("secret-key");
  const key = (out[0] as string).split(" ")[1] as string;
  const printed: string[] = [];
  expect(runKeysCli(["public", secretFile], (l) => printed.push(l))).toBe(0);
  expect(printed).toEqual([key]);
  const errs: string[] = [];
  expect(
    runKeysCli(
      ["nonsense"],
      () => undefined,
      (l) => errs.push(l),
    ),
  ).toBe(2);
  expect(errs.join("\n")).toContain("usage");
  expect(
    runKeysCli(
      ["public", join(dir, "missing")],
      () => undefined,
      () => undefined,
    ),
  ).toBe(1);
});

test("CertStore loads a directory, skips secrets and junk, and reports added and removed keys", () => {
  const dir = tempDir("zg-store-");
  const a = generateCertificate();
  const b = generateCertificate();
  writeFileSync(join(dir, "a.key"), formatCertificate(a));
  writeFileSync(join(dir, "a.key_secret"), formatCertificate(a, { secret: true }));
  writeFileSync(join(dir, "junk.txt"), "not a certificate");
  const store = new CertStore(dir);
  expect(store.reload()).toEqual({ added: [a.publicKey], removed: [] });
  expect(store.badFiles).toBe(1);
  expect(store.reload()).toEqual({ added: [], removed: [] });
  writeFileSync(join(dir, "b.key"), formatCertificate(b));
  unlinkSync(join(dir, "a.key"));
  expect(store.reload()).toEqual({ added: [b.publicKey], removed: [a.publicKey] });
  expect(store.has(b.publicKey) && !store.has(a.publicKey)).toBe(true);
  expect(new CertStore(join(dir, "missing")).reload()).toEqual({ added: [], removed: [] });
});

test("the node:crypto Ed25519/X25519 paths are byte-compatible with tweetnacl", async () => {
  const { boxBefore, ed25519PublicKey, ed25519Sign, ed25519Verify, x25519PublicKey } =
    await import("../src/crypto.js");
  const seed = nacl.randomBytes(32);
  const kp = nacl.sign.keyPair.fromSeed(seed);
  expect(ed25519PublicKey(seed)).toEqual(kp.publicKey);
  const msg = Buffer.from("transcript");
  expect(ed25519Sign(msg, kp.secretKey)).toEqual(nacl.sign.detached(msg, kp.secretKey));
  expect(ed25519Verify(msg, nacl.sign.detached(msg, kp.secretKey), kp.publicKey)).toBe(true);
  expect(ed25519Verify(msg, new Uint8Array(64), kp.publicKey)).toBe(false);
  expect(ed25519Verify(msg, new Uint8Array(64), new Uint8Array(3))).toBe(false);
  const a = nacl.box.keyPair();
  const b = nacl.box.keyPair();
  expect(x25519PublicKey(a.secretKey)).toEqual(a.publicKey);
  expect(boxBefore(b.publicKey, a.secretKey)).toEqual(nacl.box.before(b.publicKey, a.secretKey));
});

test("zg-keys token issues a token that verifies against the issuer's signing key", async () => {
  const { verifyToken, loadCertificate } = await import("../src/index.js");
  const dir = tempDir("zg-keys-");
  runKeysCli(["new", "issuer", "--dir", dir], () => undefined);
  runKeysCli(["new", "alice", "--dir", dir], () => undefined);
  const out: string[] = [];
  const file = join(dir, "alice.token");
  const code = runKeysCli(
    [
      "token",
      "--issuer",
      join(dir, "issuer.key_secret"),
      "--for",
      join(dir, "alice.key"),
      "--publish",
      "a/*",
      "--subscribe",
      "a/*,b",
      "--ttl",
      "60",
      "--id",
      "alice-1",
      "--out",
      file,
    ],
    (l) => out.push(l),
  );
  expect(code).toBe(0);
  const issuerSign = loadCertificate(join(dir, "issuer.key")).metadata["sign-public-key"] as string;
  const r = verifyToken(readFileSync(file), { issuers: new Set([issuerSign]), now: Date.now() });
  expect(r.ok && r.token).toMatchObject({
    id: "alice-1",
    publish: ["a/*"],
    subscribe: ["a/*", "b"],
  });
  expect(statSync(file).mode & 0o777).toBe(0o600);
});
