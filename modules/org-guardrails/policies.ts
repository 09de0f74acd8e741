// The service control policies of the HIPAA OU, as policy documents (the SCP content is their
// minified JSON: AWS counts every character against the 5,120-character limit).

export interface ScpDocument {
  Version: "2012-10-17";
  Statement: Array<{
    Sid: string;
    Effect: "Allow" | "Deny";
    Action: string[];
    Resource: string;
    Condition?: Record<string, Record<string, string | string[]>>;
  }>;
}

/**
 * The seed's allow-list ("How to Use Service Control Policies in AWS Organizations to Enforce
 * Healthcare Compliance", HIPAAExample.json): HIPAA eligible services plus the services that
 * administer and secure the account.
 */
export const SEED_HIPAA_SERVICES = [
  "dynamodb", "rds", "ec2", "s3", "elasticmapreduce", "glacier", "elasticloadbalancing", "cloudwatch",
  "importexport", "cloudformation", "redshift", "iam", "health", "config", "snowball", "trustedadvisor",
  "kms", "apigateway", "autoscaling", "directconnect", "execute-api", "sts",
] as const;

/**
 * What the platform deploys and runs on that the seed's list would block (a test derives the
 * platform's actions from its synthesized stacks and checks that this list covers them).
 */
export const PLATFORM_SERVICES = [
  "lambda", "logs", "kinesis", "kinesisanalytics", "sns", "events", "route53", "acm", "ssm", "xray", "tag", "wafv2",
] as const;

export function hipaaAllowList(services: readonly string[]): ScpDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "HipaaEligibleAndSupporting", Effect: "Allow", Action: [...new Set(services)].map((s) => `${s}:*`), Resource: "*" },
    ],
  };
}

/**
 * Lambda governance ("Building AWS Lambda governance and guardrails"): function URLs only with
 * IAM auth, functions only on approved runtimes. The runtime statement needs the Null check:
 * UpdateFunctionConfiguration without a new runtime carries no lambda:Runtime, and a negated
 * operator on an absent key would deny every configuration change.
 */
export function lambdaGovernance(allowedRuntimes: readonly string[]): ScpDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "FunctionUrlsOnlyWithIamAuth",
        Effect: "Deny",
        Action: ["lambda:CreateFunctionUrlConfig", "lambda:UpdateFunctionUrlConfig"],
        Resource: "*",
        Condition: { StringNotEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" } },
      },
      {
        Sid: "ApprovedRuntimesOnly",
        Effect: "Deny",
        Action: ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"],
        Resource: "*",
        Condition: { Null: { "lambda:Runtime": "false" }, StringNotEquals: { "lambda:Runtime": [...allowedRuntimes] } },
      },
    ],
  };
}
