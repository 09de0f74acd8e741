// npm run apply-check [-- options]: applies every stack of a workspace to moto with real
// Terraform, checks that a second plan changes nothing, destroys everything.
import { join } from "node:path";
import { MOTO_GAPS } from "../stacks/moto-target";
import { defineCli } from "./lib/cli";
import { applyCheck, ApplyCheckFailed } from "./lib/moto/apply-check";
import { motoUnavailableReason } from "./lib/moto/server";
import { REPO_ROOT } from "./lib/synth";
import { TerraformUnavailable, terraformEnv, terraformVersion } from "./lib/terraform-cli";

const cli = defineCli({
  command: "npm run apply-check --",
  summary:
    "Starts moto_server on a free loopback port, synthesizes the app with PLATFORM_TARGET=moto, applies every stack of the workspace in " +
    "dependency order (terraform apply, a provider override file pointing at moto), runs terraform plan -detailed-exitcode on each " +
    "(nothing may change but moto's listed gaps, stacks/moto-target.ts), then terraform destroy. Prints the time of every phase.",
  options: {
    workspace: { type: "string", value: "<name>", default: "dev", description: "workspace to apply" },
    "deploy-with": {
      type: "string",
      value: "<terraform|cdktf>",
      default: "terraform",
      choices: ["terraform", "cdktf"],
      description: "terraform: terraform apply per stack; cdktf: one cdktf deploy of every stack with the pinned CDKTF CLI",
    },
    outdir: { type: "string", value: "<dir>", default: join(REPO_ROOT, ".local", "apply-check"), description: "where the moto target is synthesized" },
    verbose: { type: "boolean", description: "stream terraform's own output" },
  },
  notes: [
    "Without moto_server or terraform the check is skipped with a warning (exit 0), unless REQUIRE_MOTO=1 / REQUIRE_TERRAFORM=1",
    "make that a failure (exit 1). moto: the machine's Python with moto 5.2.1, or pip install \"moto[server]\".",
  ],
});

function skipOrFail(reason: string, required: boolean): number {
  console.error(`\n!!! apply-check NOT RUN: ${reason}\n!!! nothing was applied; the Terraform is unchecked against an AWS emulator\n`);
  return required ? 1 : 0;
}

cli.main(async ({ values }) => {
  try {
    terraformVersion();
    terraformEnv();
  } catch (error) {
    if (error instanceof TerraformUnavailable) return skipOrFail(error.message, process.env.REQUIRE_TERRAFORM === "1");
    throw error;
  }
  const missing = motoUnavailableReason();
  if (missing) return skipOrFail(missing, process.env.REQUIRE_MOTO === "1");

  let report;
  try {
    report = await applyCheck({ workspace: values.workspace, outdir: values.outdir, deployWith: values["deploy-with"] as "terraform" | "cdktf", echo: values.verbose });
  } catch (error) {
    // The check's own verdict, already worded for the reader.
    if (error instanceof ApplyCheckFailed) {
      console.error(`\n${error.message}`);
      return 1;
    }
    throw error;
  }
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
  return 0;
});
