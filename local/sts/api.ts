// STS's query protocol behind the edge (form-encoded `Action=...&Version=2011-06-15`, XML
// answers). AssumeRoleWithSAML is unsigned in AWS (the assertion is the credential) and the edge
// takes it unsigned too; AssumeRole is authorized on the edge's one path against the role's trust
// policy (which must allow, as a resource policy that is required) and the caller's policies;
// GetCallerIdentity needs no permission, as in AWS.
import type { PolicyDocument } from "../iam/evaluator";
import { xmlEscape } from "../lib/aws-protocols";
import { AwsServiceError } from "../lib/aws-wire";
import { queryProtocolService, required, type QueryAction } from "../lib/query-protocol";
import type { EdgeService } from "../edge/types";
import type { IssuedCredentials } from "./credentials";
import { roleIdOf, type RoleLookup, type StsState } from "./state";

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";

export interface StsAccount {
  sts: StsState;
  roles: RoleLookup & { hasRole(nameOrArn: string): boolean };
}

type AccountOf = (accountId: string) => StsAccount | undefined;

const accountIdOf = (arn: string) => arn.split(":")[4] ?? "";
const durationOf = (form: URLSearchParams) => (form.get("DurationSeconds") === null ? undefined : Number(form.get("DurationSeconds")));

function credentialsXml(c: IssuedCredentials, assumedRoleId: string): string {
  return (
    `<AssumedRoleUser><AssumedRoleId>${xmlEscape(assumedRoleId)}</AssumedRoleId><Arn>${xmlEscape(c.assumedRoleArn)}</Arn></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>${c.accessKeyId}</AccessKeyId><SecretAccessKey>${xmlEscape(c.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${xmlEscape(c.sessionToken)}</SessionToken><Expiration>${c.expiresAt.toISOString()}</Expiration></Credentials>`
  );
}

const ACTIONS: Record<string, QueryAction<AccountOf>> = {
  AssumeRoleWithSAML: {
    action: null,
    run: (accountOf, form) => {
      const roleArn = required(form, "RoleArn");
      const result = roleAccount(accountOf, roleArn).sts.assumeRoleWithSaml({
        RoleArn: roleArn,
        PrincipalArn: required(form, "PrincipalArn"),
        SAMLAssertion: required(form, "SAMLAssertion"),
        DurationSeconds: durationOf(form),
      });
      return (
        `<Audience>${xmlEscape(result.audience)}</Audience>${credentialsXml(result.credentials, result.assumedRoleId)}` +
        `<Issuer>${xmlEscape(result.issuer)}</Issuer><NameQualifier>${xmlEscape(result.nameQualifier)}</NameQualifier>` +
        `<Subject>${xmlEscape(result.subject)}</Subject><SubjectType>${xmlEscape(result.subjectType)}</SubjectType>`
      );
    },
  },
  AssumeRole: {
    resources: (_accounts, form) => [required(form, "RoleArn")],
    run: (accountOf, form) => {
      const roleArn = required(form, "RoleArn");
      const { credentials, assumedRoleId } = roleAccount(accountOf, roleArn).sts.assumeRole({
        RoleArn: roleArn,
        RoleSessionName: required(form, "RoleSessionName"),
        DurationSeconds: durationOf(form),
      });
      return credentialsXml(credentials, assumedRoleId);
    },
  },
  GetCallerIdentity: {
    action: null,
    run: (_accounts, _form, call) => {
      const caller = call.caller!;
      const session = /^arn:aws:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/.exec(caller.principalArn)?.[1];
      const userId = session ? `${roleIdOf(caller.identityArn)}:${session}` : caller.accessKeyId;
      return `<UserId>${xmlEscape(userId)}</UserId><Account>${caller.accountId}</Account><Arn>${xmlEscape(caller.principalArn)}</Arn>`;
    },
  },
};

function roleAccount(accountOf: AccountOf, roleArn: string): StsAccount {
  const account = accountOf(accountIdOf(roleArn));
  if (!account || !account.roles.hasRole(roleArn)) {
    throw new AwsServiceError("AccessDenied", `Not authorized to perform sts:AssumeRole: role ${roleArn} does not exist`, 403);
  }
  return account;
}

export function stsApi(accountOf: AccountOf): EdgeService {
  return queryProtocolService<AccountOf>({
    xmlns: XMLNS,
    serviceName: "STS",
    iamPrefix: "sts",
    global: true,
    stateFor: () => accountOf,
    actions: ACTIONS,
    unsignedActions: ["AssumeRoleWithSAML"],
    // The role's trust policy is the resource policy of sts:AssumeRole, and it must allow.
    resourcePolicy: (accounts, resource) => {
      const account = accounts(accountIdOf(resource));
      if (!account?.roles.hasRole(resource)) return undefined;
      return { documents: [account.roles.role(resource).trustPolicy as PolicyDocument], required: true, account: accountIdOf(resource) };
    },
  });
}
