// npm run guardrails: the platform passes (with its documented waivers), and each rule fires on a
// small fixture with one violation, naming the resource address and the rule.
import { beforeAll, describe, expect, it } from "vitest";
import { checkStacks, loadWaivers, RULES } from "../scripts/lib/guardrails";
import { SCP_MAX_CHARACTERS, TOKEN_LIFETIME_ENV } from "../scripts/lib/guardrails/rules";
import type { TerraformJson } from "../scripts/lib/synthesized";
import { synthTo, type Synthesized } from "./helpers/synth";

let platform: Synthesized;
beforeAll(() => {
  platform = synthTo("aws");
});

const meta = (path: string) => ({ "//": { metadata: { path: `fixture/${path}` } } });
const goodTable = { ...meta("table"), server_side_encryption: { enabled: true }, point_in_time_recovery: { enabled: true } };
const allBlocked = { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true };
const stage = { ...meta("stage"), xray_tracing_enabled: true, access_log_settings: { destination_arn: "arn", format: "{}" } };
const alarm = (namespace: string, metric_name: string, dimensions: Record<string, string>, alarm_actions = ["${aws_sns_topic.alerts.arn}"]) => ({ ...meta("alarm"), namespace, metric_name, dimensions, alarm_actions });
const role = (policy: string) => ({ aws_iam_role_policy: { bad: { ...meta("role-policy"), policy } } });

/** One fixture per rule: [rule id, resources, the address the finding must name]. */
const FIXTURES: Array<[string, TerraformJson["resource"], string]> = [
  ["dynamodb-encryption", { aws_dynamodb_table: { t: { ...goodTable, server_side_encryption: undefined } } }, "aws_dynamodb_table.t"],
  ["dynamodb-pitr", { aws_dynamodb_table: { t: { ...goodTable, point_in_time_recovery: { enabled: false } } } }, "aws_dynamodb_table.t"],
  ["s3-public-access", { aws_s3_bucket: { b: meta("bucket") } }, "aws_s3_bucket.b"],
  [
    "s3-public-access",
    { aws_s3_bucket: { b: meta("bucket") }, aws_s3_bucket_public_access_block: { pab: { ...meta("pab"), ...allBlocked, bucket: "${aws_s3_bucket.b.id}", block_public_policy: false } } },
    "aws_s3_bucket_public_access_block.pab",
  ],
  ["log-retention", { aws_cloudwatch_log_group: { g: { ...meta("logs"), name: "/x" } } }, "aws_cloudwatch_log_group.g"],
  ["lambda-tracing", { aws_lambda_function: { f: { ...meta("fn"), tracing_config: { mode: "PassThrough" } } } }, "aws_lambda_function.f"],
  ["api-stage-tracing", { aws_api_gateway_stage: { s: { ...stage, xray_tracing_enabled: false } } }, "aws_api_gateway_stage.s"],
  ["api-access-logging", { aws_api_gateway_stage: { s: { ...stage, access_log_settings: undefined } } }, "aws_api_gateway_stage.s"],
  ["iam-data-wildcard", role(JSON.stringify({ Statement: [{ Effect: "Allow", Action: "dynamodb:*", Resource: "*" }] })), "aws_iam_role_policy.bad"],
  ["iam-data-wildcard", role('${jsonencode({"Statement" = [{"Effect" = "Allow", "Action" = ["s3:*"], "Resource" = [aws_s3_bucket.b.arn]}]})}'), "aws_iam_role_policy.bad"],
  ["api-request-validator", { aws_api_gateway_method: { m: { ...meta("method"), http_method: "POST", authorization: "NONE" } } }, "aws_api_gateway_method.m"],
  [
    "authorizer-ttl",
    {
      aws_lambda_function: { fn: { ...meta("fn"), tracing_config: { mode: "Active" }, environment: { variables: { [TOKEN_LIFETIME_ENV]: "30" } } } },
      aws_api_gateway_authorizer: { a: { ...meta("authorizer"), authorizer_uri: "${aws_lambda_function.fn.invoke_arn}", authorizer_result_ttl_in_seconds: 300 } },
    },
    "aws_api_gateway_authorizer.a",
  ],
  ["authorizer-ttl", { aws_api_gateway_authorizer: { a: { ...meta("authorizer"), authorizer_uri: "arn" } } }, "aws_api_gateway_authorizer.a"],
  [
    "burst-within-concurrency",
    {
      aws_api_gateway_resource: { r: { path_part: "mars", parent_id: "${aws_api_gateway_rest_api.api.root_resource_id}" } },
      aws_api_gateway_method: { m: { ...meta("method"), rest_api_id: "${aws_api_gateway_rest_api.api.id}", resource_id: "${aws_api_gateway_resource.r.id}", http_method: "GET", api_key_required: true } },
      aws_api_gateway_integration: { i: { ...meta("integration"), http_method: "${aws_api_gateway_method.m.http_method}", type: "AWS_PROXY", uri: "${aws_lambda_function.fn.invoke_arn}" } },
      aws_lambda_function: { fn: { ...meta("fn"), function_name: "fetch", tracing_config: { mode: "Active" }, reserved_concurrent_executions: 2 } },
      aws_api_gateway_method_settings: { s: { rest_api_id: "${aws_api_gateway_rest_api.api.id}", method_path: "*/*", settings: { throttling_burst_limit: 200 } } },
      aws_api_gateway_usage_plan: { p: { name: "displays", api_stages: [{ api_id: "${aws_api_gateway_rest_api.api.id}" }], throttle_settings: { burst_limit: 5 } } },
    },
    "aws_api_gateway_integration.i",
  ],
  // A stage, a function and a table each watched by an alarm without actions, or by an alarm of
  // another resource, or associated with nothing: the rule names them.
  ["stage-web-acl", { aws_api_gateway_stage: { s: stage }, aws_wafv2_web_acl_association: { a: { ...meta("waf"), resource_arn: "${aws_api_gateway_stage.other.arn}" } } }, "aws_api_gateway_stage.s"],
  [
    "stage-5xx-alarm",
    { aws_api_gateway_stage: { s: { ...stage, stage_name: "prod" } }, aws_cloudwatch_metric_alarm: { a: alarm("AWS/ApiGateway", "5XXError", { Stage: "${aws_api_gateway_stage.s.stage_name}" }, []) } },
    "aws_api_gateway_stage.s",
  ],
  [
    "lambda-errors-alarm",
    { aws_lambda_function: { f: { ...meta("fn"), function_name: "f", tracing_config: { mode: "Active" } } }, aws_cloudwatch_metric_alarm: { a: alarm("AWS/Lambda", "Throttles", { FunctionName: "f" }) } },
    "aws_lambda_function.f",
  ],
  [
    "table-throttle-alarm",
    {
      aws_dynamodb_table: { t: { ...goodTable, name: "T" } },
      aws_cloudwatch_metric_alarm: {
        a: { ...meta("alarm"), alarm_actions: ["${aws_sns_topic.alerts.arn}"], metric_query: [{ id: "m", metric: { namespace: "AWS/DynamoDB", metric_name: "ReadThrottleEvents", dimensions: { TableName: "Other" } } }] },
      },
    },
    "aws_dynamodb_table.t",
  ],
  ["scp-size", { aws_organizations_policy: { p: { ...meta("scp"), type: "SERVICE_CONTROL_POLICY", content: "x".repeat(SCP_MAX_CHARACTERS + 1) } } }, "aws_organizations_policy.p"],
  [
    "scp-per-target",
    { aws_organizations_policy_attachment: Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`a${i}`, { ...meta(`a${i}`), policy_id: `p-${i}`, target_id: "ou-1" }])) },
    "aws_organizations_policy_attachment.a6",
  ],
];

describe("guardrails on the platform", () => {
  it("finds nothing once the documented waivers apply, and every waiver is still needed", () => {
    const report = checkStacks(platform.stacks, loadWaivers());
    expect(report.findings).toEqual([]);
    expect(report.unusedWaivers).toEqual([]);
    expect(report.waived.map((w) => w.rule).sort()).toEqual(["api-request-validator", "api-request-validator", "s3-public-access"]);
  });

  it("without the waivers, names exactly the waived resources", () => {
    const report = checkStacks(platform.stacks);
    expect(report.findings.map((f) => `${f.stack} ${f.address} ${f.rule}`)).toEqual(
      checkStacks(platform.stacks, loadWaivers()).waived.map((f) => `${f.stack} ${f.address} ${f.rule}`),
    );
  });
});

describe("each rule fires on a fixture with one violation", () => {
  it.each(FIXTURES)("%s on %s", (rule, resource, address) => {
    // A fixture is about its rule: the stage of the tracing fixture has no web ACL either, and so on.
    const findings = checkStacks([{ name: "fixture", json: { resource } }]).findings.filter((f) => f.rule === rule);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ stack: "fixture", rule, address, fix: RULES.find((r) => r.id === rule)!.fix });
  });

  it("passes a stage, a function and a table that their alarms and web ACL watch", () => {
    const resource: TerraformJson["resource"] = {
      aws_api_gateway_stage: { s: { ...stage, stage_name: "prod" } },
      aws_wafv2_web_acl_association: { w: { ...meta("waf"), resource_arn: "${aws_api_gateway_stage.s.arn}" } },
      aws_lambda_function: { f: { ...meta("fn"), function_name: "f", tracing_config: { mode: "Active" } } },
      aws_dynamodb_table: { t: { ...goodTable, name: "T" } },
      aws_cloudwatch_metric_alarm: {
        stage: alarm("AWS/ApiGateway", "5XXError", { ApiName: "api", Stage: "${aws_api_gateway_stage.s.stage_name}" }),
        fn: alarm("AWS/Lambda", "Errors", { FunctionName: "${aws_lambda_function.f.function_name}" }),
        table: { ...meta("alarm"), alarm_actions: ["x"], metric_query: [{ id: "m", metric: { namespace: "AWS/DynamoDB", metric_name: "WriteThrottleEvents", dimensions: { TableName: "T" } } }, { id: "e", expression: "SUM(METRICS())" }] },
      },
    };
    expect(checkStacks([{ name: "fixture", json: { resource } }]).findings).toEqual([]);
  });

  it("covers every rule", () => {
    expect(new Set(FIXTURES.map(([rule]) => rule))).toEqual(new Set(RULES.map((r) => r.id)));
  });

  it("reads a route's burst and concurrency per environment, and a usage plan's burst per key", () => {
    const stack = (reserved: unknown, keys: number): TerraformJson => ({
      locals: { environments: { dev: { mars: { burst: 5, reserved: 5 } }, prod: { mars: { burst: 5, reserved: 4 } } } },
      resource: {
        aws_api_gateway_method: { m: { rest_api_id: "api", resource_id: "", http_method: "GET", api_key_required: true } },
        aws_api_gateway_integration: { i: { http_method: "${aws_api_gateway_method.m.http_method}", uri: "${aws_lambda_function.fn.invoke_arn}" } },
        aws_lambda_function: { fn: { function_name: "fetch", tracing_config: { mode: "Active" }, reserved_concurrent_executions: reserved } },
        aws_api_gateway_usage_plan: { p: { name: "displays", api_stages: [{ api_id: "api" }], throttle_settings: { burst_limit: "${local.environment.mars.burst}" } } },
        aws_api_gateway_usage_plan_key: Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, { usage_plan_id: "${aws_api_gateway_usage_plan.p.id}" }])),
      },
    });
    const findings = (json: TerraformJson) => checkStacks([{ name: "s", json }]).findings.filter((f) => f.rule === "burst-within-concurrency").map((f) => f.message);
    expect(findings(stack("${local.environment.mars.reserved}", 1))).toEqual([
      "GET / admits a burst of 5 (usage plan displays, workspace prod) but fetch has reserved concurrency 4: the excess is throttled by Lambda and answered 500",
    ]);
    expect(findings(stack(5, 1))).toEqual([]);
    // Two keys on the plan: each may burst 5, 10 in all, in both workspaces.
    expect(findings(stack(5, 2)).map((m) => m.slice(0, 62))).toEqual(["GET / admits a burst of 10 (usage plan displays, workspace dev", "GET / admits a burst of 10 (usage plan displays, workspace pro"]);
  });

  it("passes an authorizer whose TTL is within the token lifetime, and one that does not cache", () => {
    const fn = { aws_lambda_function: { fn: { tracing_config: { mode: "Active" }, environment: { variables: { [TOKEN_LIFETIME_ENV]: "30" } } } } };
    const authorizer = (ttl: number) => ({ ...fn, aws_api_gateway_authorizer: { a: { authorizer_uri: "${aws_lambda_function.fn.invoke_arn}", authorizer_result_ttl_in_seconds: ttl } } });
    const findings = (ttl: number) => checkStacks([{ name: "ok", json: { resource: authorizer(ttl) } }]).findings.filter((f) => f.rule === "authorizer-ttl");
    expect(findings(30)).toEqual([]);
    expect(findings(0)).toEqual([]);
  });
});
