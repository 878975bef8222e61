import {
  generateCertificate,
  issueToken,
  signingKeyPair,
  z85Encode,
  type Certificate,
} from "../../src/index.js";

/** A test issuer and a factory of identities with tokens. */
export function testIssuer(now = () => Date.now()) {
  const cert = generateCertificate({ name: "issuer" });
  const signKey = z85Encode(signingKeyPair(cert.secretKey as string).publicKey);
  let n = 0;
  const identity = (
    grants: { publish?: string[]; subscribe?: string[]; ttl?: number; id?: string } = {},
  ): {
    cert: Certificate;
    secretKey: string;
    signKey: string;
    token: Uint8Array;
    tokenId: string;
  } => {
    const c = generateCertificate();
    const secretKey = c.secretKey as string;
    const tokenId = grants.id ?? `t${++n}`;
    const token = issueToken(cert.secretKey as string, {
      id: tokenId,
      key: z85Encode(signingKeyPair(secretKey).publicKey),
      curve: c.publicKey,
      publish: grants.publish ?? [],
      subscribe: grants.subscribe ?? [],
      expires: now() + (grants.ttl ?? 3_600_000),
    });
    return {
      cert: c,
      secretKey,
      signKey: z85Encode(signingKeyPair(secretKey).publicKey),
      token,
      tokenId,
    };
  };
  return { cert, signKey, identity };
}
