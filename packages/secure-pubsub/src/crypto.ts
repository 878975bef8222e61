import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import nacl from "tweetnacl";

// Ed25519 and X25519 go through Node's OpenSSL (node:crypto): byte-compatible
// with tweetnacl (same RFC 8032 signatures, same RFC 7748 keys) and about 80×
// faster on the machines we measured (tweetnacl-js verifies ~30-100/s per
// core; see README "Signatures"). secretbox and box stay tweetnacl.

const ED_PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
const X_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");
const ED_SPKI = Buffer.from("302a300506032b6570032100", "hex");
const X_SPKI = Buffer.from("302a300506032b656e032100", "hex");
const CACHE_LIMIT = 10_000;

function cached(
  cache: Map<string, KeyObject>,
  bytes: Uint8Array,
  make: () => KeyObject,
): KeyObject {
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  let k = cache.get(id);
  if (k === undefined) {
    k = make();
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(id, k);
  }
  return k;
}

const edPublic = new Map<string, KeyObject>();
const edPrivate = new Map<string, KeyObject>();
const xPrivate = new Map<string, KeyObject>();
const xPublic = new Map<string, KeyObject>();

const edPrivateKey = (seed: Uint8Array): KeyObject =>
  cached(edPrivate, seed, () =>
    createPrivateKey({ key: Buffer.concat([ED_PKCS8, seed]), format: "der", type: "pkcs8" }),
  );
const edPublicKey = (pub: Uint8Array): KeyObject =>
  cached(edPublic, pub, () =>
    createPublicKey({ key: Buffer.concat([ED_SPKI, pub]), format: "der", type: "spki" }),
  );

/** Ed25519 public key (32 bytes) of a 32-byte seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(edPrivateKey(seed)).export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** Ed25519 signature (64 bytes) by a tweetnacl-style 64-byte secret key (seed ‖ public) or a 32-byte seed. */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, edPrivateKey(secretKey.subarray(0, 32))));
}

/** Verifies an Ed25519 signature; false (never a throw) for malformed keys or signatures. */
export function ed25519Verify(
  message: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return verify(null, message, edPublicKey(publicKey), signature);
  } catch {
    return false;
  }
}

/** X25519 public key of a 32-byte secret (as `nacl.scalarMult.base`). */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  const priv = cached(xPrivate, secret, () =>
    createPrivateKey({ key: Buffer.concat([X_PKCS8, secret]), format: "der", type: "pkcs8" }),
  );
  const der = createPublicKey(priv).export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - 32));
}

const SIGMA = new TextEncoder().encode("expand 32-byte k");
// tweetnacl exports its low-level primitives untyped.
const lowlevel = (
  nacl as unknown as {
    lowlevel: {
      crypto_core_hsalsa20(out: Uint8Array, input: Uint8Array, k: Uint8Array, c: Uint8Array): void;
    };
  }
).lowlevel;

/**
 * `nacl.box.before(publicKey, secretKey)`: X25519 (Node) then HSalsa20
 * (tweetnacl), so the result works with `nacl.box.after` / `box.open.after`.
 */
export function boxBefore(publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const priv = cached(xPrivate, secretKey, () =>
    createPrivateKey({ key: Buffer.concat([X_PKCS8, secretKey]), format: "der", type: "pkcs8" }),
  );
  const pub = cached(xPublic, publicKey, () =>
    createPublicKey({ key: Buffer.concat([X_SPKI, publicKey]), format: "der", type: "spki" }),
  );
  const shared = diffieHellman({ privateKey: priv, publicKey: pub });
  const out = new Uint8Array(32);
  lowlevel.crypto_core_hsalsa20(out, new Uint8Array(16), shared, SIGMA);
  return out;
}
