// AWS Organizations guardrails for the HIPAA accounts: the organization itself (imported, so that
// the SCP policy type is enabled on its root by this stack rather than assumed), an OU under the
// root, the HIPAA allow-list SCP and the Lambda governance SCP attached to it, existing member
// accounts moved into it, and AWS's default FullAWSAccess attachment on the OU taken over and then
// detached (see FullAwsAccessPhase: Terraform can only detach what its state holds).
import { Construct } from "constructs";
import { OrganizationsAccount } from "@cdktf/provider-aws/lib/organizations-account";
import { OrganizationsOrganization } from "@cdktf/provider-aws/lib/organizations-organization";
import { OrganizationsOrganizationalUnit } from "@cdktf/provider-aws/lib/organizations-organizational-unit";
import { OrganizationsPolicy } from "@cdktf/provider-aws/lib/organizations-policy";
import { OrganizationsPolicyAttachment } from "@cdktf/provider-aws/lib/organizations-policy-attachment";
import { hipaaAllowList, lambdaGovernance, type ScpDocument } from "./policies";

export { PLATFORM_SERVICES, SEED_HIPAA_SERVICES, hipaaAllowList, lambdaGovernance, type ScpDocument } from "./policies";

export const FULL_AWS_ACCESS_POLICY_ID = "p-FullAWSAccess";
export const HIPAA_POLICY_NAME = "hipaa-example-policy";
export const LAMBDA_GOVERNANCE_POLICY_NAME = "lambda-governance";

/**
 * AWS attaches FullAWSAccess to every new OU, outside Terraform. Detaching it takes two applies:
 * - `attached`: the allow-list SCPs are attached; FullAWSAccess stays (AWS's, not in state).
 * - `adopt`: the attachment is declared and imported (`import` block, `<ou id>:p-FullAWSAccess`),
 *   after the allow-list attachments; nothing changes in AWS.
 * - `detached`: the declaration is gone, so Terraform destroys the attachment: DetachPolicy.
 */
export type FullAwsAccessPhase = "attached" | "adopt" | "detached";

export interface MemberAccount {
  accountId: string;
  /** Name and email as the account has them: they identify it, and changing them would replace it. */
  name: string;
  email: string;
}

export interface OrgGuardrailsProps {
  /** The existing organization (o-...), imported: an organization is never created from here. */
  organizationId: string;
  /** Every policy type the root has enabled; SERVICE_CONTROL_POLICY among them. */
  enabledPolicyTypes: readonly string[];
  ouName: string;
  /** Service prefixes the allow-list SCP permits (`<prefix>:*`). */
  allowedServices: readonly string[];
  allowedLambdaRuntimes: readonly string[];
  /** Existing accounts of the organization to place in the OU. */
  accounts: MemberAccount[];
  fullAwsAccess: FullAwsAccessPhase;
  /**
   * Emit `import` blocks for what already exists in AWS (the organization, the member accounts,
   * the FullAWSAccess attachment). They need credentials at plan time, so an offline plan goes without them.
   */
  importExisting: boolean;
}

export class OrgGuardrailsModule extends Construct {
  readonly ouId: string;
  /** The SCPs this module attaches to the OU, by policy name. */
  readonly policies: Record<string, { id: string; document: ScpDocument }>;

  constructor(scope: Construct, id: string, props: OrgGuardrailsProps) {
    super(scope, id);
    const organization = new OrganizationsOrganization(this, "organization", {
      featureSet: "ALL",
      // SCPs only apply once the policy type is enabled on the root: part of this stack.
      enabledPolicyTypes: [...props.enabledPolicyTypes],
      lifecycle: {
        preventDestroy: true,
        // Trusted services belong to whoever enabled them (CloudTrail, IAM Identity Center, ...).
        ignoreChanges: ["aws_service_access_principals"],
      },
    });
    if (props.importExisting) organization.importFrom(props.organizationId);
    const ou = new OrganizationsOrganizationalUnit(this, "ou", { name: props.ouName, parentId: organization.roots.get(0).id });
    this.ouId = ou.id;

    const documents: Record<string, { description: string; document: ScpDocument }> = {
      [HIPAA_POLICY_NAME]: {
        description: "All HIPAA eligible services plus supporting AWS services and what the platform runs on.",
        document: hipaaAllowList(props.allowedServices),
      },
      [LAMBDA_GOVERNANCE_POLICY_NAME]: {
        description: "Lambda function URLs only with AWS_IAM auth; functions only on approved runtimes.",
        document: lambdaGovernance(props.allowedLambdaRuntimes),
      },
    };
    this.policies = {};
    const attachments: OrganizationsPolicyAttachment[] = [];
    for (const [name, { description, document }] of Object.entries(documents)) {
      const policy = new OrganizationsPolicy(this, name, {
        name,
        description,
        type: "SERVICE_CONTROL_POLICY",
        content: JSON.stringify(document),
        dependsOn: [organization],
      });
      attachments.push(new OrganizationsPolicyAttachment(this, `${name}-attachment`, { policyId: policy.id, targetId: ou.id }));
      this.policies[name] = { id: policy.id, document };
    }

    if (props.fullAwsAccess === "adopt") {
      const fullAccess = new OrganizationsPolicyAttachment(this, "full-aws-access", {
        policyId: FULL_AWS_ACCESS_POLICY_ID,
        targetId: ou.id,
        // Taken over only once the allow-list holds, so that detaching it never leaves the OU
        // with nothing allowed in between.
        dependsOn: attachments,
      });
      if (props.importExisting) fullAccess.importFrom(`${ou.id}:${FULL_AWS_ACCESS_POLICY_ID}`);
    }

    for (const account of props.accounts) {
      const member = new OrganizationsAccount(this, `account-${account.accountId}`, {
        name: account.name,
        email: account.email,
        parentId: ou.id,
        // Accounts are moved, never created or closed from here: a config slip must not replace one.
        closeOnDeletion: false,
        lifecycle: { preventDestroy: true, ignoreChanges: ["name", "email", "role_name", "iam_user_access_to_billing"] },
        // The move waits for the guardrails, so an account never sits in the OU without them.
        dependsOn: attachments,
      });
      if (props.importExisting) member.importFrom(account.accountId);
    }
  }
}
