// The guardrail rules: the checks cdk-nag's HIPAA pack and checkov make, on synthesized Terraform.
// Each rule looks at one stack's resources and returns what violates it.
import type { TerraformJson } from "../synthesized";
import { listOf, statementsOf } from "./policy-document";
import { MIN_TOKEN_LIFETIME_ENV as TOKEN_LIFETIME_ENV } from "../../../modules/rest-api";
import { burstViolations } from "./burst-capacity";

type Resource = Record<string, any>;

export interface Violation {
  /** Terraform address, e.g. `aws_dynamodb_table.users_1A2B3C4D`. */
  address: string;
  /** Construct path without the stack, e.g. `saml-federation/users-table`: what waivers name. */
  path: string;
  message: string;
}

export interface Rule {
  id: string;
  description: string;
  fix: string;
  check(stack: TerraformJson): Violation[];
}

/** AWS Organizations limits (Quotas for AWS Organizations). */
export const SCP_MAX_CHARACTERS = 5120;
export const SCP_MAX_PER_TARGET = 5;
/** API Gateway's authorizer cache TTL when authorizer_result_ttl_in_seconds is not set. */
export const DEFAULT_AUTHORIZER_TTL_SECONDS = 300;
/** Environment variable by which an authorizer's Lambda declares the shortest remaining lifetime of the tokens it accepts. */
export { TOKEN_LIFETIME_ENV };
export const DATA_SERVICES = ["dynamodb", "s3", "kinesis", "sns", "kms"];
const BODY_METHODS = ["POST", "PUT", "PATCH", "ANY"];
/** DynamoDB's metrics of throttled requests ("DynamoDB metrics and dimensions"). */
const THROTTLE_METRICS = ["ThrottledRequests", "ReadThrottleEvents", "WriteThrottleEvents"];

function each(stack: TerraformJson, type: string): Array<[string, Resource]> {
  return Object.entries(stack.resource?.[type] ?? {}).map(([id, r]) => [id, r as Resource]);
}

function violation(type: string, id: string, resource: Resource, message: string): Violation {
  const path = String(resource["//"]?.metadata?.path ?? id);
  return { address: `${type}.${id}`, path: path.slice(path.indexOf("/") + 1), message };
}

/** A rule over every resource of one type: `problem` says what is wrong, or nothing. */
function perResource(type: string, problem: (r: Resource, stack: TerraformJson) => string | undefined) {
  return (stack: TerraformJson) =>
    each(stack, type).flatMap(([id, r]) => {
      const message = problem(r, stack);
      return message ? [violation(type, id, r, message)] : [];
    });
}

/** `${aws_x.y.id}` -> `aws_x.y` */
const referencedAddress = (value: unknown) => /^\$\{([\w-]+\.[\w-]+)\.\w+\}$/.exec(String(value ?? ""))?.[1];

/** A nested block as synthesized: a list of objects, or one. */
const blocks = (value: unknown): Resource[] => (Array.isArray(value) ? value : value && typeof value === "object" ? [value as Resource] : []);

/** The alarms of a stack that notify someone (alarm_actions), with the metrics each looks at. */
function alarmedMetrics(stack: TerraformJson): { namespace: string; metricName: string; dimensions: Record<string, unknown> }[] {
  return each(stack, "aws_cloudwatch_metric_alarm")
    .filter(([, a]) => listOf(a.alarm_actions).length > 0)
    .flatMap(([, a]) => [
      ...(a.metric_name ? [{ namespace: String(a.namespace), metricName: String(a.metric_name), dimensions: (a.dimensions ?? {}) as Record<string, unknown> }] : []),
      ...blocks(a.metric_query).flatMap((q) =>
        blocks(q.metric).map((m) => ({ namespace: String(m.namespace), metricName: String(m.metric_name), dimensions: (m.dimensions ?? {}) as Record<string, unknown> })),
      ),
    ]);
}

/** Resources of `type` that no alarm with actions watches: `watches(metric, id, resource)` says whether one does. */
function unalarmed(type: string, message: string, watches: (metric: ReturnType<typeof alarmedMetrics>[number], id: string, resource: Resource) => boolean) {
  return (stack: TerraformJson) => {
    const metrics = alarmedMetrics(stack);
    return each(stack, type)
      .filter(([id, r]) => !metrics.some((m) => watches(m, id, r)))
      .map(([id, r]) => violation(type, id, r, message));
  };
}

const PUBLIC_ACCESS_FLAGS = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];

export const RULES: Rule[] = [
  {
    id: "dynamodb-encryption",
    description: "DynamoDB tables are encrypted with a KMS key (server_side_encryption enabled)",
    fix: "set serverSideEncryption: { enabled: true } on the table",
    check: perResource("aws_dynamodb_table", (t) => (t.server_side_encryption?.enabled === true ? undefined : "server_side_encryption is not enabled")),
  },
  {
    id: "dynamodb-pitr",
    description: "DynamoDB tables have point-in-time recovery",
    fix: "set pointInTimeRecovery: { enabled: true } on the table",
    check: perResource("aws_dynamodb_table", (t) => (t.point_in_time_recovery?.enabled === true ? undefined : "point_in_time_recovery is not enabled")),
  },
  {
    id: "s3-public-access",
    description: "every bucket has a public access block with all four settings true",
    fix: "add an aws_s3_bucket_public_access_block for the bucket with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets true",
    check(stack) {
      const blocks = each(stack, "aws_s3_bucket_public_access_block");
      const blocked = new Set(blocks.map(([, b]) => referencedAddress(b.bucket)));
      return [
        ...each(stack, "aws_s3_bucket")
          .filter(([id]) => !blocked.has(`aws_s3_bucket.${id}`))
          .map(([id, b]) => violation("aws_s3_bucket", id, b, "bucket has no public access block")),
        ...blocks.flatMap(([id, b]) => {
          const off = PUBLIC_ACCESS_FLAGS.filter((flag) => b[flag] !== true);
          return off.length ? [violation("aws_s3_bucket_public_access_block", id, b, `not true: ${off.join(", ")}`)] : [];
        }),
      ];
    },
  },
  {
    id: "log-retention",
    description: "every CloudWatch log group has a retention period",
    fix: "set retentionInDays on the log group (the environment's logRetentionDays)",
    check: perResource("aws_cloudwatch_log_group", (g) => (Number(g.retention_in_days) > 0 || typeof g.retention_in_days === "string" ? undefined : "retention_in_days is not set: logs are kept forever")),
  },
  {
    id: "lambda-tracing",
    description: "Lambda functions trace with X-Ray",
    fix: "set tracingConfig: { mode: \"Active\" } on the function",
    check: perResource("aws_lambda_function", (f) => (f.tracing_config?.mode === "Active" ? undefined : `tracing_config.mode is ${f.tracing_config?.mode ?? "not set"}, not Active`)),
  },
  {
    id: "api-stage-tracing",
    description: "API Gateway stages trace with X-Ray",
    fix: "set xrayTracingEnabled: true on the stage",
    check: perResource("aws_api_gateway_stage", (s) => (s.xray_tracing_enabled === true ? undefined : "xray_tracing_enabled is not true")),
  },
  {
    id: "api-access-logging",
    description: "API Gateway stages write access logs",
    fix: "set accessLogSettings { destinationArn, format } on the stage",
    check: perResource("aws_api_gateway_stage", (s) => (s.access_log_settings?.destination_arn && s.access_log_settings?.format ? undefined : "access_log_settings is missing")),
  },
  {
    id: "iam-data-wildcard",
    description: "role policies grant no `*` actions on data services (dynamodb, s3, kinesis, sns, kms)",
    fix: "list the actions the role needs instead of the wildcard",
    check(stack) {
      const policies = [
        ...each(stack, "aws_iam_role_policy").map(([id, r]) => ["aws_iam_role_policy", id, r, [r.policy]] as const),
        ...each(stack, "aws_iam_policy").map(([id, r]) => ["aws_iam_policy", id, r, [r.policy]] as const),
        ...each(stack, "aws_iam_role").map(([id, r]) => ["aws_iam_role", id, r, listOf(r.inline_policy).map((p: any) => p.policy)] as const),
      ];
      return policies.flatMap(([type, id, r, texts]) => {
        const wild = texts
          .filter((text): text is string => typeof text === "string")
          .flatMap(statementsOf)
          .filter((s) => s.Effect === "Allow")
          .flatMap((s) => (s.NotAction !== undefined ? ["NotAction"] : listOf(s.Action)))
          .filter((a) => a === "*" || a === "NotAction" || DATA_SERVICES.some((service) => a.toLowerCase() === `${service}:*`));
        return wild.length ? [violation(type, id, r, `allows ${[...new Set(wild)].join(", ")}`)] : [];
      });
    },
  },
  {
    id: "api-request-validator",
    description: "every method that takes a body (POST, PUT, PATCH, ANY) has a request validator",
    fix: "give the method a requestValidatorId (validate body, with a request model) or waive it with a reason",
    check: perResource("aws_api_gateway_method", (m) =>
      BODY_METHODS.includes(String(m.http_method)) && !m.request_validator_id ? `${m.http_method} method without request_validator_id` : undefined,
    ),
  },
  {
    id: "authorizer-ttl",
    description: "an authorizer caches its result no longer than the token it checks lives",
    fix: `set authorizerResultTtlInSeconds to at most the token lifetime, which the authorizer's Lambda declares in ${TOKEN_LIFETIME_ENV}`,
    check: perResource("aws_api_gateway_authorizer", (a, stack) => {
      const ttl = a.authorizer_result_ttl_in_seconds === undefined ? DEFAULT_AUTHORIZER_TTL_SECONDS : Number(a.authorizer_result_ttl_in_seconds);
      if (ttl === 0) return undefined;
      const fn = /^\$\{aws_lambda_function\.([\w-]+)\.invoke_arn\}$/.exec(String(a.authorizer_uri ?? ""))?.[1];
      const lifetime = fn ? Number((stack.resource?.aws_lambda_function?.[fn] as Resource | undefined)?.environment?.variables?.[TOKEN_LIFETIME_ENV]) : NaN;
      if (Number.isNaN(lifetime)) return `caches results for ${ttl} s but its Lambda declares no ${TOKEN_LIFETIME_ENV}`;
      return ttl > lifetime ? `caches results for ${ttl} s, longer than the ${lifetime} s the token lives` : undefined;
    }),
  },
  {
    id: "burst-within-concurrency",
    description: "no route admits a larger burst (stage throttle, usage plans) than the reserved concurrency of the Lambda behind it",
    fix: "raise the function's reserved concurrency to at least the admitted burst, or lower the stage or usage plan burst",
    check: (stack) => burstViolations(stack).map((v) => violation(v.type, v.id, v.resource, v.message)),
  },
  {
    id: "stage-web-acl",
    description: "every API Gateway stage is associated with a WAF web ACL",
    fix: "associate the stage with a web ACL (modules/waf: aws_wafv2_web_acl_association with the stage's arn)",
    check(stack) {
      const protectedStages = new Set(each(stack, "aws_wafv2_web_acl_association").map(([, a]) => referencedAddress(a.resource_arn)));
      return each(stack, "aws_api_gateway_stage")
        .filter(([id]) => !protectedStages.has(`aws_api_gateway_stage.${id}`))
        .map(([id, s]) => violation("aws_api_gateway_stage", id, s, "no aws_wafv2_web_acl_association names the stage"));
    },
  },
  {
    id: "stage-5xx-alarm",
    description: "every API Gateway stage has an alarm with actions on its 5XXError metric",
    fix: "watch the stage with modules/monitoring (an AWS/ApiGateway 5XXError alarm whose Stage dimension is the stage's stage_name, notifying the alerts topic)",
    check: unalarmed(
      "aws_api_gateway_stage",
      "no alarm with actions watches the stage's 5XXError",
      (m, id, s) => m.namespace === "AWS/ApiGateway" && m.metricName === "5XXError" && (referencedAddress(m.dimensions.Stage) === `aws_api_gateway_stage.${id}` || m.dimensions.Stage === s.stage_name),
    ),
  },
  {
    id: "lambda-errors-alarm",
    description: "every Lambda function has an alarm with actions on its Errors metric",
    fix: "watch the function with modules/monitoring (an AWS/Lambda Errors alarm whose FunctionName dimension is the function's name, notifying the alerts topic)",
    check: unalarmed(
      "aws_lambda_function",
      "no alarm with actions watches the function's Errors",
      (m, id, f) => m.namespace === "AWS/Lambda" && m.metricName === "Errors" && (referencedAddress(m.dimensions.FunctionName) === `aws_lambda_function.${id}` || m.dimensions.FunctionName === f.function_name),
    ),
  },
  {
    id: "table-throttle-alarm",
    description: "every DynamoDB table has an alarm with actions on its throttled requests",
    fix: "watch the table with modules/monitoring (ReadThrottleEvents and WriteThrottleEvents, or ThrottledRequests, with its TableName, notifying the alerts topic)",
    check: unalarmed(
      "aws_dynamodb_table",
      "no alarm with actions watches the table's throttled requests",
      (m, id, t) =>
        m.namespace === "AWS/DynamoDB" &&
        THROTTLE_METRICS.includes(m.metricName) &&
        (referencedAddress(m.dimensions.TableName) === `aws_dynamodb_table.${id}` || m.dimensions.TableName === t.name),
    ),
  },
  {
    id: "scp-size",
    description: `every SCP is at most ${SCP_MAX_CHARACTERS} characters`,
    fix: "minify the policy (no whitespace), merge statements, or split it into two SCPs",
    check: perResource("aws_organizations_policy", (p) =>
      (p.type ?? "SERVICE_CONTROL_POLICY") === "SERVICE_CONTROL_POLICY" && String(p.content).length > SCP_MAX_CHARACTERS
        ? `content is ${String(p.content).length} characters`
        : undefined,
    ),
  },
  {
    id: "scp-per-target",
    description: `no target has more than ${SCP_MAX_PER_TARGET} SCPs attached`,
    fix: "merge SCPs that go to the same target",
    check(stack) {
      const byTarget = new Map<string, Array<[string, Resource]>>();
      for (const [id, a] of each(stack, "aws_organizations_policy_attachment")) {
        byTarget.set(String(a.target_id), [...(byTarget.get(String(a.target_id)) ?? []), [id, a]]);
      }
      // The attachments beyond the limit are the ones AWS would refuse.
      return [...byTarget].flatMap(([target, attachments]) =>
        attachments
          .slice(SCP_MAX_PER_TARGET)
          .map(([id, a]) => violation("aws_organizations_policy_attachment", id, a, `${target} gets ${attachments.length} SCPs, more than ${SCP_MAX_PER_TARGET}`)),
      );
    },
  },
];
