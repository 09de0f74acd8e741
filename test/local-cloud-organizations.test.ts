// Workspace prod on the local cloud: all four stacks deploy, org-guardrails included (it takes over
// the organization, enables SCPs on its root, creates the HIPAA OU and its SCPs, moves the member
// accounts in). Then the healthcare-compliance post's steps and checks, as written, with the AWS
// CLI v2 through the edge: list the OU's SCPs, detach FullAWSAccess once the allow-list is
// attached, and with a member account's credentials see workspaces:DescribeWorkspaces denied by
// the SCP while dynamodb:GetItem is allowed; npm run guardrails:verify says the same.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { loadConfig } from "../stacks/config";
import { localTarget, verify } from "../scripts/guardrails-verify";

const AWS = "/usr/bin/aws";
const { organization, environments } = loadConfig();
const MANAGEMENT = organization.managementAccountId;
const PROD = environments.prod.accountId;
let cloud: LocalCloud;
const home = mkdtempSync(join(tmpdir(), "org-cli-home-"));

beforeAll(async () => {
  cloud = await startPlatformCloud("org", { workspace: "prod" });
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

async function aws(accountId: string, ...args: string[]): Promise<any> {
  const endpoints = cloud.endpoints();
  const { accessKeyId, secretAccessKey } = endpoints.credentials[accountId];
  try {
    const { stdout } = await promisify(execFile)(AWS, ["--endpoint-url", endpoints.services.edge, "--region", "us-east-1", "--output", "json", ...args], {
      env: { PATH: process.env.PATH, HOME: home, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_CONFIG_FILE: join(home, "none"), AWS_SHARED_CREDENTIALS_FILE: join(home, "none"), AWS_PAGER: "" },
    });
    return stdout.trim() ? JSON.parse(stdout) : {};
  } catch (error) {
    return { error: String((error as { stderr?: string }).stderr ?? error) };
  }
}

describe("workspace prod on the local cloud", () => {
  it("deploys all four stacks", () => {
    expect(cloud.endpoints().stacks).toEqual({ deployed: ["platform-us-east-1", "platform-us-west-2", "global-dns", "org-guardrails"], skipped: [] });
  });

  it("every member account and the management account can be signed in to", () => {
    expect(Object.keys(cloud.endpoints().credentials).sort()).toEqual([MANAGEMENT, ...organization.hipaaAccounts.map((a) => environments[a.environment].accountId)].sort());
  });
});

describe.skipIf(!existsSync(AWS))("the healthcare-compliance post's checks, as written", () => {
  let ouId = "";

  it("the stack enabled SCPs on the root and put the allow-list beside FullAWSAccess on the OU", async () => {
    const { Roots } = await aws(MANAGEMENT, "organizations", "list-roots");
    expect(Roots[0].PolicyTypes).toContainEqual({ Type: "SERVICE_CONTROL_POLICY", Status: "ENABLED" });
    const { OrganizationalUnits } = await aws(MANAGEMENT, "organizations", "list-organizational-units-for-parent", "--parent-id", Roots[0].Id);
    ouId = OrganizationalUnits.find((o: { Name: string }) => o.Name === "HIPAA-Accounts").Id;
    const { Policies } = await aws(MANAGEMENT, "organizations", "list-policies-for-target", "--target-id", ouId, "--filter", "SERVICE_CONTROL_POLICY");
    expect(Policies.map((p: { Name: string }) => p.Name).sort()).toEqual(["FullAWSAccess", "hipaa-example-policy", "lambda-governance"]);
  });

  it("while FullAWSAccess is attached, a member may still call anything (every level must allow, and it does)", async () => {
    const target = localTarget(writeEndpoints());
    const checks = await verify(target);
    expect(checks.find((c) => c.name.includes("DescribeWorkspaces"))).toMatchObject({ ok: false });
  });

  it("with FullAWSAccess detached, workspaces:DescribeWorkspaces is denied to a member and dynamodb:GetItem allowed", async () => {
    expect(await aws(MANAGEMENT, "organizations", "detach-policy", "--policy-id", "p-FullAWSAccess", "--target-id", ouId)).toEqual({});
    const { Policies } = await aws(MANAGEMENT, "organizations", "list-policies-for-target", "--target-id", ouId, "--filter", "SERVICE_CONTROL_POLICY");
    expect(Policies.map((p: { Name: string }) => p.Name).sort()).toEqual(["hipaa-example-policy", "lambda-governance"]);

    const denied = await aws(PROD, "workspaces", "describe-workspaces");
    expect(denied.error).toContain("AccessDeniedException");
    expect(denied.error).toContain("because no service control policy allows the workspaces:DescribeWorkspaces action");
    expect(await aws(PROD, "dynamodb", "get-item", "--table-name", "Comments", "--key", '{"commentId":{"S":"none"}}')).toEqual({});
    // The management account is never restricted by SCPs.
    expect((await aws(MANAGEMENT, "workspaces", "describe-workspaces")).error).toContain("does not emulate the workspaces service");

    const checks = await verify(localTarget(writeEndpoints()));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
  });

  it("the platform in the member account keeps working under the allow-list", async () => {
    const health = await fetch(cloud.endpoints().regions["us-east-1"].healthUrl);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
  });

  it("refuses what Organizations refuses: a member reading the organization, a sixth SCP, the last SCP", async () => {
    expect((await aws(PROD, "organizations", "list-roots")).error).toContain("AccessDeniedException");
    const detachLast = await aws(MANAGEMENT, "organizations", "detach-policy", "--policy-id", "p-FullAWSAccess", "--target-id", PROD);
    expect(detachLast.error).toContain("ConstraintViolationException");
  });
});

/** endpoints.json as npm start writes it, for guardrails:verify. */
function writeEndpoints(): string {
  const file = join(mkdtempSync(join(tmpdir(), "org-endpoints-")), "endpoints.json");
  writeFileSync(file, JSON.stringify(cloud.endpoints()));
  return file;
}
