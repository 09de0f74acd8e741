// IAM's query protocol behind the edge, reads only (the deployer is what changes IAM): roles, their
// inline and attached policies, managed policies and users of the caller's account. IAM is
// global, so a signature for any region is taken.
import { xmlEscape } from "../lib/aws-protocols";
import { AwsServiceError } from "../lib/aws-wire";
import { queryProtocolService, required, xml, type QueryAction } from "../lib/query-protocol";
import type { EdgeService } from "../edge/types";
import { IamError, type IamIdentities, type Role } from "./identities";

const XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/";

/** IAM answers NoSuchEntity with 404; the state's error becomes the wire's. */
function iam<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof IamError) throw new AwsServiceError(error.code, error.message, error.code === "NoSuchEntity" ? 404 : 400);
    throw error;
  }
}

const encodedPolicy = (document: unknown) => encodeURIComponent(JSON.stringify(document));

function roleXml(role: Role): string {
  return (
    `${xml("Path", role.arn.slice(role.arn.indexOf(":role") + 5, role.arn.lastIndexOf("/") + 1))}${xml("RoleName", role.name)}${xml("Arn", role.arn)}` +
    `${xml("RoleId", role.name)}${xml("AssumeRolePolicyDocument", encodedPolicy(role.trustPolicy))}${xml("MaxSessionDuration", role.maxSessionDurationSeconds)}`
  );
}

const roleArn = (iamOf: IamIdentities, form: URLSearchParams) => iam(() => iamOf.role(required(form, "RoleName")).arn);
const onRole: Pick<QueryAction<IamIdentities>, "resources"> = { resources: (identities, form) => [roleArn(identities, form)] };

const ACTIONS: Record<string, QueryAction<IamIdentities>> = {
  ListRoles: { run: (identities) => `<Roles>${identities.allRoles().map((r) => `<member>${roleXml(r)}</member>`).join("")}</Roles><IsTruncated>false</IsTruncated>` },
  GetRole: { ...onRole, run: (identities, form) => `<Role>${roleXml(iam(() => identities.role(required(form, "RoleName"))))}</Role>` },
  ListRolePolicies: {
    ...onRole,
    run: (identities, form) =>
      `<PolicyNames>${[...iam(() => identities.role(required(form, "RoleName"))).inlinePolicies.keys()].map((n) => `<member>${xmlEscape(n)}</member>`).join("")}</PolicyNames><IsTruncated>false</IsTruncated>`,
  },
  GetRolePolicy: {
    ...onRole,
    run: (identities, form) => {
      const role = iam(() => identities.role(required(form, "RoleName")));
      const name = required(form, "PolicyName");
      const document = role.inlinePolicies.get(name);
      if (!document) throw new AwsServiceError("NoSuchEntity", `The role policy with name ${name} cannot be found.`, 404);
      return `${xml("RoleName", role.name)}${xml("PolicyName", name)}${xml("PolicyDocument", encodedPolicy(document))}`;
    },
  },
  ListAttachedRolePolicies: {
    ...onRole,
    run: (identities, form) =>
      `<AttachedPolicies>${[...iam(() => identities.role(required(form, "RoleName"))).attachedPolicyArns]
        .map((arn) => `<member>${xml("PolicyName", arn.slice(arn.lastIndexOf("/") + 1))}${xml("PolicyArn", arn)}</member>`)
        .join("")}</AttachedPolicies><IsTruncated>false</IsTruncated>`,
  },
  GetPolicy: {
    resources: (_identities, form) => [required(form, "PolicyArn")],
    run: (identities, form) => {
      const arn = required(form, "PolicyArn");
      if (!identities.managedPolicy(arn)) throw new AwsServiceError("NoSuchEntity", `Policy ${arn} was not found.`, 404);
      return `<Policy>${xml("PolicyName", arn.slice(arn.lastIndexOf("/") + 1))}${xml("Arn", arn)}${xml("DefaultVersionId", "v1")}${xml("IsAttachable", true)}</Policy>`;
    },
  },
  GetPolicyVersion: {
    resources: (_identities, form) => [required(form, "PolicyArn")],
    run: (identities, form) => {
      const document = identities.managedPolicy(required(form, "PolicyArn"));
      if (!document || required(form, "VersionId") !== "v1") throw new AwsServiceError("NoSuchEntity", "The policy version was not found.", 404);
      return `<PolicyVersion>${xml("Document", encodedPolicy(document))}${xml("VersionId", "v1")}${xml("IsDefaultVersion", true)}</PolicyVersion>`;
    },
  },
};

export function iamApi(identitiesOf: (accountId: string) => IamIdentities): EdgeService {
  return queryProtocolService<IamIdentities>({
    xmlns: XMLNS,
    serviceName: "IAM",
    iamPrefix: "iam",
    global: true,
    stateFor: (call) => identitiesOf(call.caller!.accountId),
    actions: ACTIONS,
  });
}
