// Plan review between two revisions of a CDKTF app in its own git repository: the base commit's
// stacks are applied to moto, the working tree is planned against that state, and the summary
// shows the replacement (with its reason) and the destroy as data-loss warnings first, the policy
// change as a JSON diff, and never a secret (the summary is kept in .local/artifacts/plan-review.md).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planReview, PlanReviewFailed, type PlanReview } from "../scripts/lib/plan-review";
import { renderMarkdown } from "../scripts/lib/plan-summary";
import { REPO_ROOT } from "../scripts/lib/synth";
import { motoMissing } from "./helpers/tools";

interface FixtureRevision {
  hashKey: string;
  rangeKey?: string;
  actions: string[];
  buckets: string[];
  token: string;
}

/**
 * A small CDKTF app: a table, a role policy reading it (by name: the ARN of a table being replaced
 * is unknown until apply), buckets and a SecureString parameter.
 */
function fixtureApp(r: FixtureRevision): string {
  const keys = [r.hashKey, ...(r.rangeKey ? [r.rangeKey] : [])];
  return `import { App, LocalBackend, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";

const app = new App();
const stack = new TerraformStack(app, "review-fixture");
new LocalBackend(stack, { path: "terraform.review-fixture.tfstate" });
new AwsProvider(stack, "aws", { region: "us-east-1" });
const table = new DynamodbTable(stack, "orders", {
  name: "Orders",
  billingMode: "PAY_PER_REQUEST",
  hashKey: ${JSON.stringify(r.hashKey)},
  ${r.rangeKey ? `rangeKey: ${JSON.stringify(r.rangeKey)},` : ""}
  attribute: ${JSON.stringify(keys.map((name) => ({ name, type: "S" })))},
});
const role = new IamRole(stack, "reader", {
  name: "orders-reader",
  assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
});
new IamRolePolicy(stack, "reader-policy", {
  role: role.name,
  policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "ReadOrders", Effect: "Allow", Action: ${JSON.stringify(r.actions)}, Resource: ["arn:aws:dynamodb:*:*:table/" + table.name] }] }),
});
for (const bucket of ${JSON.stringify(r.buckets)}) new S3Bucket(stack, bucket, { bucket: "review-fixture-" + bucket });
new SsmParameter(stack, "api-token", { name: "/review-fixture/api-token", type: "SecureString", value: ${JSON.stringify(r.token)} });
app.synth();
`;
}

const BASE: FixtureRevision = { hashKey: "orderId", actions: ["dynamodb:GetItem"], buckets: ["exports", "archive"], token: "base-secret-1111" };
const HEAD: FixtureRevision = { hashKey: "customerId", rangeKey: "orderId", actions: ["dynamodb:GetItem", "dynamodb:Query"], buckets: ["exports"], token: "head-secret-2222" };

describe.skipIf(Boolean(motoMissing))("plan review against a base revision applied to moto", () => {
  // Inside the repository, so that the fixture's imports resolve to its node_modules.
  let root: string;
  let review: PlanReview;
  let markdown: string;

  beforeAll(async () => {
    mkdirSync(join(REPO_ROOT, ".local"), { recursive: true });
    root = mkdtempSync(join(REPO_ROOT, ".local", "plan-review-test-"));
    const repo = join(root, "repo");
    mkdirSync(repo);
    const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.name=test", "-c", "user.email=test@example.com", ...args]);
    git("init", "-q");
    writeFileSync(join(repo, "cdktf.json"), JSON.stringify({ language: "typescript", app: "npx tsx main.ts" }));
    writeFileSync(join(repo, "main.ts"), fixtureApp(BASE));
    git("add", ".");
    git("commit", "-q", "-m", "base");
    writeFileSync(join(repo, "main.ts"), fixtureApp(HEAD)); // the working tree is the head
    review = await planReview({ repoDir: repo, base: "HEAD", workspaces: ["dev"], workdir: join(root, "work"), log: () => {} });
    markdown = renderMarkdown(review.summaries, "Terraform plan", { guardrails: review.guardrails });
    // Kept for a look at what a pull request would show.
    mkdirSync(join(REPO_ROOT, ".local", "artifacts"), { recursive: true });
    writeFileSync(join(REPO_ROOT, ".local", "artifacts", "plan-review.md"), markdown);
  }, 600_000);

  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("counts the replacement, the update and the destroy", () => {
    expect(review.summaries.map((s) => [s.stack, s.counts])).toEqual([["review-fixture", { create: 0, update: 2, replace: 1, delete: 1 }]]);
    expect(markdown).toContain("| review-fixture | dev | 0 | 2 | 1 | 1 |");
  });

  it("warns of the data loss first: the table's replacement with its reason, and the destroyed bucket", () => {
    const warnings = markdown.indexOf("## :warning: Data loss");
    expect(warnings).toBeGreaterThan(0);
    expect(warnings).toBeLessThan(markdown.indexOf("| stack |"));
    const section = markdown.slice(warnings, markdown.indexOf("| stack |"));
    expect(section).toMatch(/\*\*replace\*\* `aws_dynamodb_table\.orders` \(review-fixture \/ dev\): .*`hash_key`.* replacement/);
    expect(section).toContain("**destroy** `aws_s3_bucket.archive` (review-fixture / dev)");
  });

  it("shows the policy statement's change as a JSON diff", () => {
    expect(markdown).toContain("`~` `aws_iam_role_policy.reader-policy` update");
    const diff = markdown.slice(markdown.indexOf("`policy`:"));
    expect(diff).toMatch(/^```diff$/m);
    expect(diff).toContain('-        "dynamodb:GetItem"\n+        "dynamodb:GetItem",\n+        "dynamodb:Query"');
  });

  it("masks the secret: the SecureString's value appears in neither revision", () => {
    expect(markdown).toContain("`~` `aws_ssm_parameter.api-token` update");
    expect(markdown).toContain("_(sensitive value)_");
    expect(markdown).not.toContain(BASE.token);
    expect(markdown).not.toContain(HEAD.token);
  });

  it("reports the head revision's guardrail findings", () => {
    expect(review.guardrails.findings.map((f) => `${f.rule} ${f.address}`)).toEqual(
      expect.arrayContaining(["dynamodb-encryption aws_dynamodb_table.orders", "s3-public-access aws_s3_bucket.exports"]),
    );
    expect(markdown).toMatch(/## Guardrails: \d+ findings/);
  });

  it("stays within a comment's size, pointing at the full summary", () => {
    const capped = renderMarkdown(review.summaries, "Terraform plan", { guardrails: review.guardrails, maxChars: markdown.indexOf("<details>") + 200, fullSummary: "artifact plan-summary-dev" });
    expect(capped.length).toBeLessThanOrEqual(markdown.indexOf("<details>") + 200);
    expect(capped).toContain("## :warning: Data loss");
    expect(capped).toMatch(/_… \d+ more changed resources are in the full summary: artifact plan-summary-dev\._/);
  });

  it("names a base that is not a revision", async () => {
    await expect(planReview({ repoDir: join(root, "repo"), base: "no-such-branch", workspaces: ["dev"], workdir: join(root, "bad"), log: () => {} })).rejects.toThrow(
      new PlanReviewFailed(`--base no-such-branch is not a revision of ${join(root, "repo")} (a branch, tag or commit; in CI, fetch it first)`),
    );
  });
});
