import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { silentLogger, type Logger } from "@zg/core/pure";
import { loadCertificate, type Certificate } from "./cert.js";

/**
 * Default period at which a {@link CertStore} directory is checked for changes,
 * 500 ms: czmq `zcertstore` rescans when the directory's mtime, file count or
 * size changes; polling twice a second meets battery F7 (a revoked key's new
 * handshakes refused ≤ 1 s).
 */
export const DEFAULT_CERT_RELOAD_INTERVAL = 500;

/** What a {@link CertStore.reload} changed. */
export interface CertStoreChange {
  /** Z85 public keys that appeared. */
  added: string[];
  /** Z85 public keys that disappeared (revoked). */
  removed: string[];
}

/**
 * The allow-list of an Ironhouse server: every public certificate in one
 * directory (czmq `zcert` text format; files ending in `_secret` and dot files
 * are skipped, unreadable or malformed files are logged and skipped), keyed by
 * Z85 public key. {@link reload} rescans only when the directory's signature
 * (names, sizes, mtimes) changed, as czmq's `zcertstore` does.
 */
export class CertStore {
  /** The directory scanned. */
  readonly dir: string;
  readonly #logger: Logger;
  #certs = new Map<string, Certificate>();
  #signature = "";
  #badFiles = 0;

  constructor(dir: string, { logger = silentLogger }: { logger?: Logger } = {}) {
    this.dir = dir;
    this.#logger = logger;
  }

  /** Number of allowed keys. */
  get size(): number {
    return this.#certs.size;
  }

  /** Files skipped as unreadable or malformed in the last scan. */
  get badFiles(): number {
    return this.#badFiles;
  }

  /** True when the Z85 public key is in the store. */
  has(publicKey: string): boolean {
    return this.#certs.has(publicKey);
  }

  /** The certificate of a Z85 public key, if allowed. */
  get(publicKey: string): Certificate | undefined {
    return this.#certs.get(publicKey);
  }

  /** The allowed Z85 public keys. */
  keys(): IterableIterator<string> {
    return this.#certs.keys();
  }

  /**
   * Rescans the directory if it changed (or always with `force`). A missing or
   * unreadable directory counts as empty: fail closed.
   */
  reload({ force = false } = {}): CertStoreChange {
    const files = this.#listing();
    const signature = files.map((f) => `${f.name}:${f.size}:${f.mtimeMs}`).join("|");
    if (!force && signature === this.#signature) return { added: [], removed: [] };
    this.#signature = signature;
    const next = new Map<string, Certificate>();
    let bad = 0;
    for (const f of files) {
      try {
        const cert = loadCertificate(join(this.dir, f.name));
        next.set(cert.publicKey, { publicKey: cert.publicKey, metadata: cert.metadata });
      } catch (error) {
        bad++;
        this.#logger.warn("skipping certificate file", { file: f.name, error: String(error) });
      }
    }
    this.#badFiles = bad;
    const added = [...next.keys()].filter((k) => !this.#certs.has(k));
    const removed = [...this.#certs.keys()].filter((k) => !next.has(k));
    this.#certs = next;
    if (added.length + removed.length > 0) {
      this.#logger.info("certificate store changed", {
        added: added.length,
        removed: removed.length,
      });
    }
    return { added, removed };
  }

  #listing(): { name: string; size: number; mtimeMs: number }[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      this.#logger.warn("certificate directory unreadable; allowing nobody", {
        dir: this.dir,
        error: String(error),
      });
      return [];
    }
    const out: { name: string; size: number; mtimeMs: number }[] = [];
    for (const name of names.sort()) {
      if (name.startsWith(".") || name.endsWith("_secret")) continue;
      try {
        const st = statSync(join(this.dir, name));
        if (st.isFile()) out.push({ name, size: st.size, mtimeMs: st.mtimeMs });
      } catch {
        /* vanished between readdir and stat */
      }
    }
    return out;
  }
}
