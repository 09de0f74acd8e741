import { describe, expect, it } from "vitest";
import { accessDeniedMessage, evaluate, PolicyEvaluationError, type PolicyDocument } from "../local/iam/evaluator";

const FULL_ACCESS: PolicyDocument = { Statement: { Effect: "Allow", Action: "*", Resource: "*" } };
// The shape of the seed's allow-list SCP: only the listed services are usable.
const ALLOW_LIST: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Sid: "HipaaServices", Effect: "Allow", Action: ["dynamodb:*", "lambda:*", "s3:*"], Resource: "*" }],
};
const TABLE = "arn:aws:dynamodb:us-east-1:111111111111:table/Comments";

describe("IAM policy evaluation", () => {
  it("allows what an identity policy allows, with case-insensitive action wildcards", () => {
    const policy: PolicyDocument = { Statement: { Effect: "Allow", Action: ["dynamodb:Put*", "dynamodb:Query"], Resource: TABLE } };
    expect(evaluate({ action: "dynamodb:PutItem", resource: TABLE }, { identityPolicies: [policy] }).decision).toBe("Allow");
    expect(evaluate({ action: "DynamoDB:putitem", resource: TABLE }, { identityPolicies: [policy] }).decision).toBe("Allow");
    const other = evaluate({ action: "dynamodb:DeleteItem", resource: TABLE }, { identityPolicies: [policy] });
    expect(other).toEqual({ decision: "ImplicitDeny", reason: `no policy allows dynamodb:DeleteItem on ${TABLE}`, policyType: "identity-based policy" });
    expect(evaluate({ action: "dynamodb:PutItem", resource: `${TABLE}/index/x` }, { identityPolicies: [policy] }).decision).toBe("ImplicitDeny");
  });

  it("lets an explicit deny win over any allow, naming the statement", () => {
    const deny: PolicyDocument = { Statement: { Sid: "NoDeletes", Effect: "Deny", Action: "dynamodb:Delete*", Resource: "*" } };
    const result = evaluate({ action: "dynamodb:DeleteItem", resource: TABLE }, { identityPolicies: [FULL_ACCESS, deny] });
    expect(result).toEqual({ decision: "ExplicitDeny", reason: 'explicitly denied by identity policy statement "NoDeletes"', policyType: "identity-based policy" });
  });

  it("requires an allowing SCP at every level between the root and the account", () => {
    const request = { action: "kinesis:PutRecord", resource: "arn:aws:kinesis:us-east-1:111111111111:stream/x" };
    expect(evaluate(request, { identityPolicies: [FULL_ACCESS], serviceControlPolicies: [[FULL_ACCESS], [FULL_ACCESS]] }).decision).toBe("Allow");
    const blocked = evaluate(request, { identityPolicies: [FULL_ACCESS], serviceControlPolicies: [[FULL_ACCESS], [ALLOW_LIST]] });
    expect(blocked).toEqual({ decision: "ImplicitDeny", reason: "no service control policy at level 1 allows kinesis:PutRecord", policyType: "service control policy" });
    // An SCP never grants: the identity policy must still allow.
    expect(evaluate({ action: "s3:GetObject", resource: "arn:aws:s3:::b/k" }, { serviceControlPolicies: [[ALLOW_LIST]] }).decision).toBe("ImplicitDeny");
  });

  it("treats NotAction in a deny as 'everything except'", () => {
    const lambdaOnly: PolicyDocument = { Statement: { Effect: "Deny", NotAction: ["lambda:*", "logs:*"], Resource: "*" } };
    const policies = { identityPolicies: [FULL_ACCESS], serviceControlPolicies: [[FULL_ACCESS, lambdaOnly]] };
    expect(evaluate({ action: "lambda:InvokeFunction", resource: "*" }, policies).decision).toBe("Allow");
    expect(evaluate({ action: "ec2:RunInstances", resource: "*" }, policies).decision).toBe("ExplicitDeny");
  });

  it("evaluates trust policies with principals and SAML conditions", () => {
    const provider = "arn:aws:iam::111111111111:saml-provider/ADFS";
    const trust: PolicyDocument = {
      Statement: {
        Effect: "Allow",
        Principal: { Federated: provider },
        Action: "sts:AssumeRoleWithSAML",
        Condition: { StringEquals: { "SAML:aud": "https://api.example.com/saml" } },
      },
    };
    const request = (aud: string, id = provider) => ({
      action: "sts:AssumeRoleWithSAML",
      resource: "arn:aws:iam::111111111111:role/ADFS-Dev",
      principal: { type: "Federated" as const, id },
      context: { "saml:aud": aud },
    });
    expect(evaluate(request("https://api.example.com/saml"), { resourcePolicies: [trust] }).decision).toBe("Allow");
    expect(evaluate(request("https://evil.example.com/saml"), { resourcePolicies: [trust] }).decision).toBe("ImplicitDeny");
    expect(evaluate(request("https://api.example.com/saml", `${provider}2`), { resourcePolicies: [trust] }).decision).toBe("ImplicitDeny");
  });

  // IAM User Guide, "AWS JSON policy elements: Principal" (AWS account principals): naming an
  // account in a resource-based policy delegates to it; the account's identity-based policies must
  // still allow the principal. "Cross-account policy evaluation logic": across accounts both must.
  it("lets an account principal delegate to the account's identity policies, and requires both across accounts", () => {
    const trust: PolicyDocument = { Statement: { Effect: "Allow", Principal: { AWS: "arn:aws:iam::111111111111:root" }, Action: "sts:AssumeRole" } };
    const canAssume: PolicyDocument = { Statement: { Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" } };
    const request = (account: string) => ({
      action: "sts:AssumeRole",
      resource: "arn:aws:iam::111111111111:role/deploy",
      principal: { type: "AWS" as const, id: `arn:aws:iam::${account}:role/ci` },
    });
    const trustPolicy = { resourcePolicies: [trust], resourcePolicyRequired: true, resourceAccount: "111111111111" };
    expect(evaluate(request("111111111111"), trustPolicy)).toMatchObject({ decision: "ImplicitDeny", policyType: "identity-based policy" });
    expect(evaluate(request("111111111111"), { ...trustPolicy, identityPolicies: [canAssume] }).decision).toBe("Allow");
    expect(evaluate(request("222222222222"), { ...trustPolicy, identityPolicies: [canAssume] })).toMatchObject({ decision: "ImplicitDeny", policyType: "resource-based policy" });
  });

  // IAM User Guide, "Policy evaluation logic" (same account): a resource-based policy that names the
  // principal allows on its own; one that names only the account does not. A role named in a
  // resource-based policy covers its sessions.
  it("allows through a resource policy naming the principal or its role, not one naming only the account", () => {
    const table = "arn:aws:dynamodb:us-east-1:111111111111:table/T";
    const session = { type: "AWS" as const, id: "arn:aws:sts::111111111111:assumed-role/reader/fn" };
    const naming = (principal: string): PolicyDocument => ({ Statement: { Effect: "Allow", Principal: { AWS: principal }, Action: "dynamodb:GetItem", Resource: table } });
    const get = (policy: PolicyDocument) => evaluate({ action: "dynamodb:GetItem", resource: table, principal: session }, { resourcePolicies: [policy] }).decision;
    expect(get(naming("arn:aws:iam::111111111111:role/reader"))).toBe("Allow");
    expect(get(naming(session.id))).toBe("Allow");
    expect(get(naming("arn:aws:iam::111111111111:root"))).toBe("ImplicitDeny");
    expect(get(naming("111111111111"))).toBe("ImplicitDeny");
  });

  it("writes AWS's access-denied messages", () => {
    const who = "arn:aws:sts::111111111111:assumed-role/r/s";
    const none = evaluate({ action: "dynamodb:PutItem", resource: TABLE }, { identityPolicies: [] });
    expect(accessDeniedMessage(who, "dynamodb:PutItem", TABLE, none)).toBe(
      `User: ${who} is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} because no identity-based policy allows the dynamodb:PutItem action`,
    );
    const scp = evaluate({ action: "dynamodb:PutItem", resource: TABLE }, { identityPolicies: [FULL_ACCESS], serviceControlPolicies: [[{ Statement: { Effect: "Deny", Action: "*", Resource: "*" } }]] });
    expect(accessDeniedMessage(who, "dynamodb:PutItem", TABLE, scp)).toBe(
      `User: ${who} is not authorized to perform: dynamodb:PutItem on resource: ${TABLE} with an explicit deny in a service control policy`,
    );
  });

  it("supports the condition operators the platform's policies use", () => {
    const governance: PolicyDocument = {
      Statement: [
        { Sid: "UrlsNeedIam", Effect: "Deny", Action: "lambda:CreateFunctionUrlConfig", Resource: "*", Condition: { StringNotEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" } } },
        { Sid: "Runtimes", Effect: "Deny", Action: "lambda:CreateFunction", Resource: "*", Condition: { "ForAnyValue:StringNotLike": { "lambda:Runtime": ["nodejs22.x", "python3.1*"] } } },
        { Sid: "TlsOnly", Effect: "Deny", Action: "s3:*", Resource: "*", Condition: { BoolIfExists: { "aws:SecureTransport": "false" } } },
      ],
    };
    const policies = { identityPolicies: [FULL_ACCESS, governance] };
    const call = (action: string, context: Record<string, string>) => evaluate({ action, resource: "*", context }, policies).decision;
    expect(call("lambda:CreateFunctionUrlConfig", { "lambda:FunctionUrlAuthType": "NONE" })).toBe("ExplicitDeny");
    expect(call("lambda:CreateFunctionUrlConfig", { "lambda:FunctionUrlAuthType": "AWS_IAM" })).toBe("Allow");
    expect(call("lambda:CreateFunction", { "lambda:Runtime": "nodejs22.x" })).toBe("Allow");
    expect(call("lambda:CreateFunction", { "lambda:Runtime": "python3.12" })).toBe("Allow");
    expect(call("lambda:CreateFunction", { "lambda:Runtime": "nodejs16.x" })).toBe("ExplicitDeny");
    expect(call("s3:GetObject", { "aws:SecureTransport": "false" })).toBe("ExplicitDeny");
    expect(call("s3:GetObject", { "aws:SecureTransport": "true" })).toBe("Allow");
    // ...IfExists holds when the key is absent, so the deny applies (AWS's documented semantics).
    expect(call("s3:GetObject", {})).toBe("ExplicitDeny");
  });

  it("names an operator it does not implement instead of guessing", () => {
    const policy: PolicyDocument = { Statement: { Effect: "Allow", Action: "*", Resource: "*", Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } } };
    expect(() => evaluate({ action: "s3:GetObject", resource: "*" }, { identityPolicies: [policy] })).toThrow(PolicyEvaluationError);
    expect(() => evaluate({ action: "s3:GetObject", resource: "*" }, { identityPolicies: [policy] })).toThrow(/IpAddress/);
  });
});
