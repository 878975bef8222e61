import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { onTestFinished } from "vitest";

/** A TCP endpoint on loopback with an ephemeral port: bind it and read `lastEndpoint`. */
export function tcpEndpoint(): string {
  return "tcp://127.0.0.1:*";
}

/** A unique `inproc://` name. */
export function inprocEndpoint(prefix = "zg"): string {
  return `inproc://${prefix}-${randomUUID()}`;
}

/**
 * An `ipc://` path in a fresh temp directory, removed when the current test
 * finishes (or at process exit when called outside a test).
 */
export function ipcEndpoint(name = "sock"): string {
  const dir = mkdtempSync(join(tmpdir(), "zg-ipc-"));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(cleanup);
  } catch {
    process.once("exit", cleanup);
  }
  return `ipc://${join(dir, name)}`;
}

/** The transports integration tests parametrize over (zeromq.js `testProtos` style). */
export const transports = {
  tcp: tcpEndpoint,
  ipc: ipcEndpoint,
} as const;

/** A fresh temp directory removed when the current test finishes. */
export function tempDir(prefix = "zg-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(cleanup);
  } catch {
    process.once("exit", cleanup);
  }
  return dir;
}
