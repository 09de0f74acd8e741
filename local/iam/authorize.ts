// The one authorization path of the local cloud: every signed call, whatever the service, is
// decided here by local/iam/evaluator with the caller's identity-based policies, the resource's
// own policy (when the service has one), and the service control policies of the caller's
// account, with the global condition keys AWS sets on every request.
import { accessDeniedMessage, evaluate, type PolicyDocument } from "./evaluator";
import type { Caller } from "../sts/credentials";

export interface PolicySources {
  /** The identity-based policies of a user or role ARN. */
  identityPolicies(accountId: string, identityArn: string): PolicyDocument[];
  /** SCPs that apply to an account, one entry per level from the root down; [] outside an organization. */
  serviceControlPolicies(accountId: string): PolicyDocument[][];
}

export interface Permission {
  action: string;
  resource: string;
  context?: Record<string, string | string[]>;
}

export type AuthorizationOutcome = { allowed: true } | { allowed: false; message: string; reason: string };

export function authorize(
  sources: PolicySources,
  caller: Caller,
  permission: Permission,
  resourcePolicy?: { documents: PolicyDocument[]; required?: boolean; account?: string },
  region?: string,
): AuthorizationOutcome {
  const result = evaluate(
    {
      action: permission.action,
      resource: permission.resource,
      principal: { type: "AWS", id: caller.principalArn },
      context: {
        // AWS's global condition keys: for a role session aws:PrincipalArn is the role.
        "aws:PrincipalArn": caller.identityArn,
        "aws:PrincipalAccount": caller.accountId,
        "aws:PrincipalType": caller.identityArn.includes(":user/") ? "User" : "AssumedRole",
        ...(region ? { "aws:RequestedRegion": region } : {}),
        ...permission.context,
      },
    },
    {
      identityPolicies: sources.identityPolicies(caller.accountId, caller.identityArn),
      serviceControlPolicies: sources.serviceControlPolicies(caller.accountId),
      resourcePolicies: resourcePolicy?.documents,
      resourcePolicyRequired: resourcePolicy?.required,
      resourceAccount: resourcePolicy?.account ?? accountOfArn(permission.resource),
    },
  );
  if (result.decision === "Allow") return { allowed: true };
  return { allowed: false, reason: result.reason, message: accessDeniedMessage(caller.principalArn, permission.action, permission.resource, result) };
}

/** The account in an ARN (`arn:aws:dynamodb:us-east-1:111111111111:table/x`), when it has one. */
export function accountOfArn(arn: string): string | undefined {
  return /^arn:aws:[^:]+:[^:]*:(\d{12}):/.exec(arn)?.[1];
}
