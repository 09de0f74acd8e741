// npm run validate                 terraform init (offline mirror) + validate, every stack
// npm run plan [-- --online]       terraform plan, every stack and workspace, + a Markdown summary
//   --workspace NAME (repeatable)  only these workspaces
//   --stack NAME (repeatable)      only these stacks
//   --verbose                      stream terraform's own output
import { parseArgs } from "node:util";
import { renderMarkdown } from "./lib/plan-summary";
import { synth } from "./lib/synth";
import { terraformEnv, terraformVersion } from "./lib/terraform-cli";
import { planAll, validateAll, writeFileIn } from "./lib/terraform-runs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    online: { type: "boolean", default: false },
    workspace: { type: "string", multiple: true },
    stack: { type: "string", multiple: true },
    verbose: { type: "boolean", default: false },
  },
});

async function main() {
  const command = positionals[0];
  if (command !== "validate" && command !== "plan") throw new Error(`usage: terraform.ts validate|plan [options]; got "${command ?? ""}"`);
  const started = performance.now();
  console.log(`${command}: terraform ${terraformVersion()}, CLI config ${terraformEnv().TF_CLI_CONFIG_FILE}`);

  if (command === "validate") {
    // Validate what gets deployed: the aws target's configuration (its backend is not initialized).
    const { outdir } = synth({ target: "aws" });
    const stacks = await validateAll(outdir, { echo: values.verbose });
    console.log(`validate: ${stacks.length} stacks valid in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return;
  }

  const target = values.online ? "aws" : "offline";
  console.log(
    values.online
      ? "plan: online: real S3 backend and deploy roles, with the credentials of this shell"
      : "plan: offline: local backend, stub credentials, -refresh=false (no AWS account is contacted)",
  );
  const { outdir } = synth({ target });
  const summaries = await planAll(outdir, {
    online: values.online,
    workspaces: values.workspace,
    stacks: values.stack,
    echo: values.verbose,
  });
  const heading = `Terraform plan (${values.online ? "online" : "offline, against empty state"})`;
  const path = writeFileIn(outdir, "plan-summary.md", renderMarkdown(summaries, heading));
  console.log(`plan: ${summaries.length} plans in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`plan: summary written to ${path}`);
}

main().catch((error: Error) => {
  console.error(`\n${error.message}`);
  process.exit(1);
});
