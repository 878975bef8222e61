import { randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  formatCertificate,
  generateCertificate,
  loadCertificate,
  publicCertificate,
  saveCertificate,
} from "./cert.js";
import { issueToken } from "./pubsub/token.js";

const USAGE = `usage:
  zg-keys new NAME [--dir DIR]     write DIR/NAME.key (public) and DIR/NAME.key_secret (mode 0600)
  zg-keys public FILE [--cert]     print the Z85 public key of a certificate (or its public certificate)
  zg-keys token --issuer SECRET_FILE --for CERT_FILE [--publish P,…] [--subscribe P,…] [--ttl SECONDS] [--id ID] --out FILE
                                   issue an entitlement token (patterns: "a/b" exact, "a/*" prefix)`;

/**
 * The `zg-keys` command: creates CURVE certificates in czmq's `zcert` format
 * and prints public keys. Returns the exit code; writes to the given streams.
 */
export function runKeysCli(
  argv: readonly string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
  err: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): number {
  const [command, ...rest] = argv;
  const flag = (name: string): string | undefined => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const positional = rest.filter(
    (a, i) => !a.startsWith("--") && !(rest[i - 1] ?? "").startsWith("--dir"),
  );
  try {
    if (command === "new" && positional[0] !== undefined && /^[\w.-]+$/.test(positional[0])) {
      const dir = flag("--dir") ?? ".";
      mkdirSync(dir, { recursive: true });
      const cert = generateCertificate({ name: positional[0] });
      const files = saveCertificate(cert, join(dir, `${positional[0]}.key`));
      out(`public-key ${cert.publicKey}`);
      out(`public ${files.publicFile}`);
      out(`secret ${files.secretFile ?? ""}`);
      return 0;
    }
    if (command === "token") {
      const issuerFile = flag("--issuer");
      const forFile = flag("--for");
      const outFile = flag("--out");
      if (issuerFile === undefined || forFile === undefined || outFile === undefined) {
        err(USAGE);
        return 2;
      }
      const issuer = loadCertificate(issuerFile);
      if (issuer.secretKey === undefined)
        throw new Error(`${issuerFile} is not a secret certificate`);
      const subject = loadCertificate(forFile);
      const signKey = subject.metadata["sign-public-key"];
      if (signKey === undefined)
        throw new Error(`${forFile} has no sign-public-key (make it with zg-keys new)`);
      const list = (name: string): string[] =>
        (flag(name) ?? "")
          .split(",")
          .map((x) => x.trim())
          .filter((x) => x !== "");
      const ttl = Number(flag("--ttl") ?? 86_400);
      if (!Number.isFinite(ttl) || ttl <= 0)
        throw new Error("--ttl must be a positive number of seconds");
      const id = flag("--id") ?? randomUUID();
      const token = issueToken(issuer.secretKey, {
        id,
        key: signKey,
        curve: subject.publicKey,
        publish: list("--publish"),
        subscribe: list("--subscribe"),
        expires: Date.now() + ttl * 1000,
      });
      writeFileSync(outFile, token, { mode: 0o600 });
      out(`token ${id} ${outFile}`);
      return 0;
    }
    if (command === "public" && positional[0] !== undefined) {
      const cert = loadCertificate(positional[0]);
      if (rest.includes("--cert")) out(formatCertificate(publicCertificate(cert)));
      else out(cert.publicKey);
      return 0;
    }
  } catch (error) {
    err(`zg-keys: ${(error as Error).message}`);
    return 1;
  }
  err(USAGE);
  return 2;
}
