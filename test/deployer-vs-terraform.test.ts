// The local cloud's deployer checked against Terraform itself: every resource attribute whose
// value `terraform plan` knows before apply (offline plan, `terraform show -json`) equals what the
// deployer evaluated for it, for every stack of workspace dev, typed by the provider's schema.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Fn, LocalBackend, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { compareDeployerWithTerraform, compareWithPlan, describeDifference, resourceSchemas, type Comparison } from "../scripts/lib/deployer-vs-terraform";
import type { PlanJson } from "../scripts/lib/terraform-json";
import { synth } from "../scripts/lib/synth";
import { readSynthesized } from "../scripts/lib/synthesized";
import { terraform } from "../scripts/lib/terraform-cli";
import { OFFLINE_ENV } from "../scripts/lib/terraform-runs";
import { terraformMissing } from "./helpers/tools";

const WORKSPACE = "dev";

/** Values whose encoding Terraform defines and a hand-written evaluator easily gets wrong. */
function synthFixture(): string {
  const outdir = mkdtempSync(join(tmpdir(), "deployer-fixture-"));
  const app = new App({ outdir, stackTraces: false });
  const stack = new TerraformStack(app, "fixture");
  new LocalBackend(stack, { path: "terraform.fixture.tfstate" });
  new AwsProvider(stack, "aws", { region: "us-east-1", skipCredentialsValidation: true, skipRequestingAccountId: true, skipMetadataApiCheck: "true" });
  // jsonencode escapes <, > and & (\u003c, \u003e, \u0026), as Go's encoding/json does.
  new SsmParameter(stack, "alert-template", {
    name: "/fixture/alert-template",
    type: "String",
    value: Fn.jsonencode({ subject: "<b>Anomaly</b> & spike", limits: { "p<99": 1 } }),
  });
  // A set of strings is ordered by bytes ("Prod" < "_canary" < "beta"), not by a locale's collation.
  new SsmParameter(stack, "stages", { name: "/fixture/stages", type: "String", value: Fn.join(",", Fn.tolist(Fn.toset(["prod", "beta", "_canary", "Prod"]))) });
  app.synth();
  return outdir;
}

async function deployAndCompare(outdir: string, stacks = readSynthesized(outdir)): Promise<Comparison> {
  const cloud = await LocalCloud.start({ outdir, workspace: WORKSPACE, dataDir: mkdtempSync(join(tmpdir(), "deployer-vs-tf-data-")), port: 0 });
  try {
    return await compareDeployerWithTerraform(stacks, WORKSPACE, cloud.deployed);
  } finally {
    await cloud.stop();
  }
}

const report = (c: Comparison) => [...c.unmatched, ...c.differences.map(describeDifference)].join("\n");

describe.skipIf(Boolean(terraformMissing))("the local deployer against terraform plan", () => {
  it("every attribute Terraform knows before apply equals the deployer's value, for every stack of dev", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "deployer-vs-tf-"));
    synth({ target: "offline", outdir });
    const stacks = readSynthesized(outdir).filter((s) => s.workspaces.includes(WORKSPACE));
    expect(stacks.map((s) => s.name).sort()).toEqual(["global-dns", "platform-us-east-1", "platform-us-west-2"]);
    const comparison = await deployAndCompare(outdir, stacks);
    expect(report(comparison)).toBe("");
    expect(comparison.compared).toBeGreaterThan(1000);
  }, 300_000);

  describe("a fixture of values the evaluator once got wrong", () => {
    let outdir: string;
    let comparison: Comparison;
    beforeAll(async () => {
      outdir = synthFixture();
      comparison = await deployAndCompare(outdir);
    }, 120_000);

    it("jsonencode's escapes and a set's order agree with Terraform", () => {
      expect(report(comparison)).toBe("");
      expect(comparison.compared).toBeGreaterThanOrEqual(6);
    });

    it("a difference names the stack, the address, the attribute and both values", async () => {
      const [stack] = readSynthesized(outdir);
      const plan = await terraform(["show", "-json", "-no-color", "compare.tfplan"], { cwd: stack.dir, label: stack.name, env: OFFLINE_ENV });
      const planJson = JSON.parse(plan.stdout) as PlanJson;
      const wrong = { name: stack.name, region: "us-east-1", accountId: "", outputs: {}, resources: new Map() };
      for (const rc of planJson.resource_changes ?? []) wrong.resources.set(rc.address, { type: rc.type, attributes: { ...rc.change.after } });
      wrong.resources.get("aws_ssm_parameter.stages")!.attributes.value = "_canary,Prod,beta,prod";
      const found = compareWithPlan(stack.name, planJson, wrong, await resourceSchemas(stack.dir));
      expect(found.differences.map(describeDifference)).toEqual([
        'fixture: aws_ssm_parameter.stages: value: terraform plan has "Prod,_canary,beta,prod", the deployer evaluated "_canary,Prod,beta,prod"',
      ]);
    });
  });
});

