import { fileURLToPath } from "node:url";
import { loadProtoRootSync } from "../src/index.js";

/** Absolute path of a file in the package. */
export function packagePath(relative: string): string {
  return fileURLToPath(new URL(`../${relative}`, import.meta.url));
}

/** The example schemas loaded by reflection (the same file the static code is generated from). */
export const examplesRoot = loadProtoRootSync(packagePath("proto/examples.proto"));

/** A Clone-style kv update used across tests and the bench. */
export function sampleKeyValue(sequence = 1n): {
  key: string;
  sequence: bigint;
  uuid: Buffer;
  properties: Record<string, string>;
  body: Buffer;
} {
  return {
    key: "/config/servers/alpha",
    sequence,
    uuid: Buffer.from("0123456789abcdeffedcba9876543210", "hex"),
    properties: { ttl: "30", owner: "node-7" },
    body: Buffer.alloc(100, 0x61),
  };
}
