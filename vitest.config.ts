import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: the terraform and local-cloud tests start processes of their own.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
