// The org-guardrails SCPs, read from the synthesized stack and evaluated with the platform's
// policy evaluator: the seed's verification, the platform never locked out, Lambda governance.
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate, type AuthorizationRequest, type PolicyDocument } from "../local/iam/evaluator";
import { FULL_AWS_ACCESS_POLICY_ID, HIPAA_POLICY_NAME, LAMBDA_GOVERNANCE_POLICY_NAME } from "../modules/org-guardrails";
import { listOf, statementsOf } from "../scripts/lib/guardrails/policy-document";
import { SCP_MAX_CHARACTERS } from "../scripts/lib/guardrails/rules";
import type { TerraformJson } from "../scripts/lib/synthesized";
import { loadConfig, type OrganizationSettings } from "../stacks/config";
import { ORG_GUARDRAILS_STACK } from "../stacks/org-guardrails";
import { resources, synthTo, type Synthesized } from "./helpers/synth";

const config = loadConfig();
const withPhase = (fullAwsAccess: OrganizationSettings["fullAwsAccess"]) => ({ ...config, organization: { ...config.organization, fullAwsAccess } });

/** AWS's FullAWSAccess SCP, attached by AWS to the root, every OU and every account. */
const FULL_AWS_ACCESS: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
/** The administrator of the seed's HIPAA account: the identity policy allows everything. */
const ADMIN: PolicyDocument = FULL_AWS_ACCESS;

/** SCPs by level (root, HIPAA OU, account) as the synthesized org-guardrails stack leaves them. */
function scpLevels(org: TerraformJson, phase: OrganizationSettings["fullAwsAccess"]): PolicyDocument[][] {
  const policies = resources(org, "aws_organizations_policy");
  const [ouId] = Object.keys(resources(org, "aws_organizations_organizational_unit"));
  const attached = Object.values(resources(org, "aws_organizations_policy_attachment"))
    .filter((a) => a.target_id === `\${aws_organizations_organizational_unit.${ouId}.id}`)
    .map((a) => {
      if (a.policy_id === FULL_AWS_ACCESS_POLICY_ID) return FULL_AWS_ACCESS;
      const id = /^\$\{aws_organizations_policy\.([\w-]+)\.id\}$/.exec(a.policy_id)![1];
      return JSON.parse(policies[id].content) as PolicyDocument;
    });
  // Until it is adopted into state, AWS's own FullAWSAccess attachment is there without Terraform.
  const ou = phase === "attached" ? [...attached, FULL_AWS_ACCESS] : attached;
  return [[FULL_AWS_ACCESS], ou, [FULL_AWS_ACCESS]];
}

const inHipaaAccount = (scps: PolicyDocument[][], request: AuthorizationRequest) =>
  evaluate(request, { identityPolicies: [ADMIN], serviceControlPolicies: scps });
const anyResource = (action: string, context?: AuthorizationRequest["context"]): AuthorizationRequest => ({ action, resource: "*", context });

/** What creating each resource type of the platform calls first (every action of a prefix is alike to an SCP that allows `<prefix>:*`). */
const DEPLOY_ACTIONS: Array<[typePrefix: string, action: string]> = [
  ["aws_api_gateway_", "apigateway:POST"],
  ["aws_acm_", "acm:RequestCertificate"],
  ["aws_cloudwatch_log_", "logs:CreateLogGroup"],
  ["aws_cloudwatch_event_", "events:PutRule"],
  ["aws_cloudwatch_metric_alarm", "cloudwatch:PutMetricAlarm"],
  ["aws_cloudwatch_dashboard", "cloudwatch:PutDashboard"],
  ["aws_dynamodb_", "dynamodb:CreateTable"],
  ["aws_iam_", "iam:CreateRole"],
  ["aws_kinesis_analytics_", "kinesisanalytics:CreateApplication"],
  ["aws_kinesis_stream", "kinesis:CreateStream"],
  ["aws_kms_", "kms:CreateKey"],
  ["aws_lambda_", "lambda:CreateFunction"],
  ["aws_route53_", "route53:ChangeResourceRecordSets"],
  ["aws_s3_", "s3:CreateBucket"],
  ["aws_sns_", "sns:CreateTopic"],
  ["aws_ssm_", "ssm:PutParameter"],
  ["aws_wafv2_", "wafv2:CreateWebACL"],
  ["terraform_remote_state", "s3:GetObject"],
];
/** Terraform's own resource types, which call no AWS API. */
const TERRAFORM_TYPES = ["terraform_data"];
/** The provider itself: who am I, roles handed to services, default tags. */
const PROVIDER_ACTIONS = ["sts:GetCallerIdentity", "sts:AssumeRole", "iam:PassRole", "tag:TagResources"];

/** Every API action the platform's own stacks need, deploying and running, with where it comes from. */
function platformActions(synth: Synthesized): Map<string, string> {
  const needed = new Map<string, string>(PROVIDER_ACTIONS.map((a) => [a, "provider"]));
  for (const stack of synth.stacks.filter((s) => s.name !== ORG_GUARDRAILS_STACK)) {
    const types = [...Object.keys(stack.json.resource ?? {}), ...Object.keys(stack.json.data ?? {})];
    for (const type of types.filter((t) => !TERRAFORM_TYPES.includes(t))) {
      const deploy = DEPLOY_ACTIONS.find(([prefix]) => type.startsWith(prefix));
      if (!deploy) throw new Error(`${stack.name}: resource type ${type} has no deploy action in DEPLOY_ACTIONS; add it`);
      needed.set(deploy[1], `${stack.name} ${type}`);
    }
    const policyTexts = [
      ...Object.entries(resources(stack.json, "aws_iam_role_policy")).map(([id, r]) => [`aws_iam_role_policy.${id}`, r.policy]),
      ...Object.entries(resources(stack.json, "aws_iam_role")).map(([id, r]) => [`aws_iam_role.${id} trust`, r.assume_role_policy]),
    ];
    for (const [where, text] of policyTexts) {
      for (const statement of statementsOf(text)) for (const action of listOf(statement.Action)) needed.set(action, `${stack.name} ${where}`);
    }
    for (const [id, p] of Object.entries(resources(stack.json, "aws_lambda_permission"))) needed.set(p.action, `${stack.name} aws_lambda_permission.${id}`);
  }
  return needed;
}

let attached: Synthesized;
let detached: Synthesized;
beforeAll(() => {
  attached = synthTo("aws", withPhase("attached"));
  detached = synthTo("aws", withPhase("detached"));
});

describe("hipaa-example-policy (the seed's verification)", () => {
  it("with FullAWSAccess detached, workspaces:DescribeWorkspaces is denied by the SCP although the identity policy allows it", () => {
    const scps = scpLevels(detached.stack(ORG_GUARDRAILS_STACK), "detached");
    const result = inHipaaAccount(scps, anyResource("workspaces:DescribeWorkspaces"));
    expect(result.decision).toBe("ImplicitDeny");
    expect(result.reason).toContain("level 1");
    expect(evaluate(anyResource("workspaces:DescribeWorkspaces"), { identityPolicies: [ADMIN] }).decision).toBe("Allow");
  });

  it("with FullAWSAccess detached, dynamodb:GetItem is allowed", () => {
    const scps = scpLevels(detached.stack(ORG_GUARDRAILS_STACK), "detached");
    expect(inHipaaAccount(scps, { action: "dynamodb:GetItem", resource: "arn:aws:dynamodb:us-east-1:333333333333:table/Users" }).decision).toBe("Allow");
  });

  it("while FullAWSAccess is still attached, the allow-list does not restrict yet (why it must be detached)", () => {
    const scps = scpLevels(attached.stack(ORG_GUARDRAILS_STACK), "attached");
    expect(inHipaaAccount(scps, anyResource("workspaces:DescribeWorkspaces")).decision).toBe("Allow");
  });

  it("allows every action the platform's own stacks need to deploy and run", () => {
    const scps = scpLevels(detached.stack(ORG_GUARDRAILS_STACK), "detached");
    const needed = platformActions(detached);
    expect(needed.size).toBeGreaterThan(40);
    const blocked = [...needed].filter(([action]) => inHipaaAccount(scps, anyResource(action)).decision !== "Allow");
    expect(blocked.map(([action, from]) => `${action} (${from})`)).toEqual([]);
  });

  it("keeps every SCP under the size limit", () => {
    for (const p of Object.values(resources(detached.stack(ORG_GUARDRAILS_STACK), "aws_organizations_policy"))) {
      expect(p.content.length, p.name).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
      console.log(`SCP ${p.name}: ${p.content.length} characters`);
    }
  });
});

describe("lambda-governance", () => {
  let scps: PolicyDocument[][];
  beforeAll(() => {
    scps = scpLevels(detached.stack(ORG_GUARDRAILS_STACK), "detached");
  });
  const decision = (action: string, context: Record<string, string>) => inHipaaAccount(scps, anyResource(action, context)).decision;

  it("denies function URLs without IAM auth, allows AWS_IAM", () => {
    for (const action of ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"]) {
      expect(decision(action, { "lambda:FunctionUrlAuthType": "NONE" })).toBe("ExplicitDeny");
      expect(decision(action, { "lambda:FunctionUrlAuthType": "AWS_IAM" })).toBe("Allow");
    }
  });

  it("denies runtimes outside the allowed list, allows nodejs22.x and configuration changes that keep the runtime", () => {
    expect(decision("lambda:CreateFunction", { "lambda:Runtime": "python3.8" })).toBe("ExplicitDeny");
    expect(decision("lambda:UpdateFunctionConfiguration", { "lambda:Runtime": "nodejs16.x" })).toBe("ExplicitDeny");
    expect(decision("lambda:CreateFunction", { "lambda:Runtime": "nodejs22.x" })).toBe("Allow");
    expect(decision("lambda:UpdateFunctionConfiguration", {})).toBe("Allow");
  });

  it("allows the runtime of every function the platform deploys", () => {
    const runtimes = detached.stacks.flatMap((s) => Object.values(resources(s.json, "aws_lambda_function")).map((f) => f.runtime as string));
    expect(runtimes.length).toBeGreaterThan(0);
    for (const runtime of new Set(runtimes)) expect(decision("lambda:CreateFunction", { "lambda:Runtime": runtime }), runtime).toBe("Allow");
  });
});

describe("org-guardrails stack", () => {
  it("attaches both SCPs to the OU and moves the configured accounts in after them, importing each", () => {
    const org = attached.stack(ORG_GUARDRAILS_STACK);
    const policies = Object.values(resources(org, "aws_organizations_policy")).map((p) => p.name);
    expect(policies.sort()).toEqual([HIPAA_POLICY_NAME, LAMBDA_GOVERNANCE_POLICY_NAME].sort());
    const attachments = Object.keys(resources(org, "aws_organizations_policy_attachment"));
    expect(attachments).toHaveLength(2);
    const accounts = Object.entries(resources(org, "aws_organizations_account"));
    const expectedIds = config.organization.hipaaAccounts.map((a) => config.environments[a.environment].accountId);
    expect(accounts).toHaveLength(expectedIds.length);
    const imports = (org as any).import as Array<{ id: string; to: string }>;
    for (const [id, account] of accounts) {
      expect(account.parent_id).toMatch(/^\$\{aws_organizations_organizational_unit\./);
      expect(account.lifecycle.prevent_destroy).toBe(true);
      expect(account.depends_on).toEqual(attachments.map((a) => `aws_organizations_policy_attachment.${a}`));
      expect(imports).toContainEqual({ id: expect.stringMatching(/^\d{12}$/), to: `aws_organizations_account.${id}` });
    }
    // The accounts and the organization itself: nothing that exists in AWS is created from here.
    expect(imports.map((i) => i.id).sort()).toEqual([...expectedIds, config.organization.id].sort());
  });

  it("adopts FullAWSAccess only after the allow-list is attached, then drops it to detach", () => {
    const adopt = synthTo("aws", withPhase("adopt")).stack(ORG_GUARDRAILS_STACK);
    const all = resources(adopt, "aws_organizations_policy_attachment");
    const [fullId, full] = Object.entries(all).find(([, a]) => a.policy_id === FULL_AWS_ACCESS_POLICY_ID)!;
    const allowList = Object.keys(all).filter((id) => id !== fullId);
    expect(full.depends_on.sort()).toEqual(allowList.map((id) => `aws_organizations_policy_attachment.${id}`).sort());
    expect((adopt as any).import).toContainEqual({ id: `${full.target_id}:${FULL_AWS_ACCESS_POLICY_ID}`, to: `aws_organizations_policy_attachment.${fullId}` });

    const gone = Object.values(resources(detached.stack(ORG_GUARDRAILS_STACK), "aws_organizations_policy_attachment"));
    expect(gone.map((a) => a.policy_id)).not.toContain(FULL_AWS_ACCESS_POLICY_ID);
  });

  it("has no import blocks in the offline target (they need credentials to plan)", () => {
    const offline = synthTo("offline", withPhase("adopt")).stack(ORG_GUARDRAILS_STACK);
    expect((offline as any).import).toBeUndefined();
  });
});
