import { ed25519Sign, ed25519Verify } from "../crypto.js";
import { ZgError } from "@zg/core/pure";
import { signingKeyPair } from "../cert.js";
import { z85Decode, z85Encode } from "../z85.js";
import { covers, matches, parsePattern, type TopicPattern } from "./topics.js";

/** Version marker of an entitlement token (ADR 4): the first 4 bytes. */
export const TOKEN_MAGIC = "ZGT1";

/** Largest token accepted, 4096 bytes (bounds parsing of untrusted input). */
export const MAX_TOKEN_BYTES = 4096;

/** Most topic patterns in one token's `publish` plus `subscribe`. */
export const MAX_TOKEN_PATTERNS = 64;

/** What an entitlement token states (signed by its issuer). */
export interface TokenClaims {
  /** Token id (for the revocation list). */
  id: string;
  /** The issuer's Ed25519 public key, Z85. */
  issuer: string;
  /** The subject's Ed25519 public key, Z85 (it signs logins). */
  key: string;
  /** The subject's CURVE public key, Z85 (transport identity and group-key wrapping), if bound. */
  curve?: string;
  /** Topic patterns the subject may publish on. */
  publish: string[];
  /** Topic patterns the subject may subscribe to. */
  subscribe: string[];
  /** Expiry, ms since the Unix epoch (wall clock). */
  expires: number;
  /** Issue time, ms since the Unix epoch. */
  issued: number;
}

/** A verified token: its claims, parsed patterns and its bytes. */
export interface VerifiedToken extends TokenClaims {
  publishPatterns: TopicPattern[];
  subscribePatterns: TopicPattern[];
  bytes: Uint8Array;
}

/** Why a token was refused. */
export type TokenRefusal = "malformed" | "issuer" | "signature" | "expired" | "revoked";

/** The result of {@link verifyToken}. */
export type TokenCheck = { ok: true; token: VerifiedToken } | { ok: false; reason: TokenRefusal };

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });
const MAGIC_BYTES = enc.encode(TOKEN_MAGIC);

/**
 * Issues (signs) an entitlement token with the issuer's CURVE secret key
 * (its Ed25519 key is derived with {@link signingKeyPair}). Wire form:
 * `"ZGT1"` ‖ Ed25519 signature (64) ‖ claims as UTF-8 JSON; the signature
 * covers `"ZGT1"` ‖ JSON.
 *
 * @throws {@link ZgError} `ZG_INVALID_ARGUMENT` for invalid claims.
 */
export function issueToken(
  issuerSecretKey: string,
  claims: Omit<TokenClaims, "issuer" | "issued"> & { issued?: number },
): Uint8Array {
  const signer = signingKeyPair(issuerSecretKey);
  const full: TokenClaims = {
    id: claims.id,
    issuer: z85Encode(signer.publicKey),
    key: claims.key,
    ...(claims.curve === undefined ? {} : { curve: claims.curve }),
    publish: [...claims.publish],
    subscribe: [...claims.subscribe],
    expires: claims.expires,
    issued: claims.issued ?? Date.now(),
  };
  const problem = claimsProblem(full);
  if (problem !== undefined)
    throw new ZgError("ZG_INVALID_ARGUMENT", `invalid token claims: ${problem}`);
  const body = enc.encode(JSON.stringify(full));
  const signed = concat(enc.encode(TOKEN_MAGIC), body);
  const sig = ed25519Sign(signed, signer.secretKey);
  const out = concat(enc.encode(TOKEN_MAGIC), sig, body);
  if (out.length > MAX_TOKEN_BYTES)
    throw new ZgError("ZG_INVALID_ARGUMENT", "token exceeds MAX_TOKEN_BYTES");
  return out;
}

/** The revocation list a verifier consults: token ids and subject keys. */
export interface Revocations {
  /** True when the token id is revoked. */
  tokenRevoked(id: string): boolean;
  /** True when the subject's Ed25519 (or CURVE) key is revoked. */
  keyRevoked(key: string): boolean;
}

/** A simple in-memory {@link Revocations}. */
export class RevocationList implements Revocations {
  readonly #ids = new Set<string>();
  readonly #keys = new Set<string>();

  /** Revokes a token id. */
  revokeToken(id: string): void {
    this.#ids.add(id);
  }

  /** Revokes a subject key (Ed25519 or CURVE, Z85). */
  revokeKey(key: string): void {
    this.#keys.add(key);
  }

  tokenRevoked(id: string): boolean {
    return this.#ids.has(id);
  }

  keyRevoked(key: string): boolean {
    return this.#keys.has(key);
  }
}

/**
 * Verifies a token: marker, size, a trusted issuer, the signature, strict
 * claims, expiry against `now` (wall clock ms) and the revocation list. Never
 * throws: untrusted bytes yield `{ ok: false, reason }`.
 */
export function verifyToken(
  bytes: Uint8Array,
  options: { issuers: ReadonlySet<string>; now: number; revocations?: Revocations },
): TokenCheck {
  if (
    !(bytes instanceof Uint8Array) ||
    bytes.length < 4 + 64 + 2 ||
    bytes.length > MAX_TOKEN_BYTES
  ) {
    return { ok: false, reason: "malformed" };
  }
  if (!MAGIC_BYTES.every((b, i) => bytes[i] === b)) return { ok: false, reason: "malformed" };
  const sig = bytes.subarray(4, 68);
  const body = bytes.subarray(68);
  let claims: TokenClaims;
  try {
    claims = JSON.parse(dec.decode(body)) as TokenClaims;
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (claimsProblem(claims) !== undefined) return { ok: false, reason: "malformed" };
  if (!options.issuers.has(claims.issuer)) return { ok: false, reason: "issuer" };
  const signed = concat(bytes.subarray(0, 4), body);
  if (!ed25519Verify(signed, sig, z85Decode(claims.issuer)))
    return { ok: false, reason: "signature" };
  if (!(claims.expires > options.now)) return { ok: false, reason: "expired" };
  const rl = options.revocations;
  if (
    rl !== undefined &&
    (rl.tokenRevoked(claims.id) ||
      rl.keyRevoked(claims.key) ||
      (claims.curve !== undefined && rl.keyRevoked(claims.curve)))
  ) {
    return { ok: false, reason: "revoked" };
  }
  return {
    ok: true,
    token: {
      ...claims,
      publishPatterns: claims.publish.map(parsePattern),
      subscribePatterns: claims.subscribe.map(parsePattern),
      bytes,
    },
  };
}

/** True when the token entitles its subject to subscribe with `pattern`. */
export function maySubscribe(token: VerifiedToken, pattern: TopicPattern): boolean {
  return token.subscribePatterns.some((p) => covers(p, pattern));
}

/** True when the token entitles its subject to publish on `topic`. */
export function mayPublish(token: VerifiedToken, topic: string): boolean {
  return token.publishPatterns.some((p) => matches(p, topic));
}

const isKey = (k: unknown): boolean => {
  if (typeof k !== "string" || k.length !== 40) return false;
  try {
    z85Decode(k);
    return true;
  } catch {
    return false;
  }
};

function claimsProblem(c: TokenClaims): string | undefined {
  if (typeof c !== "object" || c === null || Array.isArray(c)) return "not an object";
  const allowed = new Set([
    "id",
    "issuer",
    "key",
    "curve",
    "publish",
    "subscribe",
    "expires",
    "issued",
  ]);
  if (Object.keys(c).some((k) => !allowed.has(k))) return "unknown field";
  if (typeof c.id !== "string" || c.id.length === 0 || c.id.length > 128) return "id";
  if (!isKey(c.issuer)) return "issuer";
  if (!isKey(c.key)) return "key";
  if (c.curve !== undefined && !isKey(c.curve)) return "curve";
  if (!Array.isArray(c.publish) || !Array.isArray(c.subscribe)) return "topic lists";
  if (c.publish.length + c.subscribe.length > MAX_TOKEN_PATTERNS) return "too many patterns";
  for (const p of [...c.publish, ...c.subscribe]) {
    try {
      if (typeof p !== "string") return "pattern";
      parsePattern(p);
    } catch {
      return "pattern";
    }
  }
  if (!Number.isSafeInteger(c.expires) || !Number.isSafeInteger(c.issued)) return "times";
  return undefined;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
