// npm run synth [-- --target aws|offline] [--outdir DIR]
import { parseArgs } from "node:util";
import { targetFromEnv } from "../stacks/app";
import { ConfigError } from "../stacks/config";
import { synth } from "./lib/synth";

const { values } = parseArgs({
  options: { target: { type: "string" }, outdir: { type: "string" } },
});
try {
  const target = targetFromEnv(values.target ?? process.env.PLATFORM_TARGET);
  const started = performance.now();
  console.log(`synth: target ${target} (${target === "aws" ? "S3 state, deploy roles" : "local state, no credentials"})`);
  const result = synth({ target, outdir: values.outdir });
  for (const stack of result.stacks) console.log(`  ${stack} -> ${result.stackFile(stack)}`);
  console.log(`synth: ${result.stacks.length} stacks in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`synth failed: ${error instanceof ConfigError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
