// IAM policy documents as typed values, rendered with Terraform's jsonencode so that references
// to other resources (ARNs) are resolved by Terraform and escaped correctly.
import { Fn } from "cdktf";

export interface PolicyStatement {
  sid?: string;
  effect?: "Allow" | "Deny";
  actions: string[];
  resources: string[];
  /** IAM condition block: operator -> condition key -> value(s). */
  conditions?: Record<string, Record<string, string | string[]>>;
}

export function policyDocument(statements: PolicyStatement[]): string {
  return Fn.jsonencode({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({
      ...(s.sid ? { Sid: s.sid } : {}),
      Effect: s.effect ?? "Allow",
      Action: s.actions,
      Resource: s.resources,
      ...(s.conditions ? { Condition: s.conditions } : {}),
    })),
  });
}

/** Trust policy that lets an AWS service (e.g. `lambda.amazonaws.com`) assume the role. */
export function serviceTrustPolicy(service: string): string {
  return Fn.jsonencode({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}
