#!/usr/bin/env node
// zg-clone: inspect and change live configuration held by zg-clone-server (12/CHP).
//   zg-clone [--server tcp://127.0.0.1:5556]... get KEY
//   zg-clone set KEY VALUE [--ttl 30s]      delete KEY      watch [--prefix /config/]
// Prints one JSON line per result; exit code 0 on success, 1 on failure (e.g. not confirmed), 2 for usage.
import { parseArgs } from "node:util";
import { CloneClient } from "@zg/clone";

const USAGE = `usage: zg-clone [--server ENDPOINT]... [--timeout MS] COMMAND
commands:
  get KEY                 print the value of KEY
  set KEY VALUE [--ttl MS] set KEY (confirmed by the server's sequence number)
  delete KEY              delete KEY everywhere
  watch [--prefix P]      print every change under P until interrupted
  list [--prefix P]       print every key under P
options:
  --server   a server's snapshot endpoint tcp://host:P, or snapshot,publisher,collector
             (repeat for a pair; default tcp://127.0.0.1:5556)
  --timeout  ms to wait for the snapshot or a confirmation (default 10000)
`;

function out(o: Record<string, unknown>): void {
  process.stdout.write(
    `${JSON.stringify(o, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))}\n`,
  );
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        server: { type: "string", multiple: true },
        ttl: { type: "string" },
        prefix: { type: "string" },
        timeout: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, key, value] = positionals;
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const timeout = Number(values.timeout ?? 10_000);
  const valid =
    Number.isFinite(timeout) &&
    ((command === "get" && key !== undefined) ||
      (command === "set" && key !== undefined && value !== undefined) ||
      (command === "delete" && key !== undefined) ||
      command === "watch" ||
      command === "list");
  if (!valid) {
    process.stderr.write(USAGE);
    return 2;
  }
  const client = new CloneClient({
    servers: (values.server ?? ["tcp://127.0.0.1:5556"]).map((s) => {
      const [snapshot = "", publisher = "", collector = ""] = s.split(",");
      return s.includes(",") ? { snapshot, publisher, collector } : s;
    }),
    subscribeWait: 1500,
  });
  try {
    await client.start();
    await client.waitSynced({ timeout });
    switch (command) {
      case "get":
        out({
          key,
          value: client.getString(key!) ?? null,
          sequence: client.sequenceOf(key!) ?? null,
        });
        return client.get(key!) === undefined ? 1 : 0;
      case "list":
        for (const [k, v] of client.entries(values.prefix ?? ""))
          out({ key: k, value: v.toString("utf8") });
        return 0;
      case "set": {
        const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
        const sequence = await client.set(key!, value!, {
          timeout,
          ...(ttl === undefined ? {} : { ttl }),
        });
        out({ key, value, sequence });
        return 0;
      }
      case "delete":
        out({ key, deleted: true, sequence: await client.delete(key!, { timeout }) });
        return 0;
      default: {
        const stop = new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        out({ event: "watching", prefix: values.prefix ?? "", keys: client.size });
        const changes = (async () => {
          for await (const c of client.changes(values.prefix ?? "")) {
            out({ key: c.key, value: c.value?.toString("utf8") ?? null, sequence: c.sequence });
          }
        })();
        await stop;
        await client.close();
        await changes;
        return 0;
      }
    }
  } catch (error) {
    process.stderr.write(`zg-clone: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

process.exitCode = await main();
