import { configDefaults, defineConfig } from "vitest/config";

/**
 * Test tiers, by file name (docs/architecture.md "Tests"):
 * - `*.test.ts`: pure logic, no sockets;
 * - `*.integration.test.ts`: real sockets;
 * - `*.fault.integration.test.ts`: real child processes kill -9'd, SIGSTOPped or restarted;
 * - `*.soak.integration.test.ts`: long healthy runs.
 * `ZG_TEST_TIER=unit` (`pnpm test:unit`, the seconds-long inner loop) runs only the first;
 * `ZG_TEST_TIER=fast` (`pnpm test:fast`) leaves out the last two; CI and `pnpm test` run everything.
 */
const tier = process.env["ZG_TEST_TIER"];
const slowTiers =
  tier === "unit"
    ? ["**/*.integration.test.ts"]
    : tier === "fast"
      ? ["**/*.fault.integration.test.ts", "**/*.soak.integration.test.ts"]
      : [];

/**
 * Shared vitest settings for every workspace package. Workspace packages are
 * resolved to their TypeScript sources through the `@zg/source` export
 * condition, so tests never need a build of their dependencies.
 */
export const sharedConfig = defineConfig({
  resolve: { conditions: ["@zg/source"] },
  ssr: { resolve: { conditions: ["@zg/source"], externalConditions: ["@zg/source"] } },
  test: {
    exclude: [...configDefaults.exclude, "**/.tsbuild/**", "**/dist/**", ...slowTiers],
    clearMocks: true,
    restoreMocks: true,
    retry: 0,
    // One test file at a time, whatever the machine reports: the fault and timing tests judge
    // detection windows of tens of milliseconds, and vitest's default (one worker per reported
    // CPU, minus one) would run several of them side by side on a machine whose CPU quota is
    // smaller than its CPU count. On the 2-core CI machine this is what the default does anyway.
    // Pure tests (the unit tier) may run side by side; anything with sockets or timing runs alone.
    fileParallelism: tier === "unit",
    testTimeout: 20_000,
    hookTimeout: 20_000,
    allowOnly: !process.env["CI"],
  },
});
