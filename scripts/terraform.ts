// npm run validate / npm run plan: terraform init + validate, or plan with a Markdown summary,
// for every stack (options: npm run plan -- --help). package.json passes the command first.
// `npm run plan -- --base REF` plans the working tree against the state REF's stacks leave when
// applied to moto, so that updates, replacements and destroys show as they would in a pull request.
import { defineCli, EXIT_USAGE, UsageError } from "./lib/cli";

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
    base: {
      type: "string",
      value: "<ref>",
      description: "plan the working tree against the state of this git revision's stacks applied to moto (needs moto_server; workspace dev unless --workspace)",
    },
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
    if (values.base !== undefined) {
      if (values.online || values.stack.length > 0) throw new UsageError("--base plans every stack offline against moto: it takes neither --online nor --stack");
      await reviewAgainstBase(values.base, values.workspace.length > 0 ? values.workspace : ["dev"], values.verbose, started);
      return 0;
    }
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

/**
 * The working tree planned against the state the base revision's stacks leave when applied to
 * moto. Writes the full summary and one capped for a GitHub comment that points at the full one
 * (PLAN_SUMMARY_ARTIFACT names where CI keeps it).
 */
async function reviewAgainstBase(base: string, workspaces: string[], verbose: boolean, started: number) {
  const [{ join }, { planReview }, { GITHUB_COMMENT_LIMIT, renderMarkdown }, { REPO_ROOT }, { writeFileIn }] = await Promise.all([
    import("node:path"),
    import("./lib/plan-review"),
    import("./lib/plan-summary"),
    import("./lib/synth"),
    import("./lib/terraform-runs"),
  ]);
  const workdir = join(REPO_ROOT, ".local", "plan-review");
  const review = await planReview({ repoDir: REPO_ROOT, base, workspaces, workdir, echo: verbose });
  const heading = `Terraform plan: working tree against ${base} (${review.baseCommit.slice(0, 12)})`;
  const notes = [
    `The stacks of ${base} were applied to moto (an AWS emulator) in workspace ${workspaces.join(", ")}; the working tree was planned against that state, offline (-refresh=false).`,
  ];
  const full = writeFileIn(workdir, "plan-summary-full.md", renderMarkdown(review.summaries, heading, { notes, guardrails: review.guardrails }));
  const fullSummary = process.env.PLAN_SUMMARY_ARTIFACT ?? full;
  // Room for the comment tool's own header.
  const capped = renderMarkdown(review.summaries, heading, { notes, guardrails: review.guardrails, maxChars: GITHUB_COMMENT_LIMIT - 1_000, fullSummary });
  const path = writeFileIn(workdir, "plan-summary.md", capped);
  console.log(`plan: ${review.summaries.length} plans in ${((performance.now() - started) / 1000).toFixed(1)} s; full summary ${full}`);
  console.log(`plan: summary written to ${path}`);
}
