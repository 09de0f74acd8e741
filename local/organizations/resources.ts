// Terraform resource types of AWS Organizations, applied to the stack's account's organization.
// The organization and the member accounts exist outside Terraform and are imported (the stack's
// `import` blocks); OUs and policies are taken over on a restart of the local cloud as Terraform
// would keep them in its state.
import type { RegionServices } from "../cloud/services";
import { DeployError, type ResourceHandler } from "../deployer/types";
import { SCP, type Organization } from "./state";

type Handler = ResourceHandler<RegionServices>;

function organizationOf(services: RegionServices, accountId: string, address: string): Organization {
  const org = services.organizations.organizationOf(accountId);
  if (!org) throw new DeployError("AWS_ORGANIZATIONS_NOT_IN_USE", `${address}: account ${accountId} belongs to no organization (import the organization first)`);
  return org;
}

function organizationAttributes(services: RegionServices, org: Organization) {
  const accounts = org.accounts.map((a) => ({ id: a.id, arn: a.arn, name: a.name, email: a.email, status: a.status }));
  return {
    id: org.id,
    arn: org.arn,
    master_account_id: org.masterAccountId,
    master_account_arn: `arn:aws:organizations::${org.masterAccountId}:account/${org.id}/${org.masterAccountId}`,
    feature_set: org.featureSet,
    enabled_policy_types: org.root.policyTypes.map((t) => t.type),
    roots: [{ id: org.root.id, arn: org.root.arn, name: org.root.name, policy_types: org.root.policyTypes.map((t) => ({ type: t.type, status: t.status })) }],
    accounts,
    non_master_accounts: accounts.filter((a) => a.id !== org.masterAccountId),
    scp_enabled: services.organizations.scpEnabled(org),
  };
}

export const organizationsResources: Record<string, Handler> = {
  aws_organizations_organization: ({ config, services, accountId, importId, address }) => {
    if (!importId) throw new DeployError("UNSUPPORTED_ARGUMENT", `${address}: the local cloud takes over an existing organization (an import block); it does not create one`);
    const org = services.organizations.adopt(importId, accountId);
    if (config.feature_set && config.feature_set !== "ALL") throw new DeployError("UNSUPPORTED_ARGUMENT", `${address}: feature_set ${config.feature_set}: SCPs need ALL`);
    const wanted: string[] = config.enabled_policy_types ?? [];
    for (const type of wanted) if (!org.root.policyTypes.some((t) => t.type === type)) services.organizations.enablePolicyType(org, type);
    for (const { type } of [...org.root.policyTypes]) if (!wanted.includes(type)) services.organizations.disablePolicyType(org, type);
    const { scp_enabled: _scp, ...attributes } = organizationAttributes(services, org);
    return attributes;
  },

  aws_organizations_organizational_unit: ({ config, services, accountId, address }) => {
    const org = organizationOf(services, accountId, address);
    const ou = org.ous.find((o) => o.parentId === config.parent_id && o.name === config.name) ?? services.organizations.createOrganizationalUnit(org, config.parent_id, config.name);
    return { id: ou.id, arn: ou.arn, accounts: org.accounts.filter((a) => a.parentId === ou.id).map((a) => ({ id: a.id, arn: a.arn, name: a.name, email: a.email })) };
  },

  aws_organizations_policy: ({ config, services, accountId, address }) => {
    const org = organizationOf(services, accountId, address);
    const type = config.type ?? SCP;
    const existing = services.organizations.policies(org).find((p) => p.name === config.name && p.type === type && !p.awsManaged);
    const policy = existing
      ? services.organizations.updatePolicy(org, existing.id, config.content)
      : services.organizations.createPolicy(org, { name: config.name, description: config.description ?? "", type, content: config.content });
    return { id: policy.id, arn: policy.arn, aws_managed: false };
  },

  aws_organizations_policy_attachment: ({ config, services, accountId, address }) => {
    const org = organizationOf(services, accountId, address);
    const attached = (org.attachments[config.target_id] ?? []).includes(config.policy_id);
    if (!attached) services.organizations.attachPolicy(org, config.policy_id, config.target_id);
    return { id: `${config.target_id}:${config.policy_id}` };
  },

  aws_organizations_account: ({ config, services, accountId, importId, address, stableId }) => {
    const org = organizationOf(services, accountId, address);
    // Imported: the account exists and is (now) a member; otherwise CreateAccount makes one.
    const id = importId ?? String(parseInt(stableId(11, "0123456789"), 10)).padStart(12, "1");
    const member = services.organizations.joinAccount(org, id, config.name, config.email);
    if (config.parent_id && member.parentId !== config.parent_id) services.organizations.moveAccount(org, id, config.parent_id);
    return { id, arn: member.arn, status: member.status, joined_method: member.joinedMethod, parent_id: member.parentId, govcloud_id: "" };
  },
};
