// npm run synth: synthesizes every stack (options: npm run synth -- --help).
import { targetFromEnv } from "../stacks/app";
import { DEPLOY_TARGETS } from "../stacks/platform-stack";
import { defineCli } from "./lib/cli";
import { synth } from "./lib/synth";

const cli = defineCli({
  command: "npm run synth --",
  summary: "Synthesizes every stack of the app into Terraform JSON (cdk.tf.json per stack) and Lambda zips, without running anything.",
  options: {
    target: {
      type: "string",
      value: `<${DEPLOY_TARGETS.join("|")}>`,
      choices: DEPLOY_TARGETS,
      description:
        "aws: S3 state and deploy roles (what gets deployed); offline: local state, no credentials; moto: offline without what moto cannot create (stacks/moto-target.ts). Default: $PLATFORM_TARGET, else aws",
    },
    outdir: { type: "string", value: "<dir>", description: "where to write the stacks (default cdktf.out, or cdktf.out/offline for target offline)" },
  },
});

cli.main(({ values }) => {
  const target = values.target ? targetFromEnv(values.target) : targetFromEnv();
  const started = performance.now();
  console.log(`synth: target ${target} (${target === "aws" ? "S3 state, deploy roles" : target === "moto" ? "local state, no credentials, moto's gaps left out" : "local state, no credentials"})`);
  const result = synth({ target, outdir: values.outdir });
  for (const stack of result.stacks) console.log(`  ${stack} -> ${result.stackFile(stack)}`);
  console.log(`synth: ${result.stacks.length} stacks in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return 0;
});
