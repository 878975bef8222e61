import { ZnsClient } from "@zg/zns";

/**
 * Resolves `names` through the ZNS agent at `agent` (one lookup each, the
 * agent's answer not cached in this process) and returns their connect
 * endpoints. A name the agent does not know rejects (`ZG_UNREACHABLE`), so a
 * demo process that cannot find its broker fails to start and says why.
 */
export async function resolveNames<N extends string>(
  agent: string,
  names: readonly N[],
): Promise<Record<N, string[]>> {
  const zns = new ZnsClient({ agent, cacheEntries: 0 });
  await zns.start();
  try {
    const out = {} as Record<N, string[]>;
    for (const name of names) {
      const { connect } = await zns.resolve(name);
      if (connect.length === 0) throw new Error(`name ${name} has no connect endpoint`);
      out[name] = connect;
    }
    return out;
  } finally {
    await zns.close();
  }
}

/** The Clone server's three endpoints from the `clone` name's connect list (snapshot, publisher, collector). */
export function cloneAddress(connect: readonly string[]): {
  snapshot: string;
  publisher: string;
  collector: string;
} {
  const [snapshot, publisher, collector] = connect;
  if (snapshot === undefined || publisher === undefined || collector === undefined)
    throw new Error(
      `the clone name needs three connect endpoints (snapshot, publisher, collector), got ${connect.length}`,
    );
  return { snapshot, publisher, collector };
}
