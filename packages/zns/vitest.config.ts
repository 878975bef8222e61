import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      name: "@zg/zns",
      coverage: {
        provider: "v8",
        include: ["src/**"],
        reporter: ["text-summary"],
      },
    },
  }),
);
