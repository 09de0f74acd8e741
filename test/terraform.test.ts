// Real Terraform, offline: `terraform validate` for every stack, `terraform plan` for every stack
// and workspace, and a workspace outside the config refused by plan with a clear message.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { synth } from "../scripts/lib/synth";
import { readSynthesized } from "../scripts/lib/synthesized";
import { terraform } from "../scripts/lib/terraform-cli";
import { planAll, validateAll } from "../scripts/lib/terraform-runs";
import { loadConfig } from "../stacks/config";
import { terraformMissing } from "./helpers/tools";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

const config = loadConfig();

describe.skipIf(Boolean(terraformMissing))("terraform (offline mirror)", () => {
  let offlineOutdir: string;
  beforeAll(() => {
    offlineOutdir = mkdtempSync(join(tmpdir(), "terraform-offline-"));
    synth({ target: "offline", outdir: offlineOutdir });
  });

  it("terraform validate passes for every stack of the aws target", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "terraform-validate-"));
    synth({ target: "aws", outdir });
    const validated = await validateAll(outdir, { log: () => {} });
    expect(validated.sort()).toEqual(readSynthesized(outdir).map((s) => s.name).sort());
  }, 300_000);

  it("terraform plan succeeds offline for every stack in dev, staging and prod", async () => {
    const summaries = await planAll(offlineOutdir, { log: () => {} });
    const planned = summaries.map((s) => `${s.stack}/${s.workspace}`).sort();
    const expected = [
      ...config.regions.flatMap((r) => ["dev", "prod", "staging"].map((w) => `platform-${r}/${w}`)),
      ...["dev", "prod", "staging"].map((w) => `global-dns/${w}`),
      `org-guardrails/${config.organization.workspace}`,
    ].sort();
    expect(planned).toEqual(expected);
    for (const s of summaries) {
      expect(s.counts.create, `${s.stack}/${s.workspace}`).toBeGreaterThan(0);
      expect(s.counts.delete + s.counts.replace + s.counts.update).toBe(0);
    }
    const dns = summaries.find((s) => s.stack === "global-dns" && s.workspace === "prod")!;
    expect(dns.changes.filter((c) => c.type === "aws_route53_health_check")).toHaveLength(config.regions.length);
  }, 600_000);

  it.each(["bogus", "default"])("plan in workspace %s fails and names the workspace", async (workspace) => {
    const stack = readSynthesized(offlineOutdir).find((s) => s.name === "platform-us-west-2")!;
    const run = { cwd: stack.dir, label: workspace, env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x" } };
    if (!existsSync(join(stack.dir, ".terraform"))) await terraform(["init", "-input=false", "-no-color"], run);
    if (workspace !== "default") await terraform(["workspace", "select", "-or-create", workspace], run);
    else await terraform(["workspace", "select", "default"], run);
    const plan = await terraform(["plan", "-input=false", "-no-color", "-refresh=false", "-lock=false"], run);
    expect(plan.code).not.toBe(0);
    const message = plan.stderr.replace(/\s+/g, " ");
    expect(message).toContain(`Terraform workspace "${workspace}" is not an environment of stack platform-us-west-2`);
    expect(message).toContain("dev, prod, staging");
    // The guard is the only error: nothing else was evaluated with an unknown environment.
    expect(plan.stderr.match(/Error:/g)).toHaveLength(1);
  }, 300_000);
});
