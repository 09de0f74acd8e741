// AWS Organizations guardrails, deployed from the management account. An organization exists
// once, so this stack is deployed in one workspace only (config: organization.workspace).
import type { Construct } from "constructs";
import { OrganizationsOrganizationalUnit } from "@cdktf/provider-aws/lib/organizations-organizational-unit";
import type { PlatformConfig } from "./config";
import { PlatformStack, type DeployTarget } from "./platform-stack";

export const ORG_GUARDRAILS_STACK = "org-guardrails";
export const HIPAA_OU_NAME = "HIPAA-Accounts";

export interface OrgGuardrailsProps {
  config: PlatformConfig;
  target: DeployTarget;
}

export class OrgGuardrails extends PlatformStack {
  constructor(scope: Construct, props: OrgGuardrailsProps) {
    const { organization } = props.config;
    super(scope, ORG_GUARDRAILS_STACK, {
      ...props,
      // Organizations is a global service; its API lives in us-east-1.
      region: "us-east-1",
      deployRoleArn: organization.deployRoleArn,
      accountId: organization.managementAccountId,
      workspaces: [organization.workspace],
    });

    new OrganizationsOrganizationalUnit(this, "hipaa-ou", {
      name: HIPAA_OU_NAME,
      parentId: organization.rootId,
    });
  }
}
