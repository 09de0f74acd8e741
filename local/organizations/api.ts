// AWS Organizations' API behind the edge (awsJson1.1, `X-Amz-Target:
// AWSOrganizationsV20161128.<Operation>`), a global service. Only the management account may read
// or change its organization (a member gets AccessDeniedException, as AWS answers it), except
// DescribeOrganization, which every member may call.
import { AwsServiceError } from "../lib/aws-wire";
import { jsonText, jsonProtocolService, type JsonOperation } from "../lib/json-protocol";
import type { EdgeCall, EdgeService } from "../edge/types";
import { SCP, type Organization, type OrganizationsState, type Policy } from "./state";

interface Context {
  state: OrganizationsState;
  org: Organization;
  caller: string;
}

function management(context: Context): Organization {
  if (context.org.masterAccountId !== context.caller) {
    throw new AwsServiceError("AccessDeniedException", "You don't have permissions to access this resource. Only the management account of the organization may call this operation.");
  }
  return context.org;
}

/** The organization whose root the input's RootId names (policy types are enabled on a root). */
function rootNamed(context: Context, input: Record<string, unknown>): Organization {
  const org = management(context);
  if (jsonText(input.RootId) !== org.root.id) throw new AwsServiceError("RootNotFoundException", `We can't find a root with the RootId that you specified: ${jsonText(input.RootId)}`);
  return org;
}

const summary = (p: Policy) => ({ Id: p.id, Arn: p.arn, Name: p.name, Description: p.description, Type: p.type, AwsManaged: p.awsManaged });
const account = (a: Organization["accounts"][number]) => ({ Id: a.id, Arn: a.arn, Name: a.name, Email: a.email, Status: a.status, JoinedMethod: a.joinedMethod, JoinedTimestamp: Date.parse(a.joinedTimestamp) / 1000 });
const root = (org: Organization) => ({ Id: org.root.id, Arn: org.root.arn, Name: org.root.name, PolicyTypes: org.root.policyTypes.map((t) => ({ Type: t.type, Status: t.status })) });

const OPERATIONS: Record<string, JsonOperation<Context>> = {
  DescribeOrganization: {
    run: ({ org }) => ({
      Organization: {
        Id: org.id,
        Arn: org.arn,
        FeatureSet: org.featureSet,
        MasterAccountId: org.masterAccountId,
        MasterAccountArn: `arn:aws:organizations::${org.masterAccountId}:account/${org.id}/${org.masterAccountId}`,
        AvailablePolicyTypes: [{ Type: SCP, Status: "ENABLED" }],
      },
    }),
  },
  ListRoots: { run: (c) => ({ Roots: [root(management(c))] }) },
  ListOrganizationalUnitsForParent: {
    run: (c, _r, input) => ({
      OrganizationalUnits: management(c)
        .ous.filter((o) => o.parentId === jsonText(input.ParentId))
        .map((o) => ({ Id: o.id, Arn: o.arn, Name: o.name })),
    }),
  },
  DescribeOrganizationalUnit: {
    run: (c, _r, input) => {
      const ou = management(c).ous.find((o) => o.id === jsonText(input.OrganizationalUnitId));
      if (!ou) throw new AwsServiceError("OrganizationalUnitNotFoundException", `We can't find an OU with the OrganizationalUnitId that you specified: ${jsonText(input.OrganizationalUnitId)}`);
      return { OrganizationalUnit: { Id: ou.id, Arn: ou.arn, Name: ou.name } };
    },
  },
  ListAccounts: { run: (c) => ({ Accounts: management(c).accounts.map(account) }) },
  ListAccountsForParent: { run: (c, _r, input) => ({ Accounts: management(c).accounts.filter((a) => a.parentId === jsonText(input.ParentId)).map(account) }) },
  ListParents: {
    run: (c, _r, input) => {
      const org = management(c);
      const id = jsonText(input.ChildId);
      const parent = org.accounts.find((a) => a.id === id)?.parentId ?? org.ous.find((o) => o.id === id)?.parentId;
      if (!parent) throw new AwsServiceError("ChildNotFoundException", `We can't find an OU or account with the ChildId that you specified: ${id}`);
      return { Parents: [{ Id: parent, Type: parent === org.root.id ? "ROOT" : "ORGANIZATIONAL_UNIT" }] };
    },
  },
  ListPolicies: { run: (c, _r, input) => ({ Policies: c.state.policies(management(c)).filter((p) => p.type === (jsonText(input.Filter) || SCP)).map(summary) }) },
  DescribePolicy: {
    run: (c, _r, input) => {
      const policy = c.state.policy(management(c), jsonText(input.PolicyId));
      return { Policy: { PolicySummary: summary(policy), Content: policy.content } };
    },
  },
  ListPoliciesForTarget: {
    run: (c, _r, input) => ({ Policies: c.state.policiesForTarget(management(c), jsonText(input.TargetId), jsonText(input.Filter) || SCP).map(summary) }),
  },
  ListTargetsForPolicy: {
    run: (c, _r, input) => {
      const org = management(c);
      return {
        Targets: c.state.targetsForPolicy(org, jsonText(input.PolicyId)).map((id) => {
          const type = id === org.root.id ? "ROOT" : id.startsWith("ou-") ? "ORGANIZATIONAL_UNIT" : "ACCOUNT";
          const name = id === org.root.id ? org.root.name : (org.ous.find((o) => o.id === id)?.name ?? org.accounts.find((a) => a.id === id)?.name ?? id);
          return { TargetId: id, Type: type, Name: name, Arn: "" };
        }),
      };
    },
  },
  AttachPolicy: { run: (c, _r, input) => (c.state.attachPolicy(management(c), jsonText(input.PolicyId), jsonText(input.TargetId)), {}) },
  DetachPolicy: { run: (c, _r, input) => (c.state.detachPolicy(management(c), jsonText(input.PolicyId), jsonText(input.TargetId)), {}) },
  EnablePolicyType: {
    run: (c, _r, input) => {
      const org = rootNamed(c, input);
      c.state.enablePolicyType(org, jsonText(input.PolicyType));
      return { Root: root(org) };
    },
  },
  DisablePolicyType: {
    run: (c, _r, input) => {
      const org = rootNamed(c, input);
      c.state.disablePolicyType(org, jsonText(input.PolicyType));
      return { Root: root(org) };
    },
  },
};

export function organizationsApi(state: OrganizationsState): EdgeService {
  const service = jsonProtocolService<Context>({
    targetPrefix: "AWSOrganizationsV20161128",
    serviceName: "Organizations",
    iamPrefix: "organizations",
    version: "1.1",
    stateFor: (call: EdgeCall) => {
      const caller = call.caller!.accountId;
      const org = state.organizationOf(caller);
      if (!org) throw new AwsServiceError("AWSOrganizationsNotInUseException", `Your account ${caller} is not a member of an organization.`);
      return { state, org, caller };
    },
    operations: OPERATIONS,
  });
  return { ...service, global: true };
}
