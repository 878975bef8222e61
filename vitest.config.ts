import { defineConfig } from "vitest/config";

// Whole-repo runs and editors: one vitest project per workspace package.
export default defineConfig({
  test: {
    projects: ["packages/*", "apps/*", "tooling/*/vitest.config.ts"],
  },
});
