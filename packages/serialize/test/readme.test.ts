import { existsSync, readFileSync } from "node:fs";
import { expect, test } from "vitest";
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  DEFAULT_NEGOTIATION_TIMEOUT,
  ENVELOPE_SIGNATURE,
  NEGOTIATION_HEADER,
} from "../src/index.js";
import { packagePath } from "./helpers.js";

const readme = readFileSync(packagePath("README.md"), "utf8");

test("the README quick start is examples/quick-start.ts (which tsc checks)", () => {
  const block = /## Quick start\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  const file = readFileSync(packagePath("examples/quick-start.ts"), "utf8").replace(
    /^\/\* eslint-disable[^\n]*\n/,
    "",
  );
  expect(block).toBe(file);
  expect(block!.trim().split("\n").length).toBeLessThanOrEqual(15);
});

test("the options table matches the exported defaults", () => {
  const row = (name: string): string =>
    readme.split("\n").find((l) => l.startsWith(`| \`${name}\``)) ?? "";
  const digits = (s: string): number => Number(/= ([\d ]+)/.exec(s)?.[1]?.replace(/ /g, ""));
  expect(digits(row("maxBytes"))).toBe(DEFAULT_MAX_BYTES);
  expect(digits(row("maxDepth"))).toBe(DEFAULT_MAX_DEPTH);
  expect(digits(row("timeout"))).toBe(DEFAULT_NEGOTIATION_TIMEOUT);
  expect(readme).toContain(`\`${ENVELOPE_SIGNATURE} <type> <version>\``);
  expect(readme).toContain(`\`${NEGOTIATION_HEADER}\``);
});

test("every file the README links to exists", () => {
  const links = [...readme.matchAll(/\]\(((?:examples|test|proto|scripts)\/[^)]+)\)/g)].map(
    (m) => m[1]!,
  );
  expect(links.length).toBeGreaterThan(5);
  for (const link of links) expect(existsSync(packagePath(link)), link).toBe(true);
});
