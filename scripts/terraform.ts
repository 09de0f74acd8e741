// npm run validate / npm run plan: terraform init + validate, or plan with a Markdown summary,
// for every stack (options: npm run plan -- --help). package.json passes the command first.
import { defineCli, EXIT_USAGE } from "./lib/cli";

const verbose = { type: "boolean", description: "stream terraform's own output" } as const;

const validateCli = defineCli({
  command: "npm run validate --",
  summary: "Synthesizes what gets deployed (target aws) and runs terraform init (offline provider mirror) and terraform validate in every stack.",
  options: { verbose },
});

const planCli = defineCli({
  command: "npm run plan --",
  summary:
    "terraform plan for every stack and workspace, then a Markdown summary per stack and workspace (resources to add, change, " +
    "replace, destroy; data-loss warnings first), whose path is printed at the end.",
  options: {
    online: { type: "boolean", description: "plan against the real S3 state with this shell's credentials (default: offline, empty state, -refresh=false)" },
    workspace: { type: "string", value: "<name>", multiple: true, description: "only this workspace" },
    stack: { type: "string", value: "<name>", multiple: true, description: "only this stack" },
    verbose,
  },
});

const [command, ...argv] = process.argv.slice(2);

/** Loaded once the command line is known, so that --help and mistakes answer at once. */
async function terraformTools() {
  const [{ synth }, cli, runs, { renderMarkdown }] = await Promise.all([
    import("./lib/synth"),
    import("./lib/terraform-cli"),
    import("./lib/terraform-runs"),
    import("./lib/plan-summary"),
  ]);
  return { synth, renderMarkdown, ...cli, ...runs };
}

if (command === "validate") {
  validateCli.main(async ({ values }) => {
    const { synth, terraformEnv, terraformVersion, validateAll } = await terraformTools();
    const started = performance.now();
    console.log(`validate: terraform ${terraformVersion()}, CLI config ${terraformEnv().TF_CLI_CONFIG_FILE}`);
    const { outdir } = synth({ target: "aws" });
    const stacks = await validateAll(outdir, { echo: values.verbose });
    console.log(`validate: ${stacks.length} stacks valid in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  }, argv);
} else if (command === "plan") {
  planCli.main(async ({ values }) => {
    const { synth, terraformEnv, terraformVersion, planAll, renderMarkdown, writeFileIn } = await terraformTools();
    const started = performance.now();
    console.log(`plan: terraform ${terraformVersion()}, CLI config ${terraformEnv().TF_CLI_CONFIG_FILE}`);
    console.log(
      values.online
        ? "plan: online: real S3 backend and deploy roles, with the credentials of this shell"
        : "plan: offline: local backend, stub credentials, -refresh=false (no AWS account is contacted)",
    );
    const { outdir } = synth({ target: values.online ? "aws" : "offline" });
    const summaries = await planAll(outdir, {
      online: values.online,
      workspaces: values.workspace.length > 0 ? values.workspace : undefined,
      stacks: values.stack.length > 0 ? values.stack : undefined,
      echo: values.verbose,
    });
    const heading = `Terraform plan (${values.online ? "online" : "offline, against empty state"})`;
    const path = writeFileIn(outdir, "plan-summary.md", renderMarkdown(summaries, heading));
    console.log(`plan: ${summaries.length} plans in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log(`plan: summary written to ${path}`);
    return 0;
  }, argv);
} else {
  process.stderr.write(`the first argument is validate or plan, got "${command ?? ""}"\n${validateCli.usage}\n${planCli.usage}\n`);
  process.exit(EXIT_USAGE);
}
