import { defineConfig, mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      name: "@zg/serialize",
      coverage: {
        provider: "v8",
        include: ["src/**"],
        exclude: ["src/generated/**"],
        reporter: ["text-summary"],
      },
    },
  }),
);
