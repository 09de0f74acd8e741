import { defineConfig } from "vitest/config";

export default defineConfig({
  // Lambdas import their SQL as text (`with { type: "text" }`), which esbuild bundles; tests load it the same way.
  plugins: [
    {
      name: "sql-as-text",
      transform: (code, id) => (id.endsWith(".sql") ? { code: `export default ${JSON.stringify(code)};`, map: null } : undefined),
    },
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: the terraform and local-cloud tests start processes of their own.
    maxWorkers: 2,
    reporters: ["default"],
    // The SDK warns once per process that its 2027 releases need Node 22; these machines run
    // Node 20 (the Lambdas run nodejs22.x in AWS), and the warning buries the test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
