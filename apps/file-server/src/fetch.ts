#!/usr/bin/env node
// zg-fetch: fetch files from a zg-file-server, with a progress bar on a terminal and plain lines otherwise.
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { isZgError } from "@zg/core";
import {
  DEFAULT_FILE_ATTEMPTS,
  DEFAULT_FILE_CHUNK,
  DEFAULT_FILE_CREDIT,
  DEFAULT_FILE_TIMEOUT,
  FileClient,
  type FetchProgress,
} from "@zg/harmony";
import { DEFAULT_FILE_SERVER_ENDPOINT } from "./config.js";

const HELP = `Usage: zg-fetch [options] PATH [DEST]   (or: zg-fetch [options] PATH... --out DIR)

Fetches PATH (relative to the server's root) into DEST (default: ./basename(PATH)),
resuming a partial DEST.part left by an earlier run, verifying SHA-256 at the end.

Options:
  --server ENDPOINT   server endpoint (default ${DEFAULT_FILE_SERVER_ENDPOINT})
  --out DIR           destination directory when fetching several files
  --credit BYTES      bytes requested ahead (default ${DEFAULT_FILE_CREDIT}, fileio3 PIPELINE × CHUNK_SIZE)
  --chunk BYTES       bytes per chunk request (default ${DEFAULT_FILE_CHUNK}, fileio3 CHUNK_SIZE)
  --timeout MS        silence before reconnect-and-resume (default ${DEFAULT_FILE_TIMEOUT})
  --attempts N        reconnect rounds per file before giving up (default ${DEFAULT_FILE_ATTEMPTS})
  --progress MODE     bar | lines | none (default: bar on a terminal, lines otherwise)
  --help              this text

Exit codes: 0 done, 1 the fetch failed (one line on stderr says why), 2 bad usage.`;

function fail(message: string, code: number): never {
  process.stderr.write(`zg-fetch: ${message}\n`);
  process.exit(code);
}

function number(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0)
    fail(`--${name}: expected a positive integer, got ${text}`, 2);
  return n;
}

const human = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} kB`
        : `${n} B`;
const duration = (s: number) =>
  !Number.isFinite(s)
    ? "?"
    : s >= 3600
      ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s`
        : `${Math.round(s)}s`;

/** Renders progress: a bar redrawn in place on a TTY, one line every second (and at the end) otherwise. */
function progressPrinter(name: string, mode: "bar" | "lines" | "none") {
  const started = performance.now();
  let startBytes = -1;
  let lastLine = 0;
  return (p: FetchProgress, final = false) => {
    if (mode === "none") return;
    if (startBytes < 0) startBytes = p.bytes - 0;
    const now = performance.now();
    const secs = Math.max(0.001, (now - started) / 1000);
    const rate = (p.bytes - startBytes) / secs;
    const eta = rate > 0 ? (p.size - p.bytes) / rate : Infinity;
    const pct = p.size === 0 ? 100 : Math.floor((100 * p.bytes) / p.size);
    const stats = `${pct}% ${human(p.bytes)}/${human(p.size)} ${human(rate)}/s ETA ${duration(eta)}`;
    if (mode === "bar") {
      if (!final && now - lastLine < 100) return;
      lastLine = now;
      const width = 30;
      const filled = Math.round((width * pct) / 100);
      process.stderr.write(
        `\r${name} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${stats}\x1b[K${final ? "\n" : ""}`,
      );
    } else if (final || now - lastLine >= 1000) {
      lastLine = now;
      process.stderr.write(`${name} ${stats}\n`);
    }
  };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        server: { type: "string" },
        out: { type: "string" },
        credit: { type: "string" },
        chunk: { type: "string" },
        timeout: { type: "string" },
        attempts: { type: "string" },
        progress: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    fail(`${(error as Error).message} (see --help)`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (positionals.length === 0) fail("expected a PATH to fetch (see --help)", 2);
  const mode = (values.progress ?? (process.stderr.isTTY ? "bar" : "lines")) as
    "bar" | "lines" | "none";
  if (!["bar", "lines", "none"].includes(mode))
    fail(`--progress: expected bar, lines or none, got ${mode}`, 2);
  const jobs: [string, string][] =
    values.out !== undefined
      ? positionals.map((p) => [p, resolve(values.out!, basename(p))])
      : positionals.length === 1
        ? [[positionals[0]!, resolve(basename(positionals[0]!))]]
        : positionals.length === 2
          ? [[positionals[0]!, resolve(positionals[1]!)]]
          : fail("several PATHs need --out DIR", 2);
  let client: FileClient;
  try {
    client = new FileClient({
      server: values.server ?? DEFAULT_FILE_SERVER_ENDPOINT,
      credit: number("credit", values.credit, DEFAULT_FILE_CREDIT),
      chunkSize: number("chunk", values.chunk, DEFAULT_FILE_CHUNK),
      timeout: number("timeout", values.timeout, DEFAULT_FILE_TIMEOUT),
      attempts: number("attempts", values.attempts, DEFAULT_FILE_ATTEMPTS),
    });
  } catch (error) {
    fail((error as Error).message, 2);
  }
  await client.start();
  try {
    for (const [path, dest] of jobs) {
      const show = progressPrinter(path, mode);
      let last: FetchProgress = { bytes: 0, size: 0 };
      const r = await client.fetch(path, dest, {
        onProgress: (p) => {
          last = p;
          show(p);
        },
      });
      show({ bytes: r.size, size: r.size || last.size }, true);
      process.stdout.write(
        `${path} -> ${dest}: ${r.size} bytes, sha256 ${r.sha256}${r.resumedFrom > 0 ? `, resumed at ${r.resumedFrom}` : ""}${r.reconnects > 0 ? `, ${r.reconnects} reconnects` : ""}\n`,
      );
    }
  } catch (error) {
    await client.close();
    if (mode === "bar") process.stderr.write("\n");
    const status = isZgError(error) ? error.details["status"] : undefined;
    fail(
      isZgError(error) && error.code === "ZG_RETRIES_EXHAUSTED"
        ? `${error.message} (is zg-file-server running there?)`
        : `${(error as Error).message}${status === "403" ? " (refused: the path leaves the server's root)" : ""}`,
      1,
    );
  }
  await client.close();
}

await main();
