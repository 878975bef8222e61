import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  formatCertificate,
  generateCertificate,
  loadCertificate,
  publicCertificate,
  saveCertificate,
} from "./cert.js";

const USAGE = `usage:
  zg-keys new NAME [--dir DIR]     write DIR/NAME.key (public) and DIR/NAME.key_secret (mode 0600)
  zg-keys public FILE [--cert]     print the Z85 public key of a certificate (or its public certificate)`;

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
