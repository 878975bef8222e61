#!/usr/bin/env node
// zg-zns: look a name up through the local agent. `zg-zns resolve NAME [--env ENV] [--agent EP] [--timeout MS]`
import { parseArgs } from "node:util";
import { isZgError } from "@zg/core";
import { agentEndpoint, ZnsClient } from "@zg/zns";

const USAGE = `usage: zg-zns resolve NAME [--env ENV] [--agent ENDPOINT] [--timeout MS]

Looks NAME up through the local zg-zns-agent and prints one JSON line:
{"name":…,"connect":[…],"bind":[…],"source":"feed|cache|local","stale":false,"ttl":…}

  --env ENV        environment (default: the agent's)
  --agent ENDPOINT the agent's lookup endpoint (default: ${agentEndpoint()})
  --timeout MS     give up after MS milliseconds (default: 3000)

Exit codes: 0 found; 1 no agent answered; 2 usage; 3 unknown name.`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        env: { type: "string" },
        agent: { type: "string" },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    process.stderr.write(`zg-zns: error: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, name, ...rest] = positionals;
  if (command !== "resolve" || name === undefined || rest.length > 0) {
    process.stderr.write(`zg-zns: error: expected "resolve NAME"\n${USAGE}\n`);
    return 2;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
    process.stderr.write(
      `zg-zns: error: --timeout: expected a positive number of ms, got ${values.timeout}\n`,
    );
    return 2;
  }
  let client: ZnsClient;
  try {
    client = new ZnsClient({
      ...(values.agent === undefined ? {} : { agent: values.agent }),
      ...(timeout === undefined ? {} : { timeout }),
    });
  } catch (e) {
    process.stderr.write(`zg-zns: error: ${(e as Error).message}\n`);
    return 2;
  }
  await client.start();
  try {
    const r = await client.resolve(name, values.env === undefined ? {} : { env: values.env });
    process.stdout.write(`${JSON.stringify({ name, ...r })}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`zg-zns: ${(e as Error).message}\n`);
    if (isZgError(e, "ZG_INVALID_ARGUMENT")) return 2;
    if (isZgError(e, "ZG_UNREACHABLE")) return 3;
    return 1;
  } finally {
    await client.close();
  }
}

process.exitCode = await main();
