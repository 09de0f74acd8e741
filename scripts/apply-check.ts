// npm run apply-check [-- options]: applies every stack of a workspace to moto with real
// Terraform, checks that a second plan changes nothing, destroys everything.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MOTO_GAPS } from "../stacks/moto-target";
import { applyCheck, ApplyCheckFailed } from "./lib/moto/apply-check";
import { motoUnavailableReason } from "./lib/moto/server";
import { REPO_ROOT } from "./lib/synth";
import { TerraformUnavailable, terraformEnv, terraformVersion } from "./lib/terraform-cli";

const USAGE = `usage: npm run apply-check -- [--workspace NAME] [--deploy-with terraform|cdktf] [--outdir DIR] [--verbose]

Starts moto_server on a free loopback port, synthesizes the app with PLATFORM_TARGET=moto, applies
every stack of the workspace in dependency order (terraform apply, provider override file pointing
at moto), runs terraform plan -detailed-exitcode on each (nothing may change but moto's listed
gaps, stacks/moto-target.ts), then terraform destroy. Prints the time of every phase.

  --workspace NAME  workspace to apply (default: dev)
  --deploy-with X   terraform (default): terraform apply per stack; cdktf: one cdktf deploy of
                    every stack with the pinned CDKTF CLI (it synthesizes main.ts itself)
  --outdir DIR      where the moto target is synthesized (default: .local/apply-check)
  --verbose         stream terraform's own output
  --help            this text

Without moto_server or terraform the check is skipped with a warning (exit 0), unless
REQUIRE_MOTO=1 / REQUIRE_TERRAFORM=1 make that a failure (exit 1).`;

function parse() {
  try {
    const { values } = parseArgs({
      strict: true,
      options: {
        workspace: { type: "string", default: "dev" },
        "deploy-with": { type: "string", default: "terraform" },
        outdir: { type: "string", default: join(REPO_ROOT, ".local", "apply-check") },
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
    if (values["deploy-with"] !== "terraform" && values["deploy-with"] !== "cdktf") throw new Error(`--deploy-with must be terraform or cdktf, got "${values["deploy-with"]}"`);
    return values as typeof values & { "deploy-with": "terraform" | "cdktf" };
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

function skipOrFail(reason: string, required: boolean): never {
  console.error(`\n!!! apply-check NOT RUN: ${reason}\n!!! nothing was applied; the Terraform is unchecked against an AWS emulator\n`);
  process.exit(required ? 1 : 0);
}

async function main() {
  const options = parse();
  if (options.help) {
    console.log(USAGE);
    return;
  }
  try {
    terraformVersion();
    terraformEnv();
  } catch (error) {
    if (error instanceof TerraformUnavailable) skipOrFail(error.message, process.env.REQUIRE_TERRAFORM === "1");
    throw error;
  }
  const missing = motoUnavailableReason();
  if (missing) skipOrFail(missing, process.env.REQUIRE_MOTO === "1");

  const report = await applyCheck({ workspace: options.workspace, outdir: options.outdir, deployWith: options["deploy-with"], echo: options.verbose });
  console.log("\napply-check passed");
  console.log("| stack | resources | apply s | plan s | destroy s |\n|---|---:|---:|---:|---:|");
  for (const s of report.stacks) console.log(`| ${s.stack} | ${s.resources} | ${s.applySeconds ?? "(cdktf deploy)"} | ${s.planSeconds} | ${s.destroySeconds} |`);
  const p = report.phases;
  console.log(
    `phases (s): synth ${p.synth}, moto start ${p.moto}, prerequisites ${p.prerequisites}, apply ${p.apply}, plan ${p.plan}, destroy ${p.destroy}, total ${p.total}`,
  );
  const byGap = new Map<string, string[]>();
  for (const m of report.explained) byGap.set(m.gap.id, [...(byGap.get(m.gap.id) ?? []), m.address]);
  for (const gap of MOTO_GAPS) {
    const seen = byGap.get(gap.id);
    console.log(`moto gap ${gap.id} (${gap.handling}${seen ? `, ${seen.length} changes` : ""}): ${gap.reason}`);
  }
}

main().catch((error: Error) => {
  console.error(error instanceof ApplyCheckFailed ? `\n${error.message}` : `\napply-check failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
