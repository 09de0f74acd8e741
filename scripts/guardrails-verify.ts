// npm run guardrails:verify: the healthcare-compliance post's checks of the HIPAA guardrails,
// against AWS or the local cloud:
// - the organization's root has SCPs enabled;
// - the OU HIPAA-Accounts holds exactly the allow-list SCPs (FullAWSAccess detached from it);
// - each HIPAA account of the config is in that OU;
// - with a member account's credentials, a service outside the allow-list is denied
//   (workspaces:DescribeWorkspaces) and one inside it is allowed (dynamodb:GetItem).
//
//   npm run guardrails:verify -- --local                      the running local cloud (.local/endpoints.json)
//   npm run guardrails:verify [-- --member-role <name>]        AWS: management-account credentials from the
//                                                              environment; members through <name>
//                                                              (default OrganizationAccountAccessRole)
// Exit 0 when every check passes, 1 when one fails (each is printed with what to do).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { ListOrganizationalUnitsForParentCommand, ListPoliciesForTargetCommand, ListAccountsForParentCommand, ListRootsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { LocalEndpoints } from "../local/cloud";
import { loadConfig } from "../stacks/config";
import { HIPAA_OU_NAME } from "../stacks/org-guardrails";
import { HIPAA_POLICY_NAME, LAMBDA_GOVERNANCE_POLICY_NAME } from "../modules/org-guardrails";
import { defineCli, runsAsScript, UsageError } from "./lib/cli";
import { REPO_ROOT } from "./lib/synth";

const REGION = "us-east-1";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface Target {
  endpoint?: string;
  management: AwsCredentialIdentity | undefined;
  member(accountId: string): Promise<AwsCredentialIdentity>;
}

export function localTarget(file: string): Target {
  let endpoints: LocalEndpoints;
  try {
    endpoints = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read ${file} (${(error as Error).message}): is the local cloud running (npm start -- --workspace prod)?`);
  }
  const keys = (accountId: string) => {
    const key = endpoints.credentials[accountId];
    if (!key) throw new Error(`the local cloud has no account ${accountId} (accounts: ${Object.keys(endpoints.credentials).join(", ")}); start it in the organization's workspace`);
    return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  };
  return { endpoint: endpoints.services.edge, management: keys(loadConfig().organization.managementAccountId), member: async (id) => keys(id) };
}

function awsTarget(memberRole: string): Target {
  const sts = new STSClient({ region: REGION });
  return {
    management: undefined, // the SDK's default chain: the environment's management-account credentials
    async member(accountId) {
      const { Credentials: c } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/${memberRole}`, RoleSessionName: "guardrails-verify" }));
      return { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken };
    },
  };
}

/** WorkSpaces DescribeWorkspaces, signed by hand: the check needs only the answer's status and code. */
async function describeWorkspaces(target: Target, credentials: AwsCredentialIdentity): Promise<{ status: number; code: string }> {
  const url = new URL(target.endpoint ?? `https://workspaces.${REGION}.amazonaws.com/`);
  const headers = { host: url.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": "WorkspacesService.DescribeWorkspaces" };
  const signer = new SignatureV4({ service: "workspaces", region: REGION, credentials, sha256: Sha256 });
  const signed = await signer.sign({ method: "POST", protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, path: "/", headers, body: "{}" });
  const response = await fetch(url, { method: "POST", headers: signed.headers as Record<string, string>, body: "{}" });
  const body = (await response.json().catch(() => ({}))) as { __type?: string };
  return { status: response.status, code: String(body.__type ?? "").split("#").pop() ?? "" };
}

export async function verify(target: Target): Promise<Check[]> {
  const { organization, environments } = loadConfig();
  const orgs = new OrganizationsClient({ region: REGION, endpoint: target.endpoint, credentials: target.management });
  const checks: Check[] = [];
  const { Roots = [] } = await orgs.send(new ListRootsCommand({}));
  const root = Roots[0];
  const scpEnabled = root?.PolicyTypes?.some((t) => t.Type === "SERVICE_CONTROL_POLICY" && t.Status === "ENABLED") ?? false;
  checks.push({ name: "SCPs are enabled on the root", ok: scpEnabled, detail: scpEnabled ? `${root!.Id}` : "deploy org-guardrails (it enables the SERVICE_CONTROL_POLICY type)" });
  const { OrganizationalUnits = [] } = await orgs.send(new ListOrganizationalUnitsForParentCommand({ ParentId: root?.Id }));
  const ou = OrganizationalUnits.find((o) => o.Name === HIPAA_OU_NAME);
  checks.push({ name: `OU ${HIPAA_OU_NAME} exists under the root`, ok: !!ou, detail: ou ? ou.Id! : "deploy org-guardrails" });
  if (!ou) return checks;
  const { Policies = [] } = await orgs.send(new ListPoliciesForTargetCommand({ TargetId: ou.Id, Filter: "SERVICE_CONTROL_POLICY" }));
  const names = Policies.map((p) => p.Name!).sort();
  const expected = [HIPAA_POLICY_NAME, LAMBDA_GOVERNANCE_POLICY_NAME].sort();
  checks.push({
    name: "the OU's SCPs are the allow-list, FullAWSAccess detached",
    ok: JSON.stringify(names) === JSON.stringify(expected),
    detail: `${names.join(", ")}${names.includes("FullAWSAccess") ? ": FullAWSAccess still allows everything; walk it out (README, Guardrails)" : ""}`,
  });
  const { Accounts = [] } = await orgs.send(new ListAccountsForParentCommand({ ParentId: ou.Id }));
  const members = organization.hipaaAccounts.map((a) => environments[a.environment].accountId);
  const missing = members.filter((id) => !Accounts.some((a) => a.Id === id));
  checks.push({ name: "the HIPAA accounts are in the OU", ok: missing.length === 0, detail: missing.length ? `not in it: ${missing.join(", ")}` : members.join(", ") });

  const member = await target.member(members[0]);
  const workspaces = await describeWorkspaces(target, member);
  checks.push({
    name: `${members[0]}: workspaces:DescribeWorkspaces is denied`,
    ok: workspaces.code === "AccessDeniedException",
    detail: `${workspaces.status} ${workspaces.code || "(no error)"}`,
  });
  const dynamodb = new DynamoDBClient({ region: REGION, endpoint: target.endpoint, credentials: member, maxAttempts: 1 });
  let getItem = "allowed";
  try {
    await dynamodb.send(new GetItemCommand({ TableName: "Comments", Key: { commentId: { S: "guardrails-verify" } } }));
  } catch (error) {
    // A table that does not exist still proves the call got past IAM and the SCPs.
    if ((error as Error).name !== "ResourceNotFoundException") getItem = `${(error as Error).name}: ${(error as Error).message}`;
  }
  checks.push({ name: `${members[0]}: dynamodb:GetItem is allowed`, ok: getItem === "allowed", detail: getItem });
  return checks;
}

const cli = defineCli({
  command: "npm run guardrails:verify --",
  summary:
    "The healthcare-compliance post's checks of the HIPAA guardrails: SCPs enabled on the root, the OU's SCPs exactly the allow-list " +
    "(FullAWSAccess detached), the HIPAA accounts in the OU, and with a member account's credentials workspaces:DescribeWorkspaces denied " +
    "and dynamodb:GetItem allowed. Against AWS with the environment's management-account credentials, or the running local cloud. Exit 1 when a check fails.",
  options: {
    local: { type: "boolean", description: "check the running local cloud (npm start -- --workspace prod) instead of AWS" },
    endpoints: { type: "string", value: "<file>", description: "the local cloud's endpoints (default .local/endpoints.json); with --local" },
    "member-role": { type: "string", value: "<name>", default: "OrganizationAccountAccessRole", description: "AWS: the role assumed in a member account" },
  },
});

if (runsAsScript(import.meta.url)) {
  cli.main(async ({ values }) => {
    if (!/^[\w+=,.@-]{1,64}$/.test(values["member-role"])) throw new UsageError(`--member-role must be an IAM role name, got "${values["member-role"]}"`);
    if (values.endpoints && !values.local) throw new UsageError("--endpoints goes with --local");
    const target = values.local ? localTarget(values.endpoints ?? join(REPO_ROOT, ".local", "endpoints.json")) : awsTarget(values["member-role"]);
    const checks = await verify(target);
    for (const c of checks) console.log(`${c.ok ? "PASS" : "FAIL"}  ${c.name}: ${c.detail}`);
    return checks.every((c) => c.ok) ? 0 : 1;
  });
}
