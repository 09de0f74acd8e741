// AWS Organizations guardrails, deployed from the management account. An organization exists
// once, so this stack is deployed in one workspace only (config: organization.workspace).
import type { Construct } from "constructs";
import { OrgGuardrailsModule, PLATFORM_SERVICES, SEED_HIPAA_SERVICES } from "../modules/org-guardrails";
import type { PlatformConfig } from "./config";
import { PlatformStack, type DeployTarget } from "./platform-stack";

export const ORG_GUARDRAILS_STACK = "org-guardrails";
export const HIPAA_OU_NAME = "HIPAA-Accounts";

export interface OrgGuardrailsProps {
  config: PlatformConfig;
  target: DeployTarget;
}

export class OrgGuardrails extends PlatformStack {
  readonly guardrails: OrgGuardrailsModule;

  constructor(scope: Construct, props: OrgGuardrailsProps) {
    const { organization, environments } = props.config;
    super(scope, ORG_GUARDRAILS_STACK, {
      ...props,
      // Organizations is a global service; its API lives in us-east-1.
      region: "us-east-1",
      deployRoleArn: organization.deployRoleArn,
      accountId: organization.managementAccountId,
      workspaces: [organization.workspace],
    });

    this.guardrails = new OrgGuardrailsModule(this, "hipaa", {
      organizationId: organization.id,
      enabledPolicyTypes: organization.enabledPolicyTypes,
      ouName: HIPAA_OU_NAME,
      allowedServices: [...SEED_HIPAA_SERVICES, ...PLATFORM_SERVICES],
      allowedLambdaRuntimes: organization.allowedLambdaRuntimes,
      accounts: organization.hipaaAccounts.map((a) => ({ accountId: environments[a.environment].accountId, name: a.name, email: a.email })),
      fullAwsAccess: organization.fullAwsAccess,
      importExisting: props.target === "aws",
    });
  }
}
