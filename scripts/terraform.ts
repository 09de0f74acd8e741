// npm run validate                 terraform init (offline mirror) + validate, every stack
// npm run plan [-- --online]       terraform plan, every stack and workspace, + a Markdown summary
// npm run plan -- --base REF       the working tree planned against the state of REF applied to moto
//   --workspace NAME (repeatable)  only these workspaces (with --base: default dev)
//   --stack NAME (repeatable)      only these stacks
//   --verbose                      stream terraform's own output
import { join } from "node:path";
import { parseArgs } from "node:util";
import { planReview } from "./lib/plan-review";
import { GITHUB_COMMENT_LIMIT, renderMarkdown } from "./lib/plan-summary";
import { REPO_ROOT, synth } from "./lib/synth";
import { terraformEnv, terraformVersion } from "./lib/terraform-cli";
import { planAll, validateAll, writeFileIn } from "./lib/terraform-runs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    online: { type: "boolean", default: false },
    base: { type: "string" },
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

  if (values.base !== undefined) {
    if (values.online || values.stack) throw new Error("--base plans every stack offline against moto: it takes neither --online nor --stack");
    await reviewAgainstBase(values.base, values.workspace ?? ["dev"], started);
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

/**
 * The working tree planned against the state the base revision's stacks leave when applied to
 * moto. Writes the full summary and one capped for a GitHub comment that points at the full one
 * (PLAN_SUMMARY_ARTIFACT names where CI keeps it).
 */
async function reviewAgainstBase(base: string, workspaces: string[], started: number) {
  const workdir = join(REPO_ROOT, ".local", "plan-review");
  const review = await planReview({ repoDir: REPO_ROOT, base, workspaces, workdir, echo: values.verbose });
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

main().catch((error: Error) => {
  console.error(`\n${error.message}`);
  process.exit(1);
});
