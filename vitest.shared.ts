import { configDefaults, defineConfig } from "vitest/config";

/**
 * Shared vitest settings for every workspace package. Workspace packages are
 * resolved to their TypeScript sources through the `@zg/source` export
 * condition, so tests never need a build of their dependencies.
 */
export const sharedConfig = defineConfig({
  resolve: { conditions: ["@zg/source"] },
  ssr: { resolve: { conditions: ["@zg/source"], externalConditions: ["@zg/source"] } },
  test: {
    exclude: [...configDefaults.exclude, "**/.tsbuild/**", "**/dist/**"],
    clearMocks: true,
    restoreMocks: true,
    retry: 0,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    allowOnly: !process.env["CI"],
  },
});
