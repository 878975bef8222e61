import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import nacl from "tweetnacl";
import { ZgError } from "@zg/core/pure";
import { ed25519PublicKey, x25519PublicKey } from "./crypto.js";
import { isZ85Key, z85Decode, z85Encode } from "./z85.js";

/**
 * A CURVE certificate: the Z85 public key, the secret key when known, and
 * free-form metadata, as in czmq's `zcert`.
 */
export interface Certificate {
  /** Z85 CURVE (X25519) public key, 40 characters. */
  publicKey: string;
  /** Z85 CURVE secret key, 40 characters; only in secret certificates. */
  secretKey?: string;
  /** The `metadata` section (czmq's `name`, our `sign-public-key`, …). */
  metadata: Record<string, string>;
}

/** The Ed25519 signing pair derived from a certificate's CURVE secret key (see {@link signingKeyPair}). */
export interface SigningKeyPair {
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** 64-byte tweetnacl Ed25519 secret key. */
  secretKey: Uint8Array;
}

const SIGN_CONTEXT = new TextEncoder().encode("zg-secure-pubsub sign v1\0");

/**
 * The Ed25519 signing key pair of an identity, derived from its CURVE secret
 * key with a domain-separated hash (seed = SHA-512("zg-secure-pubsub sign v1\0"
 * ‖ secret)[0..32]). One CURVE certificate, including one made by czmq, is
 * therefore a complete zg identity; the X25519 key itself is never used to sign.
 */
export function signingKeyPair(curveSecretKey: string | Uint8Array): SigningKeyPair {
  const secret = typeof curveSecretKey === "string" ? z85Decode(curveSecretKey) : curveSecretKey;
  if (secret.length !== 32)
    throw new ZgError("ZG_INVALID_ARGUMENT", "CURVE secret key must be 32 bytes");
  const input = new Uint8Array(SIGN_CONTEXT.length + 32);
  input.set(SIGN_CONTEXT);
  input.set(secret, SIGN_CONTEXT.length);
  const seed = nacl.hash(input).subarray(0, 32);
  const publicKey = ed25519PublicKey(seed);
  const secretKey = new Uint8Array(64);
  secretKey.set(seed);
  secretKey.set(publicKey, 32);
  return { publicKey, secretKey };
}

/** A fresh certificate (X25519 pair from tweetnacl's CSPRNG) with `sign-public-key` in its metadata. */
export function generateCertificate(metadata: Record<string, string> = {}): Certificate {
  const secret = nacl.randomBytes(32);
  const secretKey = z85Encode(secret);
  return {
    publicKey: z85Encode(x25519PublicKey(secret)),
    secretKey,
    metadata: { ...metadata, "sign-public-key": z85Encode(signingKeyPair(secretKey).publicKey) },
  };
}

/** The public half of a certificate (no secret key). */
export function publicCertificate(cert: Certificate): Certificate {
  const metadata = { ...cert.metadata };
  if (cert.secretKey !== undefined && metadata["sign-public-key"] === undefined) {
    metadata["sign-public-key"] = z85Encode(signingKeyPair(cert.secretKey).publicKey);
  }
  return { publicKey: cert.publicKey, metadata };
}

const quote = (v: string): string => `"${v.replace(/"/g, "'")}"`;

/**
 * The czmq `zcert` text form (4/ZPL): a `metadata` section and a `curve`
 * section with `public-key` (and `secret-key` when `secret` is true).
 */
export function formatCertificate(cert: Certificate, { secret = false } = {}): string {
  if (secret && cert.secretKey === undefined) {
    throw new ZgError("ZG_INVALID_ARGUMENT", "certificate has no secret key");
  }
  const lines = [
    `#   ****  Generated on ${new Date().toISOString()} by @zg/secure-pubsub  ****`,
    secret ? "#   ZeroMQ CURVE **Secret** Certificate" : "#   ZeroMQ CURVE Public Certificate",
    secret
      ? "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions."
      : "#   Exchange securely, or use a secure mechanism to verify the contents",
    ...(secret ? [] : ["#   of this file after exchange."]),
    "",
    "metadata",
    ...Object.entries(cert.metadata).map(([k, v]) => `    ${k} = ${quote(v)}`),
    "curve",
    `    public-key = ${quote(cert.publicKey)}`,
    ...(secret ? [`    secret-key = ${quote(cert.secretKey as string)}`] : []),
    "",
  ];
  return lines.join("\n");
}

/**
 * Parses the czmq `zcert` text form: the 4/ZPL subset czmq writes (comments,
 * sections, 4-space indentation, `name = "value"`). Unknown sections and keys
 * are ignored, so a czmq certificate and ours read the same.
 *
 * @throws {@link ZgError} `ZG_DECODE` when there is no valid `curve/public-key`,
 * or a `secret-key` that is not a valid Z85 key.
 */
export function parseCertificate(text: string): Certificate {
  const metadata: Record<string, string> = {};
  let section = "";
  let publicKey: string | undefined;
  let secretKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+$/, "");
    if (line === "" || /^\s*#/.test(line)) continue;
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    const body = line.trim();
    const m = /^([A-Za-z0-9$\-_@.&+/]+)\s*(?:=\s*(.*))?$/.exec(body);
    if (m === null) continue;
    const name = m[1] as string;
    let value = m[2];
    if (value !== undefined) {
      const q = /^"([^"]*)"|^'([^']*)'/.exec(value);
      value = q !== null ? (q[1] ?? q[2] ?? "") : (value.split(/\s+#/)[0] ?? "").trim();
    }
    if (indent === 0) {
      section = value === undefined ? name : "";
      continue;
    }
    if (value === undefined) continue;
    if (section === "metadata") metadata[name] = value;
    else if (section === "curve" && name === "public-key") publicKey = value;
    else if (section === "curve" && name === "secret-key") secretKey = value;
  }
  if (publicKey === undefined || !isZ85Key(publicKey))
    throw new ZgError("ZG_DECODE", "certificate has no valid curve/public-key");
  if (secretKey !== undefined && !isZ85Key(secretKey)) {
    throw new ZgError("ZG_DECODE", "certificate has an invalid curve/secret-key");
  }
  return { publicKey, ...(secretKey === undefined ? {} : { secretKey }), metadata };
}

/** Reads a certificate file (public or secret). @throws as {@link parseCertificate}, or on I/O errors. */
export function loadCertificate(file: string): Certificate {
  return parseCertificate(readFileSync(file, "utf8"));
}

/**
 * Writes `cert` as czmq does: the public certificate at `file` and, when it
 * has a secret key, the secret certificate at `file + "_secret"` with mode
 * 0600 (owner read/write only).
 *
 * @returns the paths written.
 */
export function saveCertificate(
  cert: Certificate,
  file: string,
): { publicFile: string; secretFile?: string } {
  writeFileSync(file, formatCertificate(publicCertificate(cert)), { mode: 0o644 });
  if (cert.secretKey === undefined) return { publicFile: file };
  const secretFile = `${file}_secret`;
  writeFileSync(secretFile, formatCertificate(cert, { secret: true }), { mode: 0o600 });
  chmodSync(secretFile, 0o600); // an existing file keeps its mode on write
  return { publicFile: file, secretFile };
}
