import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

// Smoke tests run the BUILT bin (dist/main.js): turbo builds it first
// (turbo.json: test dependsOn build).
export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      name: "@zg/app-clone-server",
    },
  }),
);
