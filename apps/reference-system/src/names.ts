import { writeZpl, type ZplNode } from "@zg/zns/zpl";

/**
 * The logical names the reference system publishes through its name service,
 * each with the connect endpoints its process actually bound.
 */
export type NameTable = Readonly<Record<string, readonly string[]>>;

/**
 * The names file (ZPL, `@zg/zns` schema `version = 1`) for `table`: one
 * `name/<logical>` block per entry with its `connect` list, in table order.
 * Entries with no endpoint are left out.
 */
export function namesFile(table: NameTable): string {
  const names: ZplNode[] = Object.entries(table)
    .filter(([, connect]) => connect.length > 0)
    .map(([name, connect]) => ({
      name,
      value: "",
      children: connect.map((endpoint) => ({ name: "connect", value: endpoint, children: [] })),
    }));
  return (
    "# Written by the zg reference system from the endpoints its processes bound.\n" +
    writeZpl([
      { name: "zns", value: "", children: [{ name: "version", value: "1", children: [] }] },
      { name: "name", value: "", children: names },
    ])
  );
}
